package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/kiosk"
)

// RunOptions configure Run: the kiosk to start and the window around it.
type RunOptions struct {
	// Station is the kiosk the window starts. Run fills in its Runner,
	// Staff, OnEvent and OnSettings; Log defaults to Stderr.
	Station kiosk.StationConfig
	// Runner are the camera loop's options (FPS, Loop).
	Runner kiosk.RunnerOptions

	EventName, Language string
	Windowed            bool
	Width, Height       int
	// FetchNow downloads missing or damaged models without waiting for a
	// click (unattended kiosks).
	FetchNow bool
	// Shots saves screenshots of the screens a run goes through into this
	// directory, prints the preview frame rate and closes the window (the
	// window tests); on the models screen it saves that one.
	Shots string

	Stdout, Stderr io.Writer
}

// Run opens the kiosk window and starts a kiosk.Station in it, until ctx
// ends or the window is closed. When the models are missing or damaged the
// window opens on a screen that downloads them and then starts the kiosk
// in the same window, without a restart: venue staff who start the kiosk
// never see a terminal.
func Run(ctx context.Context, o RunOptions) error {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Station.Log == nil {
		o.Station.Log = o.Stderr
	}
	o.Station.Who = "ui"
	fa := app.NewWithID("io.facecheck.kiosk")
	win := fa.NewWindow("facecheck")
	win.Resize(fyne.NewSize(float32(o.Width), float32(o.Height)))
	if o.Shots == "" && !o.Windowed {
		win.SetFullScreen(true)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &window{o: o, ctx: ctx, cancel: cancel, fa: fa, win: win}
	defer w.close()
	openErr := w.open()
	switch {
	case openErr != nil && !modelsProblem(openErr):
		return openErr
	case openErr != nil:
		if err := w.showModels(openErr); err != nil {
			return err
		}
	default:
		if err := w.attach(); err != nil {
			return err
		}
		w.run()
	}
	closed := make(chan struct{})
	go func() { // Ctrl-C (or the end of --shots) closes the window
		select {
		case <-ctx.Done():
			fyne.Do(fa.Quit)
		case <-closed:
		}
	}()
	win.ShowAndRun()
	close(closed)
	started, err := w.close()
	if openErr != nil && !started && o.Shots == "" {
		return openErr // quit on the models screen: the terminal says why too
	}
	return errors.Join(w.shotErr, err)
}

// window is Run's start-up in three steps, so the window can open first on
// the models screen and start the kiosk once the models are downloaded:
// open starts the station (which verifies the models), attach puts the
// kiosk screens on the window, run starts the preview, the camera loop
// and the screenshots.
type window struct {
	o      RunOptions
	ctx    context.Context
	cancel context.CancelFunc // closes the window
	fa     fyne.App
	win    fyne.Window

	mu      sync.Mutex // open, run and close, which may come from the models screen's goroutine
	closed  bool
	station *kiosk.Station
	runDone chan error // nil until run started the runner

	app     atomic.Pointer[App] // set by attach; events reach it from then on
	shooter *screenshooter
	shotErr error
}

// open starts the station. It is safe off the UI goroutine; on error
// nothing stays open, so it can be tried again (after the download).
func (w *window) open() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return context.Canceled
	}
	cfg := w.o.Station
	ro := w.o.Runner
	// A person at the error screen waits at most this long for a retry
	// or a newly chosen camera.
	ro.MaxBackoff = 3 * time.Second
	cfg.Runner, cfg.Staff = &ro, true
	cfg.OnEvent = func(e kiosk.Event) {
		if a := w.app.Load(); a != nil {
			a.Handle(e)
		}
		if s := w.shooter; s != nil && e.Kind != kiosk.EventSync {
			s.observe(e)
		}
	}
	cfg.OnSettings = func(v kiosk.Values) {
		// The settings pane and the overlays show what is now in force.
		if a := w.app.Load(); a != nil {
			a.SettingsInForce(v) // safe from any goroutine
		}
	}
	st, err := kiosk.OpenStation(w.ctx, cfg)
	if err != nil {
		return err
	}
	w.station = st
	return nil
}

// language is the kiosk's start language: --lang when given, else the
// stored setting (the event's default or an admin's), else the system
// locale's, else English.
func (w *window) language() string {
	if w.o.Language != "" {
		return w.o.Language
	}
	return StartLanguage(w.station.StoredLanguage(w.ctx))
}

// attach puts the kiosk screens on the window. Call it on the UI
// goroutine (or before the window runs).
func (w *window) attach() error {
	st, ctx := w.station, w.ctx
	var pins PINStore // default: the app's preferences
	if w.o.Shots != "" {
		pins = &MemoryPINStore{}
	}
	a, err := New(w.fa, Options{
		EventName:   w.o.EventName,
		PairedEvent: st.EventName,
		Language:    w.language(),
		Controller:  st.Runner,
		Frames:      st.Runner.LatestFrame,
		Settings:    SettingSpecs(st.Values()),
		PINs:        pins,
		Staff:       st.Staff,
		Camera:      st,
		ListCameras: camera.List,
		PairedWith:  st.PairedWith(),
		Pair:        st.Pair,
		ApplySettings: func(m map[string]string) error {
			// Validated with every other value, stored (audited), then
			// applied live between two frames.
			return st.SetSettings(ctx, m, "admin")
		},
		ResetSettings: func() (map[string]string, error) {
			return st.ResetSettings(ctx, "admin")
		},
	})
	if err != nil {
		return err
	}
	if w.o.Shots != "" {
		w.shooter = &screenshooter{dir: w.o.Shots, win: w.win, app: a, events: make(chan kiosk.Event, 1024), stdout: w.o.Stdout}
	}
	w.app.Store(a)
	w.win.SetContent(a.Content())
	a.BindKeys(w.win.Canvas())
	return nil
}

// run starts the preview, the camera loop, the sync loop beside it and,
// with Shots, the screenshots (whose end closes the window).
func (w *window) run() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	a := w.app.Load()
	go a.RunPreview(w.ctx)
	w.runDone = make(chan error, 1)
	fmt.Fprintln(w.o.Stderr, "ui: kiosk running")
	go func() {
		err := w.station.Runner.Run(w.ctx)
		if err != nil {
			fmt.Fprintln(w.o.Stderr, "ui: camera:", err)
		}
		w.runDone <- err
	}()
	w.station.StartSync(w.ctx) // frames first: the first sync runs beside the camera loop
	if w.shooter != nil {
		go func() {
			w.shotErr = w.shooter.run(w.ctx)
			w.cancel() // closes the window
		}()
	}
}

// close stops the camera loop and the station; it reports whether the
// kiosk had started and the station's Close error. Later calls do
// nothing.
func (w *window) close() (started bool, err error) {
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	started = w.runDone != nil
	if w.closed {
		return started, nil
	}
	w.closed = true
	if w.runDone != nil {
		<-w.runDone
	}
	if w.station != nil {
		err = w.station.Close()
	}
	return started, err
}
