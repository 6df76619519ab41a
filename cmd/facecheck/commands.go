package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/demo"
	"github.com/facecheck/facecheck/measure"
	"github.com/facecheck/facecheck/models"
)

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// engineFlags adds the detector and pipeline settings to fs.
type engineFlags struct {
	dir string
	cfg engine.Config
}

func addEngineFlags(fs *flag.FlagSet) *engineFlags {
	ef := &engineFlags{cfg: engine.DefaultConfig()}
	fs.StringVar(&ef.dir, "models", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	fs.IntVar(&ef.cfg.TopK, "topk", ef.cfg.TopK, "detector candidates kept before NMS")
	fs.Func("confidence", fmt.Sprintf("detector confidence (default %.2f)", ef.cfg.Confidence), float32Flag(&ef.cfg.Confidence))
	fs.IntVar(&ef.cfg.Threads, "threads", ef.cfg.Threads, "OpenCV threads (0 = OpenCV's default)")
	fs.BoolVar(&ef.cfg.FlipEmbed, "flip", ef.cfg.FlipEmbed, "average the embedding with the mirrored face's")
	fs.Func("still-context", "still photos: also embed an alignment scaled by this factor (0 = off; default 0.9)", float32Flag(&ef.cfg.StillContext))
	fs.BoolVar(&ef.cfg.RefineLandmarks, "refine", ef.cfg.RefineLandmarks, "average landmarks over 4 views")
	return ef
}

func (ef *engineFlags) open() (*engine.Engine, error) {
	st, err := models.Open(ef.dir)
	if err != nil {
		return nil, err
	}
	return engine.New(st, ef.cfg)
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "fetch" && args[0] != "verify") {
		return fmt.Errorf("usage: facecheck models fetch|verify [--dir DIR]")
	}
	fs := newFlags("models "+args[0], stderr)
	dir := fs.String("dir", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := models.Open(*dir)
	if err != nil {
		return err
	}
	if args[0] == "verify" {
		if err := st.Verify(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "models: all %d verified in %s\n", len(st.Manifest.Models), st.Dir)
		return nil
	}
	st.Progress = models.ProgressLine(stdout, models.IsTerminal(stdout))
	return st.Fetch(ctx, stdout)
}

func runEval(args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--open-set" || a == "-open-set" || a == "--open-set=true" {
			return runOpenSet(args, stdout, stderr)
		}
	}
	fs := newFlags("eval", stderr)
	labels := fs.String("labels", "", "CSV with columns path,identity[,group]")
	relabel := fs.String("relabel", "", "CSV path,identity,evidence of label corrections to apply (e.g. measure/testdata/devfaces-relabel.csv)")
	root := fs.String("root", "", "directory the CSV's paths are relative to")
	pairs := fs.String("lfw-pairs", "", "LFW pairs.txt: run the 10-fold verification protocol instead")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	rocOut := fs.String("roc", "", "draw the ROC curve to this PNG")
	ef := addEngineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *root == "" || (*labels == "" && *pairs == "") {
		return fmt.Errorf("eval needs --root and --labels (or --lfw-pairs)")
	}
	e, err := ef.open()
	if err != nil {
		return err
	}
	defer e.Close()
	if *pairs != "" {
		rep, err := measure.LFW(e, *pairs, *root, stderr)
		if err != nil {
			return err
		}
		rep.Print(stdout)
		return writeJSON(*jsonOut, rep)
	}
	samples, err := measure.ReadLabelSet(*labels, measure.LabelOptions{Relabel: *relabel})
	if err != nil {
		return err
	}
	probes := measure.EncodeAll(e, *root, samples, stderr)
	rep, err := measure.Evaluate(probes)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *rocOut != "" {
		if err := measure.PlotROC(*rocOut, "facecheck ROC ("+*labels+")", rep.ROC().Curve()); err != nil {
			return err
		}
	}
	return writeJSON(*jsonOut, rep)
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	input := fs.String("input", "", "folder of images or a video file")
	frames := fs.Int("frames", 0, "stop after this many frames (0 = all)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	ef := addEngineFlags(fs)
	ftz := fs.Bool("ftz", false, "flush denormals to zero (FTZ/DAZ) on the benchmark thread and OpenCV's workers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The engine runs on this goroutine; pin it to one OS thread so a
	// per-thread CPU mode (FTZ/DAZ) stays in force.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if *ftz && !engine.FlushDenormals(true) {
		return fmt.Errorf("bench: --ftz is only supported on x86")
	}
	if *input == "" {
		return fmt.Errorf("bench needs --input DIR_OR_VIDEO")
	}
	e, err := ef.open()
	if err != nil {
		return err
	}
	defer e.Close()
	rep, err := measure.Bench(e, *input, *frames, []int{1000, 10000, 100000}, stderr)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	return writeJSON(*jsonOut, rep)
}

// runDemo is `facecheck demo`: the dev faces walking up on a generated
// video, played through the kiosk's check-in state machine, a readable line
// per prompt and result. Ctrl-C stops it.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	faces := facesDir()
	var o demo.Options
	fs.StringVar(&o.Labels, "labels", filepath.Join(faces, "labels.csv"), "labelled faces CSV (default from $FACECHECK_FACES)")
	fs.StringVar(&o.Root, "root", filepath.Join(faces, "images"), "image root of the CSV")
	fs.IntVar(&o.People, "people", 5, "enrolled people in the video (one more walks up not enrolled)")
	fs.StringVar(&o.Video, "video", "", "keep the generated video at this path")
	fs.BoolVar(&o.Verbose, "v", false, "also print every state change and a line per frame with a face")
	fs.StringVar(&o.Models, "models", "", "model directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, err := demo.Run(ctx, o, stdout)
	return err
}
