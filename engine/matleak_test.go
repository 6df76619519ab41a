//go:build matprofile

package engine_test

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facecheck/facecheck/engine"
)

// TestNoMatLeaks runs every engine entry point and checks that each gocv.Mat
// made along the way was closed (run with -tags matprofile; scripts/test does).
func TestNoMatLeaks(t *testing.T) {
	e := newEngine(t)
	im := loadFace(t, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	group := loadFace(t, "groups/face_recognition__two_people.jpg")
	before := gocv.MatProfile.Count()
	for _, frame := range []engine.Image{im, group, engine.Downscale(group, 320)} {
		enc, err := e.Encode(frame)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.EnrolPhoto(frame); err != nil {
			t.Log(err) // a rejection is fine here; leaks are what is checked
		}
		a, err := e.Analyze(frame, engine.AnalyzeOptions{Gates: engine.DefaultGates(), Pose: true, Liveness: true, Prev: &enc.Face.Box})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Embed(frame, a.Landmarks); err != nil {
			t.Fatal(err)
		}
		al, err := e.Align(frame, enc.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.EmbedAligned(al); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Eyes(frame, enc.Landmarks); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Pose(frame, enc.Face, enc.Landmarks); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Liveness(frame, enc.Face); err != nil {
			t.Fatal(err)
		}
	}
	// Error paths close what they opened too.
	if _, err := e.Encode(engine.Image{W: 64, H: 64, Pix: make([]byte, 64*64*3)}); err == nil {
		t.Fatal("blank frame encoded")
	}
	_ = engine.Downscale(im, 100)
	if n := gocv.MatProfile.Count() - before; n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats leaked:\n%s", n, b.String())
	}
}
