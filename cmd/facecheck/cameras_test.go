package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/camera"
)

// TestCamerasList: `facecheck cameras` prints each camera's index and
// name (and ID with --ids) in columns, or says there is none.
func TestCamerasList(t *testing.T) {
	devs := []camera.Device{
		{Index: 0, Name: "Integrated Camera", ID: "devices/pci0000:00/usb1/1-6/1-6:1.0"},
		{Index: 2, Name: "HD Pro Webcam C920", ID: "devices/pci0000:00/usb1/1-2/1-2:1.0"},
	}
	for _, tc := range []struct {
		name string
		devs []camera.Device
		ids  bool
		want []string
	}{
		{"Two", devs, false, []string{"index  name", "0      Integrated Camera", "2      HD Pro Webcam C920", "open one with --camera INDEX"}},
		{"IDs", devs, true, []string{"index  name                id", "2      HD Pro Webcam C920  devices/pci0000:00/usb1/1-2/1-2:1.0"}},
		{"None", nil, false, []string{"no camera found (backend " + camera.DefaultBackend().String() + ")"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printCameras(&b, tc.devs, tc.ids); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			if !tc.ids && strings.Contains(b.String(), "usb1") {
				t.Errorf("IDs printed without --ids:\n%s", b.String())
			}
		})
	}
	// This machine's own cameras (none on the reference machine, which
	// has no V4L2 device): the command runs and says what it found.
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"cameras"}, &out, &errb); err != nil {
		t.Fatalf("facecheck cameras: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "no camera found") && !strings.Contains(out.String(), "index") {
		t.Errorf("facecheck cameras printed:\n%s", out.String())
	}
	t.Logf("facecheck cameras on this machine:\n%s", out.String())
}
