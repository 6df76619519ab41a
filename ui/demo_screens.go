package ui

import (
	"context"
	"errors"
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
)

// RunDemoScreens is --demo-screens: a synthetic preview and a logging
// controller, walked through every screen.
func RunDemoScreens(dir, lang, event string, w, h int, stdout io.Writer) error {
	fa := app.NewWithID("io.facecheck.kiosk")
	ctl := &logController{w: stdout}
	k, err := New(fa, Options{
		EventName:  event,
		Language:   lang,
		Controller: ctl,
		Frames:     syntheticFrames(),
		Settings:   SettingSpecs(kiosk.Defaults()),
		PINs:       &MemoryPINStore{}, // the demo shows the first-use PIN screen
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
	k.BindKeys(win.Canvas())
	win.Resize(fyne.NewSize(float32(w), float32(h)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.RunPreview(ctx)
	var demoErr error
	go func() {
		demoErr = walkScreens(k, fa, win, dir, stdout)
		cancel() // stop the preview before the driver goes away
		time.Sleep(100 * time.Millisecond)
		fyne.Do(fa.Quit)
	}()
	win.ShowAndRun()
	return demoErr
}

// walkScreens drives the UI through each screen and saves a capture of
// each into dir.
func walkScreens(k *App, fa fyne.App, win fyne.Window, dir string, stdout io.Writer) error {
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

	// walk goes through every screen in lang: English as the kiosk's
	// language, Japanese and Korean as an attendee's tap on the language
	// buttons (the way a visitor gets them).
	walk := func(lang string) {
		// The last walk ended on "not found": its person leaves first, or
		// the idle shot would show that screen again.
		fyne.DoAndWait(func() {
			if k.Screen() == ScreenNotFound {
				k.leaveNotFound()
			}
		})
		ev(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateIdle})
		fyne.DoAndWait(func() {
			if lang == k.DefaultLanguage() {
				return
			}
			if b := k.main.langs[lang]; b != nil {
				b.OnTapped()
			} else {
				errs = append(errs, fmt.Errorf("ui: demo: no %s language button", lang))
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
	fyne.DoAndWait(func() {
		if err := k.SetLanguage("en"); err != nil {
			errs = append(errs, err)
		}
	})
	walk("en")
	// Settings: first-use PIN screen, then the pane with a face in view.
	fyne.DoAndWait(k.OpenAdmin)
	shot("en-8-pin")
	fyne.DoAndWait(k.OpenSettings)
	ev(kiosk.Event{Kind: kiosk.EventFace, State: kiosk.StateGuide, Face: &kiosk.FaceInfo{
		Box: kiosk.Rect{X: 0.32, Y: 0.24, W: 0.3, H: 0.52}, Presence: 1, Blur: 142, Brightness: 118, Yaw: 4, Pitch: -3, Roll: 1}})
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
// left of centre. It has no corner marker: the mirrored preview put one
// behind the language buttons, where it read as a button state.
func syntheticFrames() FrameSource {
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
				dst.SetRGBA(x, y, c)
			}
		}
		return dst
	}
}
