package main

import (
	"flag"
	"fmt"

	"github.com/facecheck/facecheck/kiosk"
)

// kioskFlags are the flags `facecheck kiosk` and the window share: where
// frames come from, the local database and key, models, the server, and
// the decision thresholds (written into cfg).
type kioskFlags struct {
	camera                  *string
	width, height, repeat   *int
	dbPath, keyPath, models *string
	sync                    *syncFlags
}

func addKioskFlags(fs *flag.FlagSet, cfg *kiosk.Config) kioskFlags {
	kf := kioskFlags{
		camera:  fs.String("camera", "0", "camera index, video file or image folder"),
		width:   fs.Int("width", 0, "capture width requested from a device"),
		height:  fs.Int("height", 0, "capture height requested from a device"),
		repeat:  fs.Int("repeat", 10, "frames each image of an image folder is shown"),
		dbPath:  fs.String("db", "kiosk.db", "kiosk SQLite database"),
		keyPath: fs.String("key", "kiosk.key", "template key file (created 0600 if missing)"),
		models:  fs.String("models", "", "model directory (default $FACECHECK_MODELS or the user cache dir)"),
	}
	kf.sync = addSyncFlags(fs)
	fs.Func("accept", fmt.Sprintf("accept threshold (default: the event's calibration, else %.2f)", cfg.Accept), float32Flag(&cfg.Accept))
	fs.Func("confirm", fmt.Sprintf("confirm threshold: ask \"Are you NAME?\" above it (default %.2f)", cfg.Confirm), float32Flag(&cfg.Confirm))
	fs.Func("margin", fmt.Sprintf("margin to the second-best identity (default %.2f)", cfg.Margin), float32Flag(&cfg.Margin))
	fs.BoolVar(&cfg.RequireBlink, "blink", cfg.RequireBlink, "require a blink before identifying")
	return kf
}
