package main

import (
	"flag"
	"io"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
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
