package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/kiosk"
)

// stationFlags are the flags `facecheck kiosk` and the window share: where
// frames come from, the local database and key, the models, the server,
// and settings given on the command line (the thresholds), which go over
// the stored ones.
type stationFlags struct {
	cfg kiosk.StationConfig
}

func addStationFlags(fs *flag.FlagSet) *stationFlags {
	sf := &stationFlags{cfg: kiosk.StationConfig{Kiosk: kiosk.DefaultConfig(), Sync: kiosk.DefaultSyncConfig(), Override: kiosk.Values{}}}
	c := &sf.cfg
	host, _ := os.Hostname()
	// Without --camera the kiosk opens the camera chosen in its settings
	// (process.camera, found again by name when its index moved), else 0.
	c.Camera.Source, c.CameraFromSettings = "0", true
	fs.Func("camera", "camera index (facecheck cameras lists them), video file or image folder (default: the one chosen in the settings, else 0)", func(v string) error {
		if v == "" {
			return fmt.Errorf("empty: give a camera index, a video file or an image folder")
		}
		c.Camera.Source, c.CameraFromSettings = v, false
		return nil
	})
	fs.Func("camera-backend", "how cameras are opened: "+strings.Join(camera.Choices(), ", ")+" (default: the settings', else auto)", sf.set("process.camera_backend"))
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
	sf.setting(fs, "accept", "face.accept", "accept threshold (default: the event's calibration, else %s)")
	sf.setting(fs, "confirm", "face.confirm", "confirm threshold: ask \"Are you NAME?\" above it (default %s)")
	sf.setting(fs, "margin", "face.margin", "margin to the second-best identity (default %s)")
	fs.BoolFunc("blink", "require a blink before identifying", sf.set("face.blink"))
	return sf
}

// kioskFile is where the kiosk keeps name by default: in
// <user config dir>/facecheck (storage creates it 0700), not the current
// folder, where a key and pairing token end up in whatever directory the
// kiosk was started from. Without a user config dir, the current folder.
func kioskFile(name string) string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return name
	}
	return filepath.Join(dir, "facecheck", name)
}

// setting adds flag name for the kiosk setting key (usage formats its
// default in).
func (sf *stationFlags) setting(fs *flag.FlagSet, name, key, usage string) {
	d, _ := kiosk.Lookup(key)
	fs.Func(name, fmt.Sprintf(usage, d.Default), sf.set(key))
}

// set checks v as the setting key and puts it over the stored value.
func (sf *stationFlags) set(key string) func(string) error {
	return func(v string) error {
		d, ok := kiosk.Lookup(key)
		if !ok {
			return fmt.Errorf("no setting %s", key)
		}
		if err := d.Validate(v); err != nil {
			return err
		}
		sf.cfg.Override[key] = v
		return nil
	}
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
