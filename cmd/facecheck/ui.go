package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/facecheck/facecheck/internal/demo"
	"github.com/facecheck/facecheck/ui"
)

// runUI is `facecheck ui` (and plain `facecheck`): the kiosk window (ui.Run)
// on a camera, video file or image folder. --demo runs it on a generated
// video of the dev faces with a temporary database of enrolled people;
// --demo-screens walks every screen on a synthetic preview and saves PNGs.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ui", stderr)
	o := ui.RunOptions{Stdout: stdout, Stderr: stderr}
	fs.BoolVar(&o.Windowed, "windowed", false, "run in a window instead of fullscreen")
	fs.StringVar(&o.Language, "lang", "en", "language: en, ja or ko")
	fs.StringVar(&o.EventName, "event", "DevDay 2025", "event name shown when idle")
	demoScreens := fs.String("demo-screens", "", "walk through every screen on a synthetic preview, save screenshots into DIR and exit")
	size := fs.String("size", "1280x800", "window size when windowed")
	sf := addStationFlags(fs)
	fs.Float64Var(&o.Runner.FPS, "fps", 0, "play a video file or image folder at this rate (default: the video's own, else 15)")
	fs.BoolVar(&o.Runner.Loop, "loop", true, "replay a video file or image folder when it ends")
	demoOn := fs.Bool("demo", false, "run on a generated video of the dev faces ($FACECHECK_FACES or ../shared/data/faces), enrolled into a temporary database")
	demoFallback := fs.Bool("demo-fallback", false, "run the demo when the camera cannot be opened")
	demoPeople := fs.Int("demo-people", 2, "people enrolled in the demo (one more walks up unknown)")
	fs.BoolVar(&o.FetchNow, "fetch-models", false, "when the models are missing or damaged, download them without waiting for a click (unattended kiosks)")
	fs.StringVar(&o.Shots, "shots", "", "save screenshots of idle, guidance, result, not found, settings and the overlays into DIR (or of the models screen when the models are missing), print the preview frame rate and exit (for tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := fmt.Sscanf(*size, "%dx%d", &o.Width, &o.Height); err != nil || o.Width <= 0 || o.Height <= 0 {
		return fmt.Errorf("ui: --size %q: want WxH", *size)
	}
	if os.Getenv("LANG") == "" || os.Getenv("LANG") == "C" {
		os.Setenv("LANG", "en_US.UTF-8") // Fyne logs a locale error on C
	}
	if *demoScreens != "" {
		return ui.RunDemoScreens(*demoScreens, o.Language, o.EventName, o.Width, o.Height, stdout)
	}
	o.Station = sf.cfg
	// A camera that cannot be opened at all falls back to the demo when
	// asked to; otherwise the runner keeps retrying and the UI says so.
	if !*demoOn && *demoFallback {
		cam, err := o.Station.Camera.Open()
		if err != nil {
			fmt.Fprintf(stderr, "ui: %v; running the demo instead\n", err)
			*demoOn = true
		} else {
			cam.Close()
		}
	}
	if *demoOn {
		cleanup, err := demo.Window(&o.Station, facesDir(), *demoPeople, stderr)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	return ui.Run(ctx, o)
}

// facesDir is where the labelled dev faces are: $FACECHECK_FACES, else
// ../shared/data/faces.
func facesDir() string {
	if d := os.Getenv("FACECHECK_FACES"); d != "" {
		return d
	}
	return filepath.Join("..", "shared", "data", "faces")
}
