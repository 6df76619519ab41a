package engine_test

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/engine"
)

// TestVideoFile writes an MJPG AVI and reads it back frame by frame to
// io.EOF, through the path a kiosk's --camera FILE takes.
func TestVideoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.avi")
	w, err := engine.CreateVideo(path, 10, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	im := engine.Image{W: 64, H: 48, Pix: make([]byte, 64*48*3)}
	for i := range im.Pix {
		im.Pix[i] = byte(i % 251)
	}
	const n = 5
	for range n {
		if err := w.Write(im); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	v, err := engine.OpenVideo(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if fps := v.FPS(); fps != 10 {
		t.Errorf("FPS = %v, want 10", fps)
	}
	for i := range n {
		got, err := v.Read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.W != 64 || got.H != 48 {
			t.Fatalf("frame %d is %dx%d", i, got.W, got.H)
		}
	}
	if _, err := v.Read(); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
	if _, err := engine.OpenVideo(filepath.Join(t.TempDir(), "none.avi"), 0, 0); !errors.Is(err, engine.ErrCamera) {
		t.Errorf("a missing video: %v, want ErrCamera", err)
	}
}

// TestOpenDevice asks OpenCV for a device through each backend of this
// system. There is no camera on the reference machine (no
// /sys/class/video4linux): every open must fail as ErrCamera naming the
// backend; a camera at that index would open instead (logged). Backends of
// other systems are refused before OpenCV is asked.
func TestOpenDevice(t *testing.T) {
	devs, err := camera.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const index = camera.MaxDevices - 1
	for _, b := range append([]camera.Backend{camera.Auto}, camera.Backends()...) {
		v, err := engine.OpenDevice(index, b, 640, 480)
		if err == nil {
			t.Logf("backend %q: camera %d opened (%d cameras listed)", b, index, len(devs))
			v.Close()
			continue
		}
		if !errors.Is(err, engine.ErrCamera) || !strings.Contains(err.Error(), string(b.Resolve())) {
			t.Errorf("backend %q: %v, want ErrCamera naming %q", b, err, b.Resolve())
		}
	}
	for _, tc := range []struct {
		index   int
		backend camera.Backend
		want    string
	}{
		{0, "gstreamer", "not available on this system"},
		{-1, camera.Auto, "out of range"},
		{camera.MaxDevices, camera.Auto, "out of range"},
	} {
		if _, err := engine.OpenDevice(tc.index, tc.backend, 0, 0); !errors.Is(err, engine.ErrCamera) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenDevice(%d, %q) = %v, want ErrCamera: %s", tc.index, tc.backend, err, tc.want)
		}
	}
	foreign := map[camera.Backend]bool{camera.V4L2: true, camera.DirectShow: true, camera.MediaFoundation: true, camera.AVFoundation: true}
	for _, b := range camera.Backends() {
		delete(foreign, b)
	}
	for b := range foreign {
		if _, err := engine.OpenDevice(0, b, 0, 0); err == nil || !strings.Contains(err.Error(), "not available on this system") {
			t.Errorf("backend %q of another system: %v", b, err)
		}
	}
}
