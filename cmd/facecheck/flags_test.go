package main

import (
	"flag"
	"io"
	"maps"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
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
