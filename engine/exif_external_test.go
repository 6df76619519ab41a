package engine_test

import (
	"bytes"
	"image/jpeg"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
)

// jpegWithOrientation encodes the stored picture im with EXIF orientation o.
func jpegWithOrientation(tb testing.TB, im engine.Image, o int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, im.RGBA(false), &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return engine.WithOrientation(tb, buf.Bytes(), o)
}

// A phone portrait enrols whichever way the phone was held: the eight
// orientations of a dev face all give the upright photo's embedding.
func TestEnrolPhotoEXIFOrientations(t *testing.T) {
	st := testenv.Models(t)
	e, err := engine.New(st, engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	upright, err := engine.LoadImage(filepath.Join(testenv.Faces(t), "images/colin_powell/lfw_Colin_Powell_0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.EnrolPhoto(upright)
	if err != nil {
		t.Fatal(err)
	}
	for o := 1; o <= 8; o++ {
		im, err := engine.DecodeImage(jpegWithOrientation(t, engine.StoredAs(upright, o), o))
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		enc, err := e.EnrolPhoto(im)
		if err != nil {
			t.Errorf("orientation %d: %v", o, err)
			continue
		}
		if c := engine.Cosine(ref.Embedding, enc.Embedding); c < 0.8 {
			t.Errorf("orientation %d: cosine to the upright photo %.3f, want >= 0.8", o, c)
		}
	}
}
