package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/measure"
	"github.com/facecheck/facecheck/models"
)

// runOpenSet is `facecheck eval --open-set`: the open-set 1:N evaluation
// (NIST FRVT 1:N style), optionally with thresholds self-calibrated from the
// enrolled templates alone.
func runOpenSet(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval --open-set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	labels := fs.String("labels", "", "CSV with columns path,identity[,group]")
	groupCol := fs.String("group-column", "group", "labels column that names each photo's population group (e.g. source_repo); figures are also given per group")
	relabel := fs.String("relabel", "", "CSV path,identity,evidence of label corrections to apply (e.g. measure/testdata/devfaces-relabel.csv)")
	root := fs.String("root", "", "directory the CSV's paths are relative to")
	splits := fs.Int("splits", 10, "random enrolled/non-enrolled splits")
	enrolK := fs.Int("enrol-per-id", 1, "photos enrolled per enrolled identity")
	seed := fs.Uint64("seed", 1, "split seed")
	seeds := fs.Int("seeds", 1, "also repeat the headline figures (FNIR @ FPIR 1e-2, the calibrated ratio and FNIR) over this many consecutive seeds from --seed, and give their range and mean")
	cal := fs.Bool("calibrate", false, "derive thresholds from the enrolled templates alone and measure them")
	target := fs.Float64("target-fpir", 1e-2, "target false-positive identification rate per check-in for --calibrate")
	maxPairs := fs.Int("max-pairs", 0, "impostor pairs sampled for calibration (0 = all)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	detOut := fs.String("det", "", "draw the DET curve (FNIR vs FPIR) to this PNG")
	fuse := fs.Int("fuse", 0, "also measure multi-frame decisions: generate this many jittered frames per probe (3 is a kiosk's few still frames) and compare single frame, fused and max-score FNIR (0 = off)")
	margin := fs.Float64("margin", measure.DefaultMargin, "margin routing: lead over the second-best identity below which an accepted match goes to second verification")
	modelDir := fs.String("models", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	fs.Bool("open-set", true, "accepted for `facecheck eval --open-set` routing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *labels == "" || *root == "" {
		return fmt.Errorf("eval --open-set needs --labels and --root")
	}
	if *splits < 1 || *enrolK < 1 || *seeds < 1 {
		return fmt.Errorf("eval --open-set: --splits, --enrol-per-id and --seeds must be at least 1")
	}
	if *fuse < 0 || *fuse > 32 {
		return fmt.Errorf("eval --open-set: --fuse %d, want 0..32 frames", *fuse)
	}
	if !(*margin > 0 && *margin < 1) {
		return fmt.Errorf("eval --open-set: --margin %g must be in (0, 1)", *margin)
	}
	if *cal && !(*target > 0 && *target < 1) {
		return fmt.Errorf("eval --open-set: --target-fpir %g must be in (0, 1)", *target)
	}
	samples, err := measure.ReadLabelSet(*labels, measure.LabelOptions{Relabel: *relabel, GroupColumn: *groupCol})
	if err != nil {
		return err
	}
	st, err := models.Open(*modelDir)
	if err != nil {
		return err
	}
	e, err := engine.New(st, engine.DefaultConfig())
	if err != nil {
		return err
	}
	defer e.Close()
	probes := measure.EncodeAll(e, *root, samples, stderr)
	var frames []measure.FrameSet
	if *fuse > 0 {
		// Each probe is decoded once and its frames encoded once; every
		// split reuses them.
		frames = measure.EncodeFrames(e, *root, samples, *fuse, *seed, stderr)
	}
	opts := measure.OpenSetOptions{
		Splits: *splits, EnrolPerID: *enrolK, Seed: *seed,
		Calibrate: *cal, TargetFPIR: *target, MaxPairs: *maxPairs,
		Margin: *margin, Frames: frames,
	}
	rep, err := measure.OpenSet(probes, opts)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *seeds > 1 {
		if rep.Seeds, err = measure.Seeds(probes, opts, *seeds); err != nil {
			return err
		}
		measure.PrintSeeds(stdout, rep.Seeds)
	}
	if *detOut != "" {
		if err := measure.PlotDET(*detOut, "facecheck open-set DET ("+*labels+relabelNote(*relabel)+")", rep.DET()); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("eval --open-set: %w", err)
		}
	}
	return nil
}

// relabelNote names the label corrections in a plot's title.
func relabelNote(path string) string {
	if path == "" {
		return ""
	}
	return ", corrected by " + filepath.Base(path)
}
