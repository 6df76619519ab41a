package ui

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/go-text/typesetting/font"

	"github.com/facecheck/facecheck/kiosk"
)

func TestPINFlow(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app

	// First use: set a PIN.
	test.Tap(a.main.gear)
	h.wantScreen(ScreenPIN)
	if a.pin.mode != pinSet {
		t.Fatalf("mode = %v, want set on first use", a.pin.mode)
	}
	t.Run("ErrTooShort", func(t *testing.T) {
		test.Type(a.pin.pin, "12")
		test.Type(a.pin.repeat, "12")
		test.Tap(a.pin.submit)
		if got := a.pin.errText.Text; got != "The PIN must be 4 to 8 digits" {
			t.Errorf("error = %q", got)
		}
		h.wantScreen(ScreenPIN)
	})
	t.Run("ErrMismatch", func(t *testing.T) {
		a.pin.pin.SetText("")
		a.pin.repeat.SetText("")
		test.Type(a.pin.pin, "2468")
		test.Type(a.pin.repeat, "2469")
		test.Tap(a.pin.submit)
		if got := a.pin.errText.Text; got != "The PINs do not match" {
			t.Errorf("error = %q", got)
		}
	})
	a.pin.repeat.SetText("")
	test.Type(a.pin.repeat, "2468")
	test.Tap(a.pin.submit)
	h.wantScreen(ScreenSettings)
	if h.pins.PINHash() == "" || bytes.Contains([]byte(h.pins.PINHash()), []byte("2468")) {
		t.Fatalf("stored hash %q", h.pins.PINHash())
	}
	test.Tap(a.settings.close)
	h.wantScreen(ScreenMain)

	// Next time: enter it; wrong PIN shows an error.
	test.Tap(a.main.gear)
	if a.pin.mode != pinEnter {
		t.Fatalf("mode = %v, want enter", a.pin.mode)
	}
	test.Type(a.pin.pin, "1111")
	test.Tap(a.pin.submit)
	if got := a.pin.errText.Text; got != "Wrong PIN" {
		t.Errorf("error = %q", got)
	}
	if a.pin.pin.Text != "" {
		t.Error("wrong PIN not cleared")
	}
	h.wantScreen(ScreenPIN)
	test.Type(a.pin.pin, "2468")
	test.Tap(a.pin.submit)
	h.wantScreen(ScreenSettings)

	// Kiosk events do not throw the admin out of the settings.
	h.state("guide")
	h.wantScreen(ScreenSettings)

	// Change it.
	test.Tap(a.settings.change)
	if a.pin.mode != pinChange {
		t.Fatalf("mode = %v, want change", a.pin.mode)
	}
	test.Type(a.pin.pin, "13579")
	test.Type(a.pin.repeat, "13579")
	test.Tap(a.pin.submit)
	h.wantScreen(ScreenSettings)
	if ok13579, _ := kiosk.NewPINGuard(h.pins, nil).Check("13579"); !ok13579 || !strings.HasPrefix(h.pins.PINHash(), "argon2id$") {
		t.Error("PIN not changed")
	}
	test.Tap(a.settings.close)
	h.wantScreen(ScreenMain) // the kiosk's current screen

	// Three wrong PINs lock the PIN screen: even the right PIN is refused
	// for a while, and the screen says for how long.
	test.Tap(a.main.gear)
	for range 3 {
		test.Type(a.pin.pin, "0000")
		test.Tap(a.pin.submit)
	}
	test.Type(a.pin.pin, "13579")
	test.Tap(a.pin.submit)
	if got := a.pin.errText.Text; got != "Too many wrong PINs: try again in 30 s" {
		t.Errorf("error while locked = %q", got)
	}
	h.wantScreen(ScreenPIN)
}

func TestSettingsValidation(t *testing.T) {
	specs := []SettingSpec{
		{Key: "face.min_size", Label: "Minimum face size", Help: "pixels", Min: 40, Max: 400, Value: "80",
			Validate: func(v string) error {
				if n, _ := strconv.Atoi(v); n%5 != 0 {
					return errTooFast
				}
				return nil
			}},
		{Key: "net.server", Label: "Server URL", Help: "https://…", Value: "https://x",
			Validate: func(v string) error {
				if len(v) < 8 {
					return errors.New("must be an https URL")
				}
				return nil
			}},
	}
	h := newHarness(t, func(o *Options) { o.Settings = specs })
	a := h.app
	h.openSettings()

	size, url := a.settings.fields[0], a.settings.fields[1]
	for _, c := range []struct{ in, want string }{
		{"abc", "Enter a number"},
		{"10", "Must be between 40 and 400"},
		{"401", "Must be between 40 and 400"},
		{"81", "must be a multiple of 5"},
		{"120", ""},
	} {
		size.entry.SetText(c.in) // OnChanged validates as the admin types
		if got := size.errText.Text; got != c.want {
			t.Errorf("%q: error %q, want %q", c.in, got, c.want)
		}
	}
	url.entry.SetText("ftp")
	test.Tap(a.settings.apply)
	if len(h.apply) != 0 {
		t.Fatalf("applied %v with an invalid field", h.apply)
	}
	if got := a.settings.status.Text; got != "Fix the marked setting first" {
		t.Errorf("status = %q", got)
	}
	url.entry.SetText("https://kiosk.example")
	test.Tap(a.settings.apply)
	if len(h.apply) != 1 || h.apply[0]["face.min_size"] != "120" || h.apply[0]["net.server"] != "https://kiosk.example" {
		t.Fatalf("applied %v", h.apply)
	}
	if got := a.settings.status.Text; got != "Settings applied" {
		t.Errorf("status = %q", got)
	}
	// Language switch from the pane keeps the applied values.
	a.settings.language.SetSelected("한국어")
	if a.Language() != "ko" {
		t.Fatalf("language = %q", a.Language())
	}
	h.wantScreen(ScreenSettings)
	if got := a.settings.fields[0].entry.Text; got != "120" {
		t.Errorf("min size after switch = %q", got)
	}
	if got := a.settings.apply.Text; got != "적용" {
		t.Errorf("apply button = %q", got)
	}
}

