package ui

import (
	"image"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/kiosk"
)

// gateSpecs are the face settings the overlays show, with the limits the
// tests expect in the readout.
func gateSpecs() []SettingSpec {
	return []SettingSpec{
		{Key: "face.min_size", Label: "Minimum face size", Min: 0.05, Max: 0.95, Value: "0.22", Limit: LimitMinFace},
		{Key: "face.max_size", Label: "Maximum face size", Min: 0.1, Max: 1, Value: "0.85", Limit: LimitMaxFace},
		{Key: "face.blur", Label: "Blur threshold", Min: 0, Max: 2000, Value: "60", Limit: LimitMinBlur},
		{Key: "face.min_brightness", Label: "Minimum brightness", Min: 0, Max: 254, Value: "60", Limit: LimitMinBrightness},
		{Key: "face.max_brightness", Label: "Maximum brightness", Min: 1, Max: 255, Value: "200", Limit: LimitMaxBrightness},
		{Key: "face.max_yaw", Label: "Max head turn", Min: 5, Max: 90, Value: "25", Limit: LimitMaxYaw},
		{Key: "face.max_pitch", Label: "Max head tilt", Min: 5, Max: 90, Value: "20", Limit: LimitMaxPitch},
		{Key: "face.max_roll", Label: "Max sideways tilt", Min: 5, Max: 90, Value: "15", Limit: LimitMaxRoll},
		{Key: "face.accept", Label: "Accept threshold", Min: 0, Max: 1, Value: "0.5"},
	}
}

// unlockSettings sets the PIN on first use and opens the settings pane.
func unlockSettings(t *testing.T, h *harness) {
	t.Helper()
	test.Tap(h.app.main.gear)
	test.Type(h.app.pin.pin, "2468")
	test.Type(h.app.pin.repeat, "2468")
	test.Tap(h.app.pin.submit)
	h.wantScreen(ScreenSettings)
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 0.6 }

// wantBox checks a box's place and size in its overlay, in Fyne units.
func wantBox(t *testing.T, what string, o fyne.CanvasObject, x, y, w, h float32) {
	t.Helper()
	if !o.Visible() {
		t.Fatalf("%s hidden", what)
	}
	p, s := o.Position(), o.Size()
	if !near(p.X, x) || !near(p.Y, y) || !near(s.Width, w) || !near(s.Height, h) {
		t.Errorf("%s at %v size %v, want (%.1f,%.1f) %.1fx%.1f", what, p, s, x, y, w, h)
	}
}

