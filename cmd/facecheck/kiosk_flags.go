package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/models"
	"github.com/facecheck/facecheck/storage"
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

// kioskParts are what the headless kiosk and the window both open: the
// local database (with its key), the model store and one engine.
type kioskParts struct {
	db     *storage.DB
	models *models.Store
	eng    *engine.Engine
}

// open loads the engine, then opens the database at the flags' paths
// (read at call time: the window's demo points them at a temp dir first).
// The models come first: their errors (wrapping models.ErrMissing and the
// like) are what the window's models screen offers to fix, and a kiosk
// that cannot start yet should not leave a new database and key behind.
func (kf kioskFlags) open() (*kioskParts, error) {
	st, err := models.Open(*kf.models)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(st, engine.DefaultConfig())
	if err != nil {
		return nil, err
	}
	key, err := storage.LoadOrCreateKey(*kf.keyPath)
	if err != nil {
		eng.Close()
		return nil, err
	}
	db, err := storage.Open(*kf.dbPath, storage.Options{Key: key})
	if err != nil {
		eng.Close()
		return nil, err
	}
	return &kioskParts{db: db, models: st, eng: eng}, nil
}

func (p *kioskParts) Close() {
	p.eng.Close()
	p.db.Close()
}

// applyStored merges the stored settings (defaults < event defaults < local
// overrides) with the thresholds given on the command line into cfg and the
// engine, and returns the merged values too (the settings pane lists them);
// who prefixes the warnings printed to stderr.
func (p *kioskParts) applyStored(ctx context.Context, fs *flag.FlagSet, cfg kiosk.Config, who string, stderr io.Writer) (kiosk.Values, kiosk.Applied, error) {
	values, warns, err := kiosk.Load(ctx, p.db)
	if err != nil {
		return nil, kiosk.Applied{}, err
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "%s: settings: %v\n", who, w)
	}
	overrideFromFlags(fs, values, cfg)
	applied, err := kiosk.Apply(values, kiosk.Applied{Kiosk: cfg, Engine: p.eng.Config()})
	if err != nil {
		return nil, kiosk.Applied{}, fmt.Errorf("%s: settings: %w", who, err)
	}
	if err := p.eng.SetConfig(applied.Engine); err != nil {
		return nil, kiosk.Applied{}, fmt.Errorf("%s: settings: %w", who, err)
	}
	return values, applied, nil
}