func TestLoadFontHangul(t *testing.T) {
	if _, err := os.Stat(systemCJKFonts[0]); err != nil {
		t.Skip("no system Noto Sans CJK:", err)
	}
	for _, lang := range []string{"ko", "ja"} {
		res, err := LoadFont(lang)
		if err != nil {
			t.Fatal(err)
		}
		f, err := font.ParseTTF(bytes.NewReader(res.Content()))
		if err != nil {
			t.Fatalf("%s: %s does not parse: %v", lang, res.Name(), err)
		}
		for _, r := range "한국어日本語あA" {
			if _, ok := f.NominalGlyph(r); !ok {
				t.Errorf("%s: no glyph for %q", lang, r)
			}
		}
	}
}

func TestTTCFaceErrors(t *testing.T) {
	if _, err := ttcFace([]byte("OTTO...."), 0); err == nil {
		t.Error("non-collection accepted")
	}
	if _, err := ttcFace([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"), 3); err == nil {
		t.Error("out-of-range face accepted")
	}
}

// Reset asks for a second tap, then shows the values now in force.
func TestSettingsReset(t *testing.T) {
	specs := []SettingSpec{{Key: "face.accept", Label: "Accept", Min: 0, Max: 1, Value: "0.6"}}
	resets := 0
	h := newHarness(t, func(o *Options) {
		o.Settings = specs
		o.ResetSettings = func() (map[string]string, error) {
			resets++
			return map[string]string{"face.accept": "0.47"}, nil
		}
	})
	a := h.app
	h.openSettings()

	test.Tap(a.settings.reset)
	if resets != 0 || a.settings.reset.Text != "Tap again to reset" {
		t.Fatalf("first tap: %d resets, button %q", resets, a.settings.reset.Text)
	}
	test.Tap(a.settings.reset)
	if resets != 1 {
		t.Fatalf("second tap: %d resets, want 1", resets)
	}
	if got := a.settings.fields[0].entry.Text; got != "0.47" {
		t.Errorf("accept after reset = %q, want the value in force 0.47", got)
	}
	if got := a.settings.status.Text; got != "Local changes removed: event and built-in defaults apply" {
		t.Errorf("status = %q", got)
	}
	if a.settings.reset.Text != "Reset to defaults" {
		t.Errorf("button after reset = %q", a.settings.reset.Text)
	}
}

// TestSettingsInForce: values pushed from elsewhere (the event's defaults)
// reach the open pane and the overlay limits, but never overwrite a field
// the admin is typing in.
func TestSettingsInForce(t *testing.T) {
	specs := []SettingSpec{
		{Key: "face.min_size", Label: "Minimum face size", Min: 0.05, Max: 0.95, Value: "0.22", Limit: LimitMinFace},
		{Key: "face.max_size", Label: "Maximum face size", Min: 0.1, Max: 1, Value: "0.85", Limit: LimitMaxFace},
	}
	h := newHarness(t, func(o *Options) { o.Settings = specs })
	a := h.app
	h.openSettings()

	minF, maxF := a.settings.fields[0], a.settings.fields[1]
	maxF.entry.SetText("0.8") // the admin is editing this one
	a.SettingsInForce(map[string]string{"face.min_size": "0.3", "face.max_size": "0.7"})
	if minF.entry.Text != "0.3" || a.opts.Settings[0].Value != "0.3" {
		t.Errorf("min face shows %q (in force %q), want the pushed 0.3", minF.entry.Text, a.opts.Settings[0].Value)
	}
	if maxF.entry.Text != "0.8" {
		t.Errorf("max face field %q: the admin's typing was overwritten", maxF.entry.Text)
	}
	if lim := a.limits(); lim[LimitMinFace] != 0.3 {
		t.Errorf("overlay min face limit %v, want 0.3", lim[LimitMinFace])
	}
	test.Tap(a.settings.close)
	a.SettingsInForce(map[string]string{"face.min_size": "0.25"})
	if lim := a.limits(); lim[LimitMinFace] != 0.25 || lim[LimitMaxFace] != 0.7 {
		t.Errorf("limits with the pane closed %v, want min 0.25, max 0.7", lim)
	}
}
