package main

import (
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// Settings given on the command line go over the stored ones, checked as
// the settings pane checks them; settings not given leave the stored
// values alone.
func TestStationFlagsOverride(t *testing.T) {
	for _, c := range []struct {
		args []string
		want kiosk.Values
		bad  bool
	}{
		{args: nil, want: kiosk.Values{}},
		{args: []string{"--accept", "0.45", "--blink"}, want: kiosk.Values{"face.accept": "0.45", "face.blink": "true"}},
		{args: []string{"--blink=false", "--margin", "0.1", "--confirm", "0.4"}, want: kiosk.Values{"face.blink": "false", "face.margin": "0.1", "face.confirm": "0.4"}},
		{args: []string{"--still", "4", "--fuse", "2"}, want: kiosk.Values{"process.still_frames": "4", "process.fuse_frames": "2"}},
		{args: []string{"--accept", "1.5"}, bad: true},
		{args: []string{"--accept", "high"}, bad: true},
		{args: []string{"--still", "0"}, bad: true},
		{args: []string{"--camera-backend", "auto"}, want: kiosk.Values{"process.camera_backend": "auto"}},
		{args: []string{"--camera-backend", "gstreamer"}, bad: true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf := addStationFlags(fs)
		sf.setting(fs, "still", "process.still_frames", "%s")
		sf.setting(fs, "fuse", "process.fuse_frames", "%s")
		err := fs.Parse(c.args)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted, want an error", c.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if !maps.Equal(sf.cfg.Override, c.want) {
			t.Errorf("%q: override %v, want %v", c.args, sf.cfg.Override, c.want)
		}
		stored := kiosk.Values{"face.accept": "0.5", "face.confirm": "0.41"}
		maps.Copy(stored, sf.cfg.Override)
		if _, err := kiosk.Apply(stored, kiosk.Applied{Kiosk: sf.cfg.Kiosk, Engine: engine.DefaultConfig()}); err != nil {
			t.Errorf("%q: applying the merged values: %v", c.args, err)
		}
	}
}

// The kiosk's database and key (and the pairing file beside the key) go
// to <user config dir>/facecheck by default, not the current folder;
// --db and --key still choose.
func TestKioskFilesDefault(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome) // os.UserConfigDir on Linux
	t.Setenv("HOME", t.TempDir())        // and on macOS
	t.Setenv("AppData", cfgHome)         // and on Windows
	dir, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		db, key string
	}{
		{nil, filepath.Join(dir, "facecheck", "kiosk.db"), filepath.Join(dir, "facecheck", "kiosk.key")},
		{[]string{"--db", "x.db", "--key", "/k/x.key"}, "x.db", "/k/x.key"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		sf := addStationFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if c := sf.cfg; c.DB != tc.db || c.Key != tc.key {
			t.Errorf("%v: db %q key %q, want %q %q", tc.args, c.DB, c.Key, tc.db, tc.key)
		}
	}
	// The kiosk's first start makes the folder, readable by its user only.
	if _, err := storage.LoadOrCreateKey(filepath.Join(dir, "facecheck", "kiosk.key")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "facecheck"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("config folder mode %v, want 0700", fi.Mode().Perm())
	}
}

// Without --camera the kiosk takes the camera chosen in its settings; with
// it, the one named (an index, a file, a folder) and nothing stored.
func TestStationFlagsCamera(t *testing.T) {
	for _, c := range []struct {
		args       []string
		source     string
		fromStored bool
		bad        bool
	}{
		{args: nil, source: "0", fromStored: true},
		{args: []string{"--camera", "2"}, source: "2"},
		{args: []string{"--camera", "walk.avi", "--width", "640"}, source: "walk.avi"},
		{args: []string{"--camera", ""}, bad: true},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf := addStationFlags(fs)
		err := fs.Parse(c.args)
		if c.bad != (err != nil) {
			t.Errorf("%q: error %v, want an error: %v", c.args, err, c.bad)
			continue
		}
		if err == nil && (sf.cfg.Camera.Source != c.source || sf.cfg.CameraFromSettings != c.fromStored) {
			t.Errorf("%q: camera %q from settings %v, want %q, %v", c.args, sf.cfg.Camera.Source, sf.cfg.CameraFromSettings, c.source, c.fromStored)
		}
	}
}
