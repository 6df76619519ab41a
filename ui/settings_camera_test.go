package ui

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/kiosk"
)

// TestSettingsCameraChoice: the settings pane lists the cameras by name;
// the stored one shows picked where it is now (found by its ID after
// plugging order moved it); picking another stores its index with its
// name and ID; typing a file into the entry stores the file and drops the
// name. No camera, or a listing that fails, is said under the field.
func TestSettingsCameraChoice(t *testing.T) {
	front := camera.Device{Index: 0, Name: "Integrated Camera", ID: "usb1/1-6"}
	c920 := camera.Device{Index: 1, Name: "HD Pro Webcam C920", ID: "usb1/1-2"}
	moved := c920
	moved.Index = 2
	var (
		devs    = []camera.Device{front, moved}
		listErr error
	)
	values := kiosk.Defaults()
	values["process.camera"], values["process.camera_device"] = "1", c920.Ref()
	h := newHarness(t, func(o *Options) {
		o.Settings = SettingSpecs(values)
		o.ListCameras = func(context.Context) ([]camera.Device, error) { return devs, listErr }
	})
	h.app.inline = true
	for _, s := range h.app.opts.Settings {
		if s.Key == "process.camera_device" {
			t.Fatal("the camera's name is a field of its own in the pane")
		}
	}
	h.openSettings()
	c := h.app.settings.camera
	if c == nil {
		t.Fatal("no camera list in the pane")
	}
	if got, want := c.pick.Options, []string{"0: Integrated Camera", "2: HD Pro Webcam C920"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("options %q, want %q", got, want)
	}
	if c.pick.Selected != "2: HD Pro Webcam C920" || c.field.entry.Text != "1" {
		t.Errorf("stored C920, now at 2: picked %q, entry %q", c.pick.Selected, c.field.entry.Text)
	}
	test.Tap(h.app.settings.apply)
	if n := len(h.apply); n != 0 {
		t.Errorf("nothing changed, but applied %v", h.apply)
	}

	c.pick.SetSelected("0: Integrated Camera")
	if c.field.entry.Text != "0" {
		t.Errorf("picking camera 0 put %q in the entry", c.field.entry.Text)
	}
	test.Tap(h.app.settings.apply)
	if len(h.apply) != 1 || h.apply[0]["process.camera"] != "0" || h.apply[0]["process.camera_device"] != front.Ref() {
		t.Fatalf("picking camera 0 applied %v", h.apply)
	}

	c.field.entry.SetText("walk.avi") // as typed: a file of its own
	if c.pick.Selected != "" {
		t.Errorf("typing a file left %q picked", c.pick.Selected)
	}
	test.Tap(h.app.settings.apply)
	if len(h.apply) != 2 || h.apply[1]["process.camera"] != "walk.avi" || h.apply[1]["process.camera_device"] != "" {
		t.Fatalf("typing a file applied %v", h.apply[1:])
	}

	for _, tc := range []struct {
		devs []camera.Device
		err  error
		want string
	}{
		{nil, nil, "No camera found. Connect one, or type a video file or image folder."},
		{nil, errors.New("access denied"), "The cameras could not be listed; type a camera number."},
	} {
		devs, listErr = tc.devs, tc.err
		h.app.CloseAdmin()
		h.openSettings()
		if got := h.app.settings.camera.status.Text; got != tc.want {
			t.Errorf("listing %v, %v: status %q, want %q", tc.devs, tc.err, got, tc.want)
		}
		if len(h.app.settings.camera.pick.Options) != 0 {
			t.Errorf("options %q with no camera", h.app.settings.camera.pick.Options)
		}
	}
}
