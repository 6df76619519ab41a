package measure

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/facecheck/facecheck/engine"
)

// BenchReport holds per-stage timings in milliseconds. JSON keys are
// <stage>_ms_p50 / <stage>_ms_p95 and search_<n>_ms_p50.
type BenchReport map[string]float64

// Stages in pipeline order, as reported.
var Stages = []string{"decode", "detect", "landmarks", "gates", "align", "embed", "liveness", "pose", "pipeline", "total"}

// frameSource yields frames with their decode time.
type frameSource func() (engine.Image, time.Duration, error)

func openInput(input string) (frameSource, func(), error) {
	fi, err := os.Stat(input)
	if err != nil {
		return nil, nil, fmt.Errorf("bench input: %w", err)
	}
	if fi.IsDir() {
		var files []string
		err := filepath.WalkDir(input, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(p))
			if !d.IsDir() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("bench input: %w", err)
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("bench input %s: no .jpg or .png files", input)
		}
		i := 0
		return func() (engine.Image, time.Duration, error) {
			if i == len(files) {
				return engine.Image{}, 0, io.EOF
			}
			t := time.Now()
			im, err := engine.LoadImage(files[i])
			i++
			return im, time.Since(t), err
		}, func() {}, nil
	}
	v, err := engine.OpenVideo(input, 0, 0)
	if err != nil {
		return nil, nil, err
	}
	return func() (engine.Image, time.Duration, error) {
		t := time.Now()
		im, err := v.Read()
		return im, time.Since(t), err
	}, func() { v.Close() }, nil
}

// Bench runs the full per-frame pipeline over every frame of input (a folder
// of images or a video) and times each stage, then times 1:N search over
// synthetic galleries. Frames without a face count for decode and detect only.
func Bench(e *engine.Engine, input string, maxFrames int, galleries []int, log io.Writer) (BenchReport, error) {
	next, closeFn, err := openInput(input)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	samples := map[string][]time.Duration{}
	gates := engine.DefaultGates()
	frames := 0
	prog := NewProgress(log, "bench", "frames", max(maxFrames, 0))
	defer func() { prog.Done(frames) }()
	for maxFrames <= 0 || frames < maxFrames {
		prog.Step(frames)
		im, dec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			prog.Printf("bench: skip frame: %v\n", err)
			continue
		}
		frames++
		// Downscale as a kiosk does: a 640x480 camera frame.
		im = engine.Downscale(im, 640)
		t0 := time.Now()
		a, err := e.Analyze(im, engine.AnalyzeOptions{Gates: gates, Pose: true, Liveness: true})
		if err != nil {
			return nil, fmt.Errorf("bench: analyze frame %d: %w", frames, err)
		}
		samples["decode"] = append(samples["decode"], dec)
		samples["detect"] = append(samples["detect"], a.Timings.Detect)
		if len(a.Faces) == 0 {
			continue
		}
		t1 := time.Now()
		aligned, err := e.Align(im, a.Landmarks)
		if err != nil {
			return nil, err
		}
		t2 := time.Now()
		if _, err := e.EmbedAligned(aligned); err != nil {
			return nil, err
		}
		t3 := time.Now()
		tm := a.Timings
		samples["landmarks"] = append(samples["landmarks"], tm.Landmarks)
		samples["gates"] = append(samples["gates"], tm.Gates+tm.Eyes)
		samples["liveness"] = append(samples["liveness"], tm.Liveness)
		samples["pose"] = append(samples["pose"], tm.Pose)
		samples["align"] = append(samples["align"], t2.Sub(t1))
		samples["embed"] = append(samples["embed"], t3.Sub(t2))
		// pipeline: detect+landmarks+gates+align+embed, what a check-in needs
		// per recognised frame (pose and liveness run on fewer frames).
		samples["pipeline"] = append(samples["pipeline"], tm.Detect+tm.Landmarks+tm.Gates+tm.Eyes+t3.Sub(t1))
		samples["total"] = append(samples["total"], dec+t3.Sub(t0))
	}
	if frames == 0 {
		return nil, fmt.Errorf("bench input %s: no frames", input)
	}
	rep := BenchReport{"frames": float64(frames), "faces": float64(len(samples["embed"]))}
	for _, s := range Stages {
		if len(samples[s]) == 0 {
			continue
		}
		m := Millis(samples[s])
		rep[s+"_ms_p50"] = round4(Percentile(m, 50))
		rep[s+"_ms_p95"] = round4(Percentile(m, 95))
	}
	for _, n := range galleries {
		p50, p95 := BenchSearch(n, 50)
		rep[fmt.Sprintf("search_%s_ms_p50", sizeName(n))] = round4(p50)
		rep[fmt.Sprintf("search_%s_ms_p95", sizeName(n))] = round4(p95)
	}
	return rep, nil
}

func sizeName(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// RandomTemplate is a template of a random unit vector, for search timing.
func RandomTemplate(r *rand.Rand) engine.Template {
	e := make(engine.Embedding, engine.Dim)
	for i := range e {
		e[i] = float32(r.NormFloat64())
	}
	t, _ := engine.Quantize(engine.Normalize(e))
	return t
}

// BenchSearch times Gallery.Search over n synthetic identities.
func BenchSearch(n, runs int) (p50, p95 float64) {
	r := rand.New(rand.NewPCG(1, 2))
	g := engine.NewGallery(1)
	for i := 0; i < n; i++ {
		_ = g.Add(fmt.Sprint(i), RandomTemplate(r))
	}
	probe := RandomTemplate(r)
	var ds []time.Duration
	for i := 0; i < runs; i++ {
		t := time.Now()
		g.Search(&probe)
		ds = append(ds, time.Since(t))
	}
	m := Millis(ds)
	return Percentile(m, 50), Percentile(m, 95)
}

// Print writes the report as a table.
func (r BenchReport) Print(w io.Writer) {
	fmt.Fprintf(w, "frames %.0f, with a face %.0f\n", r["frames"], r["faces"])
	fmt.Fprintf(w, "%-10s %9s %9s\n", "stage", "p50 ms", "p95 ms")
	for _, s := range Stages {
		if v, ok := r[s+"_ms_p50"]; ok {
			fmt.Fprintf(w, "%-10s %9.2f %9.2f\n", s, v, r[s+"_ms_p95"])
		}
	}
	var keys []string
	for k := range r {
		if strings.HasPrefix(k, "search_") && strings.HasSuffix(k, "_p50") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%-18s %9.3f ms p50, %9.3f ms p95\n", strings.TrimSuffix(k, "_ms_p50"), r[k], r[strings.TrimSuffix(k, "p50")+"p95"])
	}
}
