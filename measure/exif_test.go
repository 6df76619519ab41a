package measure_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/measure"
)

// TestEvalEXIFOrientations: `facecheck eval` reads a photo the way it
// is meant to be seen: the eight EXIF orientations of a dev face, as a
// phone stores them, are all detected and give the upright photo's
// embedding.
func TestEvalEXIFOrientations(t *testing.T) {
	if testing.Short() {
		t.Skip("real engine")
	}
	faces := testenv.Faces(t)
	eng, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	upright, err := engine.LoadImage(filepath.Join(faces, "images/colin_powell/lfw_Colin_Powell_0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	samples := []measure.Sample{{Path: "upright.jpg", Identity: "colin_powell"}}
	if err := os.WriteFile(filepath.Join(dir, "upright.jpg"), testenv.PhoneJPEG(t, upright.RGBA(false), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for o := 1; o <= 8; o++ {
		name := filepath.Join("phone", string(rune('0'+o))+".jpg")
		if err := os.MkdirAll(filepath.Join(dir, "phone"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), testenv.PhoneJPEG(t, upright.RGBA(false), o), 0o644); err != nil {
			t.Fatal(err)
		}
		samples = append(samples, measure.Sample{Path: name, Identity: "colin_powell"})
	}
	probes := measure.EncodeAll(eng, dir, samples, io.Discard)
	if !probes[0].Detected {
		t.Fatalf("upright photo: %s", probes[0].Err)
	}
	for _, p := range probes[1:] {
		if !p.Detected {
			t.Errorf("%s: no face: %s", p.Path, p.Err)
			continue
		}
		if c := engine.Cosine(probes[0].Embedding, p.Embedding); c < 0.8 {
			t.Errorf("%s: cosine to the upright photo %.3f, want >= 0.8", p.Path, c)
		}
	}
}
