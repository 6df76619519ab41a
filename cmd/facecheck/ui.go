package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/ui"
)

// runUI is plain `facecheck`: the kiosk window. Until the lead wires the
// kiosk state machine in, it runs on a synthetic preview and a controller
// that logs; `--demo-screens DIR` walks every screen and saves PNGs.
func runUI(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	windowed := fs.Bool("windowed", false, "run in a window instead of fullscreen")
	lang := fs.String("lang", "en", "language: en, ja or ko")
	event := fs.String("event", "DevDay 2025", "event name shown when idle")
	demo := fs.String("demo-screens", "", "walk through every screen, save screenshots into DIR and exit")
	size := fs.String("size", "1280x800", "window size when windowed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
		return fmt.Errorf("ui: --size %q: want WxH", *size)
	}
	if os.Getenv("LANG") == "" || os.Getenv("LANG") == "C" {
		os.Setenv("LANG", "en_US.UTF-8") // Fyne logs a locale error on C
	}

	fa := app.NewWithID("io.facecheck.kiosk")
	ctl := &logController{w: stdout}
	frames := syntheticFrames()
	var pins ui.PINStore // default: the app's preferences
	if *demo != "" {
		pins = &ui.MemoryPINStore{} // the demo shows the first-use PIN screen
	}
	k, err := ui.New(fa, ui.Options{
		EventName:  *event,
		Language:   *lang,
		Controller: ctl,
		Frames:     frames,
		Settings:   demoSettings(),
		PINs:       pins,
		ApplySettings: func(m map[string]string) error {
			fmt.Fprintln(stdout, "settings:", m)
			return nil
		},
	})
	if err != nil {
		return err
	}
	win := fa.NewWindow("facecheck")
	win.SetContent(k.Content())
	win.Resize(fyne.NewSize(float32(w), float32(h)))
	if *demo == "" && !*windowed {
		win.SetFullScreen(true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.RunPreview(ctx)

	var demoErr error
	if *demo != "" {
		go func() {
			demoErr = walkScreens(k, fa, win, *demo, stdout)
			cancel() // stop the preview before the driver goes away
			time.Sleep(100 * time.Millisecond)
			fyne.Do(fa.Quit)
		}()
	}
	win.ShowAndRun()
	return demoErr
}

// walkScreens drives the UI through each screen and saves a capture of
// each into dir.
func walkScreens(k *ui.App, fa fyne.App, win fyne.Window, dir string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ui: demo: %w", err)
	}
	time.Sleep(1500 * time.Millisecond) // window mapped, first frames in
	var errs []error
	shot := func(name string) {
		time.Sleep(700 * time.Millisecond) // prompt settle + a few preview frames
		var img image.Image
		fyne.DoAndWait(func() { img = win.Canvas().Capture() })
		path := filepath.Join(dir, name+".png")
		if blank(img) {
			// Fyne's GL Capture reads back black under Xvfb's software GL:
			// grab the X screen instead (x11-apps, imagemagick).
			cmd := exec.Command("sh", "-c", `xwd -root -silent | convert xwd:- "$0"`, path)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("ui: demo: %s: capture blank and xwd failed: %v: %s", name, err, out))
			} else {
				fmt.Fprintln(stdout, path, "(xwd)")
			}
			return
		}
		f, err := os.Create(path)
		if err == nil {
			err = png.Encode(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			errs = append(errs, err)
			return
		}
		fmt.Fprintln(stdout, path)
	}
	ev := func(e kiosk.Event) { k.Handle(e) }
	face := func(p float32) {
		for i := 0; i < 15; i++ {
			ev(kiosk.Event{Kind: kiosk.EventFace, State: kiosk.StateGuide, Face: &kiosk.FaceInfo{Presence: p}})
		}
	}
	cand := &kiosk.Candidate{AttendeeID: "a1", Name: "Kim Min-jun", Score: 0.52}

	walk := func(lang string) {
		fyne.DoAndWait(func() {
			if err := k.SetLanguage(lang); err != nil {
				errs = append(errs, err)
			}
		})
		ev(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &kiosk.SyncStatus{Queued: 3}})
		ev(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateIdle})
		shot(lang + "-1-idle")
		face(0.8)
		ev(kiosk.Event{Kind: kiosk.EventPrompt, State: kiosk.StateGuide, Prompt: kiosk.PromptComeCloser})
		shot(lang + "-2-guide")
		ev(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateHoldStill})
		shot(lang + "-3-hold")
		ev(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm, Candidate: cand})
		shot(lang + "-4-confirm")
		ev(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateSecondVerify})
		shot(lang + "-5-second")
		ev(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{
			Outcome: kiosk.OutcomeCheckedIn, Name: cand.Name, Info: "Seat B12 · Track 2"}})
		shot(lang + "-6-welcome")
		ev(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound, Result: &kiosk.Result{Outcome: kiosk.OutcomeNotFound}})
		shot(lang + "-7-notfound")
	}
	walk("en")
	// Settings: first-use PIN screen, then the pane.
	fyne.DoAndWait(k.OpenAdmin)
	shot("en-8-pin")
	fyne.DoAndWait(k.OpenSettings)
	shot("en-9-settings")
	fyne.DoAndWait(k.CloseAdmin)
	walk("ja")
	walk("ko")
	return errors.Join(errs...)
}

