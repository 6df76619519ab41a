package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/facecheck/facecheck/kiosk"
)

// stationFlags are the flags `facecheck kiosk` and the window share: where
// frames come from, the local database and key, the models, the server,
// and the decision thresholds; config turns them into a StationConfig.
type stationFlags struct {
	fs  *flag.FlagSet
	cfg kiosk.StationConfig
}

func addStationFlags(fs *flag.FlagSet) *stationFlags {
	sf := &stationFlags{fs: fs, cfg: kiosk.StationConfig{Kiosk: kiosk.DefaultConfig(), Sync: kiosk.DefaultSyncConfig()}}
	c, k := &sf.cfg, &sf.cfg.Kiosk
	host, _ := os.Hostname()
	fs.StringVar(&c.Camera.Source, "camera", "0", "camera index, video file or image folder")
	fs.IntVar(&c.Camera.Width, "width", 0, "capture width requested from a device")
	fs.IntVar(&c.Camera.Height, "height", 0, "capture height requested from a device")
	fs.IntVar(&c.Camera.Repeat, "repeat", 10, "frames each image of an image folder is shown")
	fs.StringVar(&c.DB, "db", kioskFile("kiosk.db"), "kiosk SQLite database")
	fs.StringVar(&c.Key, "key", kioskFile("kiosk.key"), "template key file (created 0600 if missing)")
	fs.StringVar(&c.Models, "models", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	fs.StringVar(&c.Server, "server", "", "facecheck server URL (needed with --pair-code; afterwards the pairing file remembers it)")
	fs.StringVar(&c.PairCode, "pair-code", "", "one-time pairing code from the admin dashboard")
	fs.StringVar(&c.DeviceName, "device-name", host, "name this kiosk shows on the dashboard")
	fs.StringVar(&c.Pairing, "pairing", "", "pairing file, 0600 (default: next to --key, e.g. kiosk.pairing.json)")
	fs.DurationVar(&c.SyncInterval, "sync-interval", 15*time.Second, "time between sync rounds")
	fs.DurationVar(&c.Sync.Timeout, "net-timeout", 10*time.Second, "timeout of one HTTP attempt")
	fs.IntVar(&c.Sync.RetryMax, "net-retries", 3, "retries of one HTTP request")
	fs.Func("accept", fmt.Sprintf("accept threshold (default: the event's calibration, else %.2f)", k.Accept), float32Flag(&k.Accept))
	fs.Func("confirm", fmt.Sprintf("confirm threshold: ask \"Are you NAME?\" above it (default %.2f)", k.Confirm), float32Flag(&k.Confirm))
	fs.Func("margin", fmt.Sprintf("margin to the second-best identity (default %.2f)", k.Margin), float32Flag(&k.Margin))
	fs.BoolVar(&k.RequireBlink, "blink", k.RequireBlink, "require a blink before identifying")
	return sf
}

// kioskFile is where the kiosk keeps name by default: in
// <user config dir>/facecheck (storage creates it 0700), not the current
// folder, where a key and pairing token end up in whatever directory the
// kiosk was started from (issue 17 #13). Without a user config dir, the
// current folder as before.
func kioskFile(name string) string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return name
	}
	return filepath.Join(dir, "facecheck", name)
}

// config is the StationConfig the flags give, with the thresholds given
// on the command line over the stored settings.
func (sf *stationFlags) config() kiosk.StationConfig {
	c := sf.cfg
	c.Override = kiosk.Values{}
	overrideFromFlags(sf.fs, c.Override, c.Kiosk)
	return c
}

func float32Flag(p *float32) func(string) error {
	return func(s string) error {
		var v float64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return err
		}
		*p = float32(v)
		return nil
	}
}

// overrideFromFlags puts the thresholds given on the command line over the
// stored settings. (--accept and friends are fs.Func flags, whose Value
// does not print the parsed number: it is read back from cfg.)
func overrideFromFlags(fs *flag.FlagSet, values map[string]string, cfg kiosk.Config) {
	given := map[string]string{
		"accept":  strconv.FormatFloat(float64(cfg.Accept), 'f', -1, 32),
		"confirm": strconv.FormatFloat(float64(cfg.Confirm), 'f', -1, 32),
		"margin":  strconv.FormatFloat(float64(cfg.Margin), 'f', -1, 32),
		"blink":   strconv.FormatBool(cfg.RequireBlink),
	}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := given[f.Name]; ok {
			values["face."+f.Name] = v
		}
	})
}
