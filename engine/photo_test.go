package engine_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/measure"
)

// Registration photos: nearly every dev photo is accepted, and the
// rejections that happen name a reason.
func TestEnrolPhotoOnDevFaces(t *testing.T) {
	e := newEngine(t)
	dir := testenv.Faces(t)
	samples, err := measure.ReadLabelsFile(filepath.Join(dir, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[engine.Reason]int{}
	ok := 0
	for _, s := range samples {
		im, err := engine.LoadImage(filepath.Join(dir, "images", s.Path))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.EnrolPhoto(im)
		var rej *engine.RejectedError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &rej):
			reasons[rej.Issues[0].Reason]++
		default:
			t.Fatalf("%s: %v", s.Path, err)
		}
	}
	t.Logf("accepted %d of %d; first reasons of rejections: %v", ok, len(samples), reasons)
	if ok < len(samples)*85/100 {
		t.Errorf("accepted %d of %d dev photos, want >= 85%%", ok, len(samples))
	}
}

func TestEnrolPhotoRejects(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		file string
		want engine.Reason
	}{
		{"groups/face_recognition__two_people.jpg", engine.ReasonManyFaces},
		{"groups/deepface__couple.jpg", engine.ReasonManyFaces},
	}
	for _, tt := range tests {
		_, err := e.EnrolPhoto(loadFace(t, tt.file))
		var rej *engine.RejectedError
		if !errors.As(err, &rej) || !hasReason(rej.Issues, tt.want) {
			t.Errorf("%s: %v, want rejection %s", tt.file, err, tt.want)
		}
	}
	// A blurred face is refused as blurry.
	im := loadFace(t, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	blurred := boxBlur(im, 6)
	_, err := e.EnrolPhoto(blurred)
	var rej *engine.RejectedError
	if !errors.As(err, &rej) || !hasReason(rej.Issues, engine.ReasonBlur) {
		t.Errorf("blurred photo: %v, want blur rejection", err)
	}
}

// boxBlur averages each pixel with its (2r+1)² neighbourhood.
func boxBlur(im engine.Image, r int) engine.Image {
	out := engine.Image{W: im.W, H: im.H, Pix: make([]byte, len(im.Pix))}
	for y := 0; y < im.H; y++ {
		for x := 0; x < im.W; x++ {
			for c := 0; c < 3; c++ {
				s, n := 0, 0
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						xx, yy := x+dx, y+dy
						if xx >= 0 && yy >= 0 && xx < im.W && yy < im.H {
							s += int(im.Pix[(yy*im.W+xx)*3+c])
							n++
						}
					}
				}
				out.Pix[(y*im.W+x)*3+c] = byte(s / n)
			}
		}
	}
	return out
}