// blank reports whether img is one colour (a failed capture).
func blank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, _ := first.RGBA()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bb != b0 {
				return false
			}
		}
	}
	return true
}

// logController stands in for the kiosk core until it is wired.
type logController struct{ w io.Writer }

func (c *logController) Answer(yes bool)        { fmt.Fprintln(c.w, "answer:", yes) }
func (c *logController) SubmitCode(code string) { fmt.Fprintln(c.w, "code:", code) }
func (c *logController) Cancel()                { fmt.Fprintln(c.w, "cancel") }

// syntheticFrames is a moving 640x480 test picture with a face-like blob
// left of centre and a marker in the top-left corner (shown top-right,
// mirrored).
func syntheticFrames() ui.FrameSource {
	start := time.Now()
	img := [2]*image.RGBA{image.NewRGBA(image.Rect(0, 0, 640, 480)), image.NewRGBA(image.Rect(0, 0, 640, 480))}
	n := 0
	return func() image.Image {
		n++
		dst := img[n%2]
		t := time.Since(start).Seconds()
		cx, cy := 300+20*math.Sin(t), 240.0
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				c := color.RGBA{uint8(40 + y/8), uint8(60 + x/12), 90, 255}
				dx, dy := (float64(x)-cx)/95, (float64(y)-cy)/125
				if dx*dx+dy*dy < 1 {
					c = color.RGBA{224, 180, 150, 255}
				}
				if x < 60 && y < 60 {
					c = color.RGBA{255, 0, 0, 255}
				}
				dst.SetRGBA(x, y, c)
			}
		}
		return dst
	}
}

// demoSettings is a sample of the kiosk settings until cmd wires the real
// ones from kiosk.Config.
func demoSettings() []ui.SettingSpec {
	return []ui.SettingSpec{
		{Key: "face.min_size", Label: "Minimum face size", Help: "Faces smaller than this (pixels) are asked to come closer.", Min: 40, Max: 400, Value: "80"},
		{Key: "face.blur", Label: "Blur threshold", Help: "Laplacian variance below which a frame is too blurry.", Min: 0, Max: 500, Value: "60"},
		{Key: "face.accept", Label: "Accept threshold", Help: "Cosine similarity that checks a person in directly.", Min: 0, Max: 1, Value: "0.45"},
		{Key: "net.server", Label: "Server URL", Help: "Where check-ins are synced.", Value: "https://checkin.example.org"},
		{Key: "process.dim_timeout", Label: "Dimming timeout", Help: "Seconds without a face before the screen dims.", Min: 1, Max: 600, Value: "10"},
	}
}
