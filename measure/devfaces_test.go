package measure_test

import (
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/measure"
)

// devCache runs the real engine over the 440 dev photos once per test
// binary and keeps the result, so several tests share one pass.
type devCache[T any] struct {
	once sync.Once
	val  T
	err  error
}

func (c *devCache[T]) get(t *testing.T, what string, run func(e *engine.Engine, root string, samples []measure.Sample) T) T {
	t.Helper()
	if testing.Short() {
		t.Skip("encodes " + what)
	}
	dir := testenv.Faces(t)
	st := testenv.Models(t)
	c.once.Do(func() {
		e, err := engine.New(st, engine.DefaultConfig())
		if err != nil {
			c.err = err
			return
		}
		defer e.Close()
		samples, err := measure.ReadLabelsFile(filepath.Join(dir, "labels.csv"))
		if err != nil {
			c.err = err
			return
		}
		c.val = run(e, filepath.Join(dir, "images"), samples)
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.val
}

var devProbes devCache[[]measure.Probe]

// encodedDevFaces: every dev photo through the engine, shared by the
// closed-set and open-set tests.
func encodedDevFaces(t *testing.T) []measure.Probe {
	t.Helper()
	return devProbes.get(t, "440 photos", func(e *engine.Engine, root string, samples []measure.Sample) []measure.Probe {
		return measure.EncodeAll(e, root, samples, io.Discard)
	})
}

var devFrames devCache[[]measure.FrameSet]

// encodedDevFrames generates and encodes 3 jittered frames of each of the
// 440 dev photos (~1,300 encodes).
func encodedDevFrames(t *testing.T) []measure.FrameSet {
	t.Helper()
	return devFrames.get(t, "1,320 frames", func(e *engine.Engine, root string, samples []measure.Sample) []measure.FrameSet {
		return measure.EncodeFrames(e, root, samples, 3, 1, io.Discard)
	})
}

// relabelledDevFaces is encodedDevFaces with the committed label
// corrections (testdata/devfaces-relabel.csv) applied.
func relabelledDevFaces(t *testing.T) []measure.Probe {
	t.Helper()
	probes := append([]measure.Probe(nil), encodedDevFaces(t)...)
	fixes, err := measure.ReadRelabelsFile(filepath.Join("testdata", "devfaces-relabel.csv"))
	if err != nil {
		t.Fatal(err)
	}
	samples := make([]measure.Sample, len(probes))
	for i := range probes {
		samples[i] = probes[i].Sample
	}
	samples, err = measure.ApplyRelabels(samples, fixes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range probes {
		probes[i].Sample = samples[i]
	}
	return probes
}
