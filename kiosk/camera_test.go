package kiosk_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
)

// fakeCameras is a camera listing the test rearranges, as plugging
// cameras in another order does.
type fakeCameras struct {
	mu   sync.Mutex
	devs []camera.Device
	err  error
}

func (f *fakeCameras) List(context.Context) ([]camera.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]camera.Device(nil), f.devs...), f.err
}

func (f *fakeCameras) set(devs ...camera.Device) {
	f.mu.Lock()
	f.devs = devs
	f.mu.Unlock()
}

var (
	front = camera.Device{Index: 0, Name: "Integrated Camera", ID: "usb1/1-6"}
	c920  = camera.Device{Index: 1, Name: "HD Pro Webcam C920", ID: "usb1/1-2"}
)

// TestCameraSpecResolve: a stored camera is opened where it is now.
func TestCameraSpecResolve(t *testing.T) {
	moved := c920
	moved.Index = 3
	for _, tc := range []struct {
		name   string
		spec   kiosk.CameraSpec
		list   *fakeCameras
		source string
		note   string
	}{
		{"NoDevice", kiosk.CameraSpec{Source: "1"}, &fakeCameras{devs: []camera.Device{front}}, "1", ""},
		{"File", kiosk.CameraSpec{Source: "walk.avi", Device: c920.Ref()}, &fakeCameras{}, "walk.avi", ""},
		{"InPlace", kiosk.CameraSpec{Source: "1", Device: c920.Ref()}, &fakeCameras{devs: []camera.Device{front, c920}}, "1", ""},
		{"Moved", kiosk.CameraSpec{Source: "1", Device: c920.Ref()}, &fakeCameras{devs: []camera.Device{front, moved}}, "3", `camera "HD Pro Webcam C920" is now at index 3 (was 1)`},
		{"Gone", kiosk.CameraSpec{Source: "1", Device: c920.Ref()}, &fakeCameras{devs: []camera.Device{front}}, "1", `camera "HD Pro Webcam C920" is not connected (1 cameras found); opening index 1`},
		{"ListFails", kiosk.CameraSpec{Source: "1", Device: c920.Ref()}, &fakeCameras{err: errors.New("access denied")}, "1", "cannot list the cameras (access denied)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Lister = tc.list
			got, note := tc.spec.Resolve(context.Background())
			if got.Source != tc.source || !strings.Contains(note, tc.note) || (tc.note == "" && note != "") {
				t.Errorf("Resolve = %q, %q; want %q, %q", got.Source, note, tc.source, tc.note)
			}
			if got.Device != "" && tc.spec.Source != "walk.avi" {
				t.Errorf("Device %q left in the resolved spec", got.Device)
			}
		})
	}
	// The open goes to OpenCV with the resolved index: no camera here, so
	// it fails naming that index.
	spec := kiosk.CameraSpec{Source: "1", Device: c920.Ref(), Lister: &fakeCameras{devs: []camera.Device{front, {Index: camera.MaxDevices - 1, Name: c920.Name, ID: c920.ID}}}}
	if _, err := spec.Open(); !errors.Is(err, engine.ErrCamera) || !strings.Contains(err.Error(), "camera 63 ") {
		t.Errorf("Open of a camera listed at 63: %v", err)
	}
}

// TestStationCameraSettings: without --camera the station opens the
// camera chosen in the settings, finds it again by name and ID when its
// index moved (saying so once), follows an admin's new choice at once, and
// keeps a camera chosen on the error screen while other settings change.
func TestStationCameraSettings(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	var log bytes.Buffer
	cfg := stationConfig(t, &log)
	list := &fakeCameras{devs: []camera.Device{front, c920}}
	cfg.Camera = kiosk.CameraSpec{Source: "0", Lister: list}
	cfg.CameraFromSettings = true
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c := st.Camera(); c.Source != "0" || c.Backend != camera.Auto {
		t.Fatalf("nothing stored: camera %q backend %q, want 0 auto", c.Source, c.Backend)
	}

	// The admin picks the C920 from the list: index and name stored.
	if err := st.SetSettings(ctx, kiosk.Values{"process.camera": "1", "process.camera_device": c920.Ref()}, "admin"); err != nil {
		t.Fatal(err)
	}
	if c := st.Camera(); c.Source != "1" {
		t.Fatalf("after choosing the C920: camera %q, want 1", c.Source)
	}
	// Plugged in another order: the C920 is now 0.
	list.set(camera.Device{Index: 0, Name: c920.Name, ID: c920.ID}, camera.Device{Index: 1, Name: front.Name, ID: front.ID})
	for range 3 {
		if c := st.Camera(); c.Source != "0" {
			t.Fatalf("C920 moved to 0: camera %q", c.Source)
		}
	}
	if n := strings.Count(log.String(), `camera "HD Pro Webcam C920" is now at index 0 (was 1)`); n != 1 {
		t.Errorf("the move was logged %d times, want once:\n%s", n, log.String())
	}

	// The error screen's choice stays while other settings change...
	if err := st.UseCamera("5"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSettings(ctx, kiosk.Values{"face.margin": "0.1", "process.camera_backend": camera.DefaultBackend().String()}, "admin"); err != nil {
		t.Fatal(err)
	}
	if c := st.Camera(); c.Source != "5" || c.Backend != camera.DefaultBackend() {
		t.Errorf("after a margin and backend change: camera %q backend %q, want 5 %q", c.Source, c.Backend, camera.DefaultBackend())
	}
	// ...until the camera setting itself changes.
	if err := st.SetSettings(ctx, kiosk.Values{"process.camera": "2", "process.camera_device": ""}, "admin"); err != nil {
		t.Fatal(err)
	}
	if c := st.Camera(); c.Source != "2" {
		t.Errorf("after choosing index 2: camera %q", c.Source)
	}
	for _, bad := range []kiosk.Values{{"process.camera": "64"}, {"process.camera_backend": "gstreamer"}, {"process.camera_device": strings.Repeat("x", 513)}} {
		if err := st.SetSettings(ctx, bad, "admin"); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestStationCameraFlag: a camera named on the command line wins over
// the stored choice.
func TestStationCameraFlag(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	var log bytes.Buffer
	cfg := stationConfig(t, &log)
	cfg.Camera = kiosk.CameraSpec{Source: "3", Lister: &fakeCameras{devs: []camera.Device{front, c920}}}
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetSettings(ctx, kiosk.Values{"process.camera": "1", "process.camera_device": c920.Ref()}, "admin"); err != nil {
		t.Fatal(err)
	}
	if c := st.Camera(); c.Source != "3" {
		t.Errorf("--camera 3 and a stored 1: camera %q, want 3", c.Source)
	}
}
