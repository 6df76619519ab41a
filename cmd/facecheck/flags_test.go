package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// Thresholds given on the command line override stored settings; ones not
// given leave them alone.
func TestOverrideFromFlags(t *testing.T) {
	cfg := kiosk.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("accept", "", float32Flag(&cfg.Accept))
	fs.Func("confirm", "", float32Flag(&cfg.Confirm))
	fs.BoolVar(&cfg.RequireBlink, "blink", false, "")
	if err := fs.Parse([]string{"--accept", "0.45", "--blink"}); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"face.accept": "0.5", "face.confirm": "0.41"}
	overrideFromFlags(fs, values, cfg)
	want := map[string]string{"face.accept": "0.45", "face.confirm": "0.41", "face.blink": "true"}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %q, want %q", k, values[k], v)
		}
	}
	if _, err := kiosk.Apply(values, kiosk.Applied{Kiosk: cfg, Engine: engine.DefaultConfig()}); err != nil {
		t.Errorf("applying the merged values: %v", err)
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
		if c := sf.config(); c.DB != tc.db || c.Key != tc.key {
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
