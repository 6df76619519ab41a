package measure_test

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/measure"
)

var devProbes struct {
	once   sync.Once
	probes []measure.Probe
	err    error
}

// encodedDevFaces runs the real engine over the 440 dev photos once per
// test binary; the closed-set and open-set tests share the result.
func encodedDevFaces(t *testing.T) []measure.Probe {
	t.Helper()
	if testing.Short() {
		t.Skip("encodes 440 photos")
	}
	dir := testenv.Faces(t)
	st := testenv.Models(t)
	devProbes.once.Do(func() {
		e, err := engine.New(st, engine.DefaultConfig())
		if err != nil {
			devProbes.err = err
			return
		}
		defer e.Close()
		samples, err := measure.ReadLabelsFile(filepath.Join(dir, "labels.csv"))
		if err != nil {
			devProbes.err = err
			return
		}
		var log bytes.Buffer
		devProbes.probes = measure.EncodeAll(e, filepath.Join(dir, "images"), samples, &log)
	})
	if devProbes.err != nil {
		t.Fatal(devProbes.err)
	}
	return devProbes.probes
}
