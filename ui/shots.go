package ui

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"github.com/facecheck/facecheck/kiosk"
)

// screenshooter saves the screens a real kiosk run goes through: idle,
// guidance, the identity prompt or welcome, not found, then the settings
// pane and the kiosk screen with its overlays on; and prints the preview
// frame rate.
type screenshooter struct {
	dir    string
	win    fyne.Window
	app    *App
	events chan kiosk.Event
	stdout io.Writer
}

func (s *screenshooter) observe(e kiosk.Event) {
	select {
	case s.events <- e:
	default:
	}
}

// waitFor drops events until one matches.
func (s *screenshooter) waitFor(ctx context.Context, what string, match func(kiosk.Event) bool) (kiosk.Event, error) {
	for {
		select {
		case <-ctx.Done():
			return kiosk.Event{}, fmt.Errorf("ui: screenshots: no %s before the end", what)
		case e := <-s.events:
			if match(e) {
				return e, nil
			}
		}
	}
}

func (s *screenshooter) shot(name string) error {
	path := filepath.Join(s.dir, name+".png")
	how, err := captureWindow(s.win, path)
	if err != nil {
		return fmt.Errorf("ui: screenshot %s: %w", name, err)
	}
	fmt.Fprintf(s.stdout, "screenshot %s %s (%s)\n", name, path, how)
	return nil
}

func (s *screenshooter) run(ctx context.Context) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	const settle = 450 * time.Millisecond // prompt hysteresis + a few preview frames
	t0, f0 := time.Now(), s.app.FramesShown()
	time.Sleep(2 * time.Second) // window mapped, in the demo's empty lead-in
	if err := s.shot("1-idle"); err != nil {
		return err
	}
	if err := s.shotGuidance(ctx); err != nil {
		return err
	}
	e, err := s.waitFor(ctx, "identity prompt or welcome", func(e kiosk.Event) bool {
		return e.Kind == kiosk.EventState && (e.State == kiosk.StateConfirm || e.State == kiosk.StateWelcome)
	})
	if err != nil {
		return err
	}
	time.Sleep(settle)
	name := "3-welcome"
	if e.State == kiosk.StateConfirm {
		name = "3-confirm"
	}
	if err := s.shot(name); err != nil {
		return err
	}
	if _, err := s.waitFor(ctx, "not found", func(e kiosk.Event) bool {
		return e.Kind == kiosk.EventState && e.State == kiosk.StateNotFound
	}); err != nil {
		return err
	}
	time.Sleep(settle)
	if err := s.shot("4-notfound"); err != nil {
		return err
	}
	el, n := time.Since(t0), s.app.FramesShown()-f0
	// The settings pane with a face in view: the size boxes, the face box
	// and the live measures next to their limits.
	fyne.DoAndWait(s.app.OpenSettings)
	if err := s.waitFace(ctx, ScreenSettings); err != nil {
		return err
	}
	if err := s.shot("5-settings"); err != nil {
		return err
	}
	// The same overlays on the kiosk screen, switched on from the pane
	// (and off again: the switch is remembered in the app preferences).
	fyne.DoAndWait(func() {
		s.app.CloseAdmin()
		s.app.SetShowOverlays(true)
	})
	defer fyne.DoAndWait(func() { s.app.SetShowOverlays(false) })
	if err := s.waitFace(ctx, ScreenMain); err != nil {
		return err
	}
	if err := s.shot("6-overlays"); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "preview: %d frames in %.1f s = %.1f fps\n", n, el.Seconds(), float64(n)/el.Seconds())
	return nil
}

// shotGuidance saves the main screen while it shows a prompt. A confident
// person is welcomed soon after the first prompt, so the screen is polled
// for a painted prompt, and a shot is kept only if the prompt still shows
// after the capture; otherwise the next round of the looping video is
// tried.
func (s *screenshooter) shotGuidance(ctx context.Context) error {
	prompting := func() bool {
		var ok bool
		fyne.DoAndWait(func() { ok = s.app.Screen() == ScreenMain && s.app.ShownPrompt() != kiosk.PromptNone })
		return ok
	}
	for {
		if _, err := s.waitFor(ctx, "guidance", func(e kiosk.Event) bool {
			return e.Kind == kiosk.EventPrompt && e.Prompt != kiosk.PromptNone
		}); err != nil {
			return err
		}
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if !prompting() {
				continue
			}
			time.Sleep(100 * time.Millisecond) // painted
			if err := s.shot("2-guidance"); err != nil {
				return err
			}
			if prompting() {
				return nil
			}
			break
		}
	}
}

// waitFace waits for a face close to the camera (the next round of the
// looping demo video) while the window shows screen, and a few frames
// more.
func (s *screenshooter) waitFace(ctx context.Context, screen Screen) error {
	for {
		if _, err := s.waitFor(ctx, "face on "+string(screen), func(e kiosk.Event) bool {
			return e.Kind == kiosk.EventFace && e.Face != nil && e.Face.Presence > 0.8
		}); err != nil {
			return err
		}
		var now Screen
		fyne.DoAndWait(func() { now = s.app.Screen() })
		if now == screen {
			time.Sleep(250 * time.Millisecond)
			return nil
		}
	}
}

// captureWindow saves what the screen shows to path: the X screen through
// xwd when available (Fyne's GL Capture reads back black under Xvfb's
// software GL), else the window canvas.
func captureWindow(win fyne.Window, path string) (string, error) {
	if _, err := exec.LookPath("xwd"); err == nil && os.Getenv("DISPLAY") != "" {
		cmd := exec.Command("sh", "-c", `xwd -root -silent | convert xwd:- "$0"`, path)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("xwd: %v: %s", err, out)
		}
		return "xwd", nil
	}
	var img image.Image
	fyne.DoAndWait(func() { img = win.Canvas().Capture() })
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return "canvas", err
}
