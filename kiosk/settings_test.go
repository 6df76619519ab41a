package kiosk

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/engine"
)

func TestRegistryDefaultsApply(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Registry() {
		if seen[d.Key] || d.Label == "" || d.Help == "" || d.Group == "" || !strings.HasPrefix(d.Key, d.Group+".") {
			t.Errorf("bad or duplicate setting %+v", d)
		}
		seen[d.Key] = true
		if err := d.Validate(d.Default); err != nil {
			t.Errorf("default of %s invalid: %v", d.Key, err)
		}
	}
	a, err := Apply(Defaults(), Applied{Kiosk: DefaultConfig(), Engine: engine.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if a.Kiosk.Accept != want.Accept || a.Kiosk.Gates != want.Gates || a.Kiosk.StillFrames != want.StillFrames ||
		a.Kiosk.VerifyTimeout != want.VerifyTimeout || a.Engine != engine.DefaultConfig() {
		t.Errorf("defaults do not round-trip: %+v", a)
	}
}

func TestSettingValidation(t *testing.T) {
	base := Applied{Kiosk: DefaultConfig(), Engine: engine.DefaultConfig()}
	for _, tc := range []struct {
		values Values
		want   string // substring of the error, "" for valid
	}{
		{Values{"face.accept": "0.5", "face.confirm": "0.4"}, ""},
		{Values{"face.accept": "1.5"}, "Accept threshold (face.accept): 1.5 is out of range; allowed 0 to 1"},
		{Values{"face.accept": "high"}, "is not a number"},
		{Values{"face.top_k": "2.5"}, "is not a whole number"},
		{Values{"face.blink": "maybe"}, "not true or false"},
		{Values{"process.language": "fr"}, "choose one of en, ja, ko"},
		{Values{"network.server_url": "ftp://x"}, "not an http(s) URL"},
		{Values{"network.server_url": "https://checkin.example.org"}, ""},
		{Values{"network.tls_ca": "/nonexistent.pem"}, "not a readable PEM file"},
		{Values{"face.accept": "0.3", "face.confirm": "0.35"}, "must not exceed"},
		{Values{"face.min_size": "0.6", "face.max_size": "0.5"}, "must be below Maximum face size"},
		{Values{"face.min_brightness": "200", "face.max_brightness": "100"}, "must be below Maximum brightness"},
		{Values{"nope": "1"}, "unknown setting"},
		{Values{"process.verify_timeout": "12", "process.still_frames": "5", "face.liveness": "0.4"}, ""},
	} {
		a, err := Apply(tc.values, base)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.values, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.values, err, tc.want)
		case tc.want == "" && tc.values["process.verify_timeout"] == "12":
			if a.Kiosk.VerifyTimeout != 12*time.Second || a.Kiosk.StillFrames != 5 || a.Kiosk.LivenessMin != 0.4 {
				t.Errorf("applied %+v", a.Kiosk)
			}
		}
	}
}

func TestSettingsLoadAndSet(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if err := db.SetServerDefaults(ctx, map[string]string{"face.accept": "0.45", "face.confirm": "0.38", "face.margin": "9"}); err != nil {
		t.Fatal(err)
	}
	v, warn, err := Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if v["face.accept"] != "0.45" || v["face.confirm"] != "0.38" || v["face.blur"] != Defaults()["face.blur"] {
		t.Errorf("server defaults not merged: %v", v)
	}
	if len(warn) != 1 || !strings.Contains(warn[0].Error(), "face.margin") || v["face.margin"] != Defaults()["face.margin"] {
		t.Errorf("bad server value: warnings %v, margin %s", warn, v["face.margin"])
	}
	// Local override wins over the server default.
	if err := Set(ctx, db, "face.accept", "0.5", "admin"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetServerDefaults(ctx, map[string]string{"face.accept": "0.42", "face.confirm": "0.38"}); err != nil {
		t.Fatal(err)
	}
	v, _, _ = Load(ctx, db)
	if v["face.accept"] != "0.5" {
		t.Errorf("local override lost: accept %s", v["face.accept"])
	}
	// Invalid values and cross-field violations are not stored.
	if err := Set(ctx, db, "face.accept", "7", "admin"); err == nil {
		t.Error("out-of-range accept stored")
	}
	if err := Set(ctx, db, "face.confirm", "0.6", "admin"); err == nil || !strings.Contains(err.Error(), "must not exceed") {
		t.Errorf("confirm above accept: %v", err)
	}
	if err := SetMany(ctx, db, Values{"face.accept": "0.7", "face.confirm": "0.6"}, "admin"); err != nil {
		t.Errorf("raising both at once: %v", err)
	}
	v, _, _ = Load(ctx, db)
	if v["face.accept"] != "0.7" || v["face.confirm"] != "0.6" {
		t.Errorf("after SetMany: %v %v", v["face.accept"], v["face.confirm"])
	}
	a, err := Apply(v, Applied{Kiosk: DefaultConfig(), Engine: engine.DefaultConfig()})
	if err != nil || a.Kiosk.Accept != 0.7 || a.Kiosk.Confirm != 0.6 {
		t.Errorf("apply: %+v %v", a.Kiosk, err)
	}
	if err := db.ResetSetting(ctx, "face.accept", "admin"); err != nil {
		t.Fatal(err)
	}
	// storage.ResetSetting: the built-in default until the next server sync.
	if v, _, _ = Load(ctx, db); v["face.accept"] != Defaults()["face.accept"] {
		t.Errorf("after reset: accept %s, want the default", v["face.accept"])
	}
	if err := db.SetServerDefaults(ctx, map[string]string{"face.accept": "0.42", "face.confirm": "0.38", "face.blur": "55"}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ = Load(ctx, db); v["face.accept"] != "0.42" || v["face.blur"] != "55" {
		t.Errorf("after the next sync: accept %s blur %s", v["face.accept"], v["face.blur"])
	}
}