// The settings pane's preview shows the min and max face-size boxes and
// the live measures with their limits; editing the face size moves the
// boxes at once, and the kiosk screen shows the same while switched on.
func TestSettingsOverlays(t *testing.T) {
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	h := newHarness(t, func(o *Options) {
		o.Settings = gateSpecs()
		o.Frames = func() image.Image { return frame }
	})
	a := h.app
	a.PreviewFrame()
	if a.main.overlay.boxes.Visible() || a.main.overlay.readout.Visible() {
		t.Fatal("overlays on the kiosk screen before they are switched on")
	}
	unlockSettings(t, h)
	o := a.settings.overlay
	if got := o.noFace.Text; !o.noFace.Visible() || got != "No face in view" {
		t.Errorf("readout without a face: %q (visible %v)", got, o.noFace.Visible())
	}
	for k, l := range o.lines {
		if l.Visible() {
			t.Errorf("%s line shown without a face", k)
		}
	}

	// The 640x480 frame fills the 4:3 preview: a box of 0.22 of the frame
	// height is 0.22 of the preview's height tall, 0.8 as wide, centred.
	if s := o.boxes.Size(); s != fyne.NewSize(paneW, paneH) {
		t.Fatalf("overlay size %v, want the preview's %dx%d", s, paneW, paneH)
	}
	paneBox := func(what string, o fyne.CanvasObject, frac float32) {
		t.Helper()
		h := frac * paneH
		wantBox(t, what, o, (paneW-0.8*h)/2, (paneH-h)/2, 0.8*h, h)
	}
	paneBox("min box", o.minBox, 0.22)
	paneBox("max box", o.maxBox, 0.85)
	if o.faceBox.Visible() {
		t.Error("face box shown without a face")
	}

	// A face: its box (mirrored like the preview) and the measures with
	// the limits next to them; a failing measure turns amber.
	a.Handle(kiosk.Event{Kind: kiosk.EventFace, State: kiosk.StateGuide, Face: &kiosk.FaceInfo{
		Box: kiosk.Rect{X: 0.5, Y: 0.3, W: 0.2, H: 0.3}, Blur: 142.4, Brightness: 45, Yaw: -3.2, Pitch: 24, Roll: 1}})
	wantBox(t, "face box", o.faceBox, 0.3*paneW, 0.3*paneH, 0.2*paneW, 0.3*paneH)
	for k, want := range map[string]string{
		"size":       "face size 30% (22–85%)",
		"blur":       "blur 142 (min 60)",
		"brightness": "brightness 45 (60–200)",
		"yaw":        "yaw -3° (max 25)",
		"pitch":      "pitch 24° (max 20)",
		"roll":       "roll 1° (max 15)",
	} {
		l := o.lines[k]
		if l.Text != want || !l.Visible() {
			t.Errorf("%s line = %q (visible %v), want %q", k, l.Text, l.Visible(), want)
		}
		bad := k == "brightness" || k == "pitch"
		if (l.Color == colWarning) != bad {
			t.Errorf("%s line colour %v, want amber %v", k, l.Color, bad)
		}
	}
	if o.noFace.Visible() {
		t.Error("\"no face\" still shown")
	}

	// Editing the minimum size moves its box as the admin types; a value
	// that does not validate leaves it where it was.
	minField := a.settings.fields[0]
	minField.entry.SetText("0.3")
	paneBox("min box after typing 0.3", o.minBox, 0.3)
	if got := o.lines["size"].Text; got != "face size 30% (30–85%)" {
		t.Errorf("size line after typing = %q", got)
	}
	minField.entry.SetText("3")
	paneBox("min box after an invalid value", o.minBox, 0.3)
	a.settings.fields[1].entry.SetText("0.5")
	paneBox("max box after typing 0.5", o.maxBox, 0.5)

	// Closed without applying: the values in force count again. Switched
	// on, the kiosk screen shows the boxes of the applied limits (the frame
	// is shown the full height of the screen) and the readout.
	minField.entry.SetText("0.3")
	test.Tap(a.settings.overlays)
	if !a.showOverlays || !a.fa.Preferences().Bool(prefsOverlaysKey) {
		t.Fatal("switch did not turn the overlays on")
	}
	test.Tap(a.settings.close)
	h.wantScreen(ScreenMain)
	m := a.main.overlay
	if !m.boxes.Visible() || !m.readout.Visible() {
		t.Fatal("overlays switched on but hidden on the kiosk screen")
	}
	sz := m.boxes.Size()
	if sz.Width < 1200 || sz.Width/sz.Height < 4.0/3 {
		t.Fatalf("kiosk overlay size %v", sz)
	}
	kioskBox := func(what string, o fyne.CanvasObject, frac float32) {
		t.Helper()
		h := frac * sz.Height
		wantBox(t, what, o, (sz.Width-0.8*h)/2, (sz.Height-h)/2, 0.8*h, h)
	}
	kioskBox("kiosk min box", m.minBox, 0.22)
	kioskBox("kiosk max box", m.maxBox, 0.85)
	if got := m.lines["blur"].Text; got != "blur 142 (min 60)" {
		t.Errorf("kiosk blur line = %q", got)
	}

	// Applied: the new minimum is in force everywhere.
	unlockSettingsAgain(t, h)
	a.settings.fields[0].entry.SetText("0.3")
	test.Tap(a.settings.apply)
	test.Tap(a.settings.close)
	kioskBox("kiosk min box after apply", m.minBox, 0.3)

	// Nobody there: the readout says so, the face box goes.
	h.state(kiosk.StateIdle)
	if !m.noFace.Visible() || m.lines["blur"].Visible() || m.faceBox.Visible() {
		t.Error("idle: readout or face box still shows the last face")
	}

	// Off again: nothing on the kiosk screen.
	unlockSettingsAgain(t, h)
	test.Tap(a.settings.overlays)
	test.Tap(a.settings.close)
	if m.boxes.Visible() || m.readout.Visible() {
		t.Error("overlays still on the kiosk screen after switching them off")
	}
}

// unlockSettingsAgain enters the PIN set by unlockSettings.
func unlockSettingsAgain(t *testing.T, h *harness) {
	t.Helper()
	test.Tap(h.app.main.gear)
	test.Type(h.app.pin.pin, "2468")
	test.Tap(h.app.pin.submit)
	h.wantScreen(ScreenSettings)
}

// The box geometry: a frame letterboxed in a wide area, and the mirrored
// face box.
func TestOverlayGeometry(t *testing.T) {
	area := fyne.NewSize(1000, 500)
	frame := fyne.NewSize(640, 480)
	off, img := contained(area, frame.Width, frame.Height)
	if !near(off.X, (1000-666.67)/2) || !near(off.Y, 0) || !near(img.Width, 666.67) || !near(img.Height, 500) {
		t.Errorf("contained: %v %v", off, img)
	}
	p, s := sizeBox(area, frame, 0.5)
	if !near(p.X, 400) || !near(p.Y, 125) || !near(s.Width, 200) || !near(s.Height, 250) {
		t.Errorf("sizeBox 0.5: %v %v", p, s)
	}
	p, s = faceRect(area, frame, kiosk.Rect{X: 0, Y: 0, W: 0.25, H: 0.5})
	if !near(p.X, off.X+0.75*img.Width) || !near(p.Y, 0) || !near(s.Width, 0.25*img.Width) || !near(s.Height, 250) {
		t.Errorf("faceRect of the frame's top-left quarter: %v %v (mirrored: shown top-right)", p, s)
	}
}

// The settings pane with its preview fits a 1280x800 kiosk screen in
// every language: a larger minimum size would grow the window past it.
func TestSettingsPaneFits(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Settings = gateSpecs()
		o.Pair = (&fakePair{}).pair
		o.ResetSettings = func() (map[string]string, error) { return nil, nil }
	})
	for _, lang := range []string{"en", "ja", "ko"} {
		if err := h.app.SetLanguage(lang); err != nil {
			t.Fatal(err)
		}
		if m := h.app.settings.root.MinSize(); m.Width > 1280 || m.Height > 800 {
			t.Errorf("%s: settings pane needs %v, more than 1280x800", lang, m)
		}
	}
}
