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
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
	"github.com/facecheck/facecheck/ui"
)

// runUI is `facecheck ui` (and plain `facecheck`): the kiosk window on a
// camera, video file or image folder, driven by the check-in state machine
// through a kiosk.Runner. --demo runs it on a generated video of the dev
// faces with a temporary database of enrolled people; --demo-screens walks
// every screen on a synthetic preview and saves PNGs. Without usable face
// models the window opens anyway, on a screen that downloads them and
// then starts the kiosk (models_screen.go).
func runUI(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := kiosk.DefaultConfig()
	windowed := fs.Bool("windowed", false, "run in a window instead of fullscreen")
	lang := fs.String("lang", "en", "language: en, ja or ko")
	event := fs.String("event", "DevDay 2025", "event name shown when idle")
	demoScreens := fs.String("demo-screens", "", "walk through every screen on a synthetic preview, save screenshots into DIR and exit")
	size := fs.String("size", "1280x800", "window size when windowed")
	kf := addKioskFlags(fs, &cfg)
	fps := fs.Float64("fps", 0, "play a video file or image folder at this rate (default: the video's own, else 15)")
	loop := fs.Bool("loop", true, "replay a video file or image folder when it ends")
	demo := fs.Bool("demo", false, "run on a generated video of the dev faces ($FACECHECK_FACES or ../shared/data/faces), enrolled into a temporary database")
	demoFallback := fs.Bool("demo-fallback", false, "run the demo when the camera cannot be opened")
	demoPeople := fs.Int("demo-people", 2, "people enrolled in the demo (one more walks up unknown)")
	fetchNow := fs.Bool("fetch-models", false, "when the models are missing or damaged, download them without waiting for a click (unattended kiosks)")
	shots := fs.String("shots", "", "save screenshots of idle, guidance, result, not found, settings and the overlays into DIR (or of the models screen when the models are missing), print the preview frame rate and exit (for tests)")
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
	if *demoScreens != "" {
		return runDemoScreens(*demoScreens, *lang, *event, w, h, stdout)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// A camera that cannot be opened at all falls back to the demo when
	// asked to; otherwise the runner keeps retrying and the UI says so.
	if !*demo && *demoFallback {
		cam, err := kiosk.OpenCamera(*kf.camera, *kf.width, *kf.height, *kf.repeat)
		if err != nil {
			fmt.Fprintf(stderr, "ui: %v; running the demo instead\n", err)
			*demo = true
		} else {
			cam.Close()
		}
	}

	fa := app.NewWithID("io.facecheck.kiosk")
	win := fa.NewWindow("facecheck")
	win.Resize(fyne.NewSize(float32(w), float32(h)))
	if *shots == "" && !*windowed {
		win.SetFullScreen(true)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &kioskStart{ctx: ctx, cancel: cancel, fs: fs, cfg: cfg, kf: kf, lang: *lang, event: *event,
		demo: *demo, demoPeople: *demoPeople, fps: *fps, loop: *loop, shots: *shots, fetchNow: *fetchNow,
		fa: fa, win: win, stdout: stdout, stderr: stderr}
	defer s.close()
	// Opening the kiosk parts verifies the models. When they are missing or
	// damaged the window opens on the models screen instead of exiting:
	// venue staff who start the kiosk never see a terminal.
	modelsErr := s.prepare()
	switch {
	case modelsErr != nil && !modelsProblem(modelsErr):
		return modelsErr
	case modelsErr != nil:
		if err := s.showModels(modelsErr); err != nil {
			return err
		}
	default:
		if err := s.attach(); err != nil {
			return err
		}
		s.run()
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
	started := s.close()
	if modelsErr != nil && !started && s.shots == "" {
		return modelsErr // quit on the models screen: the terminal says why too
	}
	return s.shotErr
}

// kioskStart is the window's start-up after the flags, in three steps so
// the window can open first on the models screen and start the kiosk once
// the models are downloaded, without a restart: prepare opens the kiosk
// parts (which verifies the models), builds the demo, loads the gallery,
// starts syncing and builds the runner; attach puts the kiosk UI on the
// window; run starts the preview, the camera loop and the screenshots.
type kioskStart struct {
	ctx            context.Context
	cancel         context.CancelFunc // closes the window
	fs             *flag.FlagSet
	cfg            kiosk.Config
	kf             kioskFlags
	lang, event    string
	demo           bool
	demoPeople     int
	fps            float64
	loop           bool
	shots          string
	fetchNow       bool // download missing models without a click
	fa             fyne.App
	win            fyne.Window
	stdout, stderr io.Writer

	mu      sync.Mutex // prepare, run and close, which may come from the models screen's goroutine
	closed  bool
	closers []func() // undo what prepare opened, last first

	// Set by prepare for attach.
	runner      *kiosk.Runner
	opts        ui.Options
	applyStored func() error
	// Sync events reach the window once it exists; the first round runs
	// before that and only logs.
	syncTo atomic.Pointer[ui.App]
	// New event settings (calibrated thresholds) are stored by the sync
	// worker; reapply re-reads them into the running machine.
	reapply atomic.Pointer[func() error]

	// Set by attach for run and the runner's events.
	k       *ui.App
	shooter *screenshooter

	runDone chan error // nil until run started the runner
	shotErr error
}

// prepare does everything before the window shows the kiosk. It is safe
// off the UI goroutine; on error it undoes what it opened, so it can be
// tried again (after the models are downloaded).
func (s *kioskStart) prepare() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return context.Canceled
	}
	mark := len(s.closers)
	defer func() {
		if err != nil {
			s.undo(mark)
		}
	}()
	ctx, kf, stderr := s.ctx, s.kf, s.stderr
	cfg := s.cfg
	camera, width, height, repeat := *kf.camera, *kf.width, *kf.height, *kf.repeat
	if s.demo {
		dir, err := os.MkdirTemp("", "facecheck-ui-demo-")
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { os.RemoveAll(dir) })
		*kf.dbPath, *kf.keyPath = filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key")
	}
	parts, err := kf.open()
	if err != nil {
		return err
	}
	s.closers = append(s.closers, parts.Close)
	db, eng, st := parts.db, parts.eng, parts.models
	leadIn := 0
	if s.demo {
		video, err := buildDemo(ctx, eng, db, filepath.Dir(*kf.dbPath), s.demoPeople, stderr)
		if err != nil {
			return err
		}
		camera = video
		leadIn = 45 // 3 s of nobody there before each round
	}
	gallery, err := kiosk.LoadGallery(ctx, db, 3)
	if err != nil {
		return err
	}
	ks, err := startSync(ctx, kf.sync, *kf.keyPath, db, gallery, io.Discard, func(e kiosk.Event) {
		if a := s.syncTo.Load(); a != nil {
			a.Handle(e)
		}
	}, func(api.EventSettings) {
		if f := s.reapply.Load(); f != nil {
			if err := (*f)(); err != nil {
				fmt.Fprintln(stderr, "ui: event settings:", err)
			}
		}
		// The settings pane and the overlays show what is now in force.
		if a := s.syncTo.Load(); a != nil {
			if cur, _, err := kiosk.Load(ctx, db); err == nil {
				a.SettingsInForce(cur)
			}
		}
	}, stderr)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, ks.Stop)
	fmt.Fprintf(stderr, "ui: gallery of %d people, camera %s\n", gallery.Len(), camera)
	pairedWith := ""
	if p := ks.s.Pairing(); p != nil {
		cfg.CodeKey = p.TemplateKey // second verification by QR / short code
		pairedWith = p.ServerURL
	}
	values, applied, err := parts.applyStored(ctx, s.fs, cfg, "ui", stderr)
	if err != nil {
		return err
	}
	cfg = applied.Kiosk
	base := applied
	machine, err := kiosk.New(cfg, eng, gallery, db, time.Now)
	if err != nil {
		return err
	}

	// Staff mode gets its own engine: an Engine is not safe for concurrent
	// use and the runner's machine steps on the other.
	staffEng, err := engine.New(st, eng.Config())
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { staffEng.Close() })
	staffOpts := kiosk.StaffOptions{DB: db, Engine: staffEng, Gallery: gallery, Location: cfg.Location,
		Pairing: ks.s.Pairing, Kick: ks.s.Kick} // nil pairing until paired: enrolments stay local
	staff, err := kiosk.NewStaff(staffOpts)
	if err != nil {
		return err
	}
	cam := &cameraChoice{}
	cam.spec.Store(camera)

	var runner *kiosk.Runner
	// base changes when the kiosk is paired from the window (the event's
	// template key); the UI and the sync worker both reapply.
	var baseMu sync.Mutex
	applyStored := func() error {
		cur, _, err := kiosk.Load(ctx, db)
		if err != nil {
			return err
		}
		baseMu.Lock()
		b := base
		baseMu.Unlock()
		a, err := kiosk.Apply(cur, b)
		if err != nil {
			return err
		}
		if err := runner.SetEngineConfig(a.Engine); err != nil {
			return err
		}
		return runner.SetConfig(a.Kiosk)
	}
	runner = kiosk.NewRunner(machine, nil, kiosk.RunnerOptions{
		Open: func() (kiosk.Camera, error) {
			c, err := kiosk.OpenCamera(cam.spec.Load().(string), width, height, repeat)
			if err != nil || leadIn == 0 {
				return c, err
			}
			return &leadInCamera{Camera: c, n: leadIn}, nil
		},
		// A person at the error screen waits at most this long for a retry
		// or a newly chosen camera.
		MaxBackoff: 3 * time.Second,
		Loop:       s.loop,
		FPS:        s.fps,
		OnEvent: func(e kiosk.Event) { // set by attach before run starts the runner
			s.k.Handle(e)
			if s.shooter != nil {
				s.shooter.observe(e)
			}
		},
	})
	cam.reopen = runner.Reopen

	var pins ui.PINStore // default: the app's preferences
	if s.shots != "" {
		pins = &ui.MemoryPINStore{}
	}
	s.runner, s.applyStored = runner, applyStored
	s.opts = ui.Options{
		EventName:  s.event,
		Language:   s.lang,
		Controller: runner,
		Frames:     runner.LatestFrame,
		Settings:   settingSpecs(values),
		PINs:       pins,
		Staff:      staffAdapter{ctx: ctx, s: staff},
		Camera:     cam,
		PairedWith: pairedWith,
		Pair: ks.pairAndSync(ctx, func(p *kiosk.Pairing) {
			baseMu.Lock()
			base.Kiosk.CodeKey = p.TemplateKey // second verification for the new event
			baseMu.Unlock()
			if err := applyStored(); err != nil {
				fmt.Fprintln(stderr, "ui: after pairing:", err)
			}
		}),
		ApplySettings: func(m map[string]string) error {
			// Validated with every other value, stored (audited), then
			// applied live between two frames.
			if err := kiosk.SetMany(ctx, db, kiosk.Values(m), "admin"); err != nil {
				return err
			}
			return applyStored()
		},
		ResetSettings: func() (map[string]string, error) {
			// Every local override goes (audited); the event's defaults come
			// back with the next sync, built-in ones apply meanwhile.
			for _, d := range kiosk.Registry() {
				if err := db.ResetSetting(ctx, d.Key, "admin"); err != nil {
					return nil, err
				}
			}
			if err := applyStored(); err != nil {
				return nil, err
			}
			cur, _, err := kiosk.Load(ctx, db)
			return cur, err
		},
	}
	return nil
}

// attach puts the kiosk UI that prepare set up on the window. Call it on
// the UI goroutine (or before the window runs).
func (s *kioskStart) attach() error {
	k, err := ui.New(s.fa, s.opts)
	if err != nil {
		return err
	}
	s.k = k
	s.syncTo.Store(k)
	s.reapply.Store(&s.applyStored)
	s.win.SetContent(k.Content())
	k.BindKeys(s.win.Canvas())
	if s.shots != "" {
		s.shooter = &screenshooter{dir: s.shots, win: s.win, app: k, events: make(chan kiosk.Event, 1024), stdout: s.stdout}
	}
	return nil
}

// run starts the preview, the camera loop and, with --shots, the
// screenshots (whose end closes the window).
func (s *kioskStart) run() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	go s.k.RunPreview(s.ctx)
	s.runDone = make(chan error, 1)
	fmt.Fprintln(s.stderr, "ui: kiosk running")
	go func() {
		err := s.runner.Run(s.ctx)
		if err != nil {
			fmt.Fprintln(s.stderr, "ui: camera:", err)
		}
		s.runDone <- err
	}()
	if s.shooter != nil {
		go func() {
			s.shotErr = s.shooter.run(s.ctx)
			s.cancel() // closes the window
		}()
	}
}

// close stops the camera loop and closes what prepare opened; it reports
// whether the kiosk had started. Later calls do nothing.
func (s *kioskStart) close() (started bool) {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	started = s.runDone != nil
	if s.closed {
		return started
	}
	s.closed = true
	if s.runDone != nil {
		<-s.runDone
	}
	s.undo(0)
	return started
}

// undo runs the closers registered since mark, last first.
func (s *kioskStart) undo(mark int) {
	for i := len(s.closers) - 1; i >= mark; i-- {
		s.closers[i]()
	}
	s.closers = s.closers[:mark]
}

// leadInCamera shows n frames of an empty scene before its camera's, so a
// demo round starts with nobody there (the idle screen).
type leadInCamera struct {
	kiosk.Camera
	n  int
	im engine.Image
}

func (c *leadInCamera) Read() (engine.Image, error) {
	if c.n <= 0 {
		return c.Camera.Read()
	}
	if !c.im.Valid() {
		first, err := c.Camera.Read()
		if err != nil {
			return first, err
		}
		c.im = engine.Image{W: first.W, H: first.H, Pix: make([]byte, len(first.Pix))}
		for i := 0; i+2 < len(c.im.Pix); i += 3 { // the fixture's backdrop, BGR
			c.im.Pix[i], c.im.Pix[i+1], c.im.Pix[i+2] = 104, 96, 90
		}
	}
	c.n--
	return c.im, nil
}

// FPS is the wrapped video's rate, so the runner paces the demo as filmed.
func (c *leadInCamera) FPS() float64 {
	if v, ok := c.Camera.(interface{ FPS() float64 }); ok {
		return v.FPS()
	}
	return 0
}

// buildDemo enrols the first photo of n dev-face identities into db and
// writes a video of them, then of one person not enrolled, walking up to
// the kiosk (second photos, so nobody is matched against the picture they
// were enrolled from). It returns the video's path in dir.
func buildDemo(ctx context.Context, eng *engine.Engine, db *storage.DB, dir string, n int, stderr io.Writer) (string, error) {
	faces := os.Getenv("FACECHECK_FACES")
	if faces == "" {
		faces = filepath.Join("..", "shared", "data", "faces")
	}
	people, err := kiosk.ReadPeople(filepath.Join(faces, "labels.csv"))
	if err != nil {
		return "", fmt.Errorf("ui: demo needs the labelled dev faces (set FACECHECK_FACES): %w", err)
	}
	var pool []kiosk.LabelledPerson
	for _, p := range people {
		if len(p.Paths) >= 2 {
			pool = append(pool, p)
		}
	}
	n = max(1, n)
	if len(pool) < n+1 {
		return "", fmt.Errorf("ui: demo: %d identities with 2+ photos in %s, need %d", len(pool), faces, n+1)
	}
	var picks []kiosk.LabelledPerson // spread over the sorted list so sources mix
	for i := 0; i <= n; i++ {
		picks = append(picks, pool[i*len(pool)/(n+1)])
	}
	root := filepath.Join(faces, "images")
	done, err := kiosk.EnrolFirst(ctx, eng, db, picks[:n], root, n)
	if err != nil {
		return "", err
	}
	var scenes []fixture.Scene
	for i, p := range picks {
		photo, err := engine.LoadImage(filepath.Join(root, p.Paths[1]))
		if err != nil {
			return "", err
		}
		enc, err := eng.Encode(photo)
		if err != nil {
			return "", fmt.Errorf("ui: demo: %s: %w", p.Paths[1], err)
		}
		label := p.ID
		if i >= n {
			label = "(not enrolled) " + p.ID
		}
		scenes = append(scenes, fixture.Scene{Photo: photo, Landmarks: &enc.Landmarks, Label: label})
		fmt.Fprintf(stderr, "ui: demo: %s\n", label)
	}
	video := filepath.Join(dir, "demo.avi")
	if _, err := fixture.Write(video, scenes, fixture.DefaultOptions()); err != nil {
		return "", err
	}
	fmt.Fprintf(stderr, "ui: demo: enrolled %d people, video %s\n", len(done), video)
	return video, nil
}

// screenshooter saves the screens a real kiosk run goes through: idle,
// guidance, the identity prompt or welcome, not found, then the settings
// pane and the kiosk screen with its overlays on; and prints the preview
// frame rate.
type screenshooter struct {
	dir    string
	win    fyne.Window
	app    *ui.App
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
	if err := s.waitFace(ctx, ui.ScreenSettings); err != nil {
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
	if err := s.waitFace(ctx, ui.ScreenMain); err != nil {
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
		fyne.DoAndWait(func() { ok = s.app.Screen() == ui.ScreenMain && s.app.ShownPrompt() != kiosk.PromptNone })
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
func (s *screenshooter) waitFace(ctx context.Context, screen ui.Screen) error {
	for {
		if _, err := s.waitFor(ctx, "face on "+string(screen), func(e kiosk.Event) bool {
			return e.Kind == kiosk.EventFace && e.Face != nil && e.Face.Presence > 0.8
		}); err != nil {
			return err
		}
		var now ui.Screen
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

// runDemoScreens is --demo-screens: a synthetic preview and a logging
// controller, walked through every screen.
func runDemoScreens(dir, lang, event string, w, h int, stdout io.Writer) error {
	fa := app.NewWithID("io.facecheck.kiosk")
	ctl := &logController{w: stdout}
	k, err := ui.New(fa, ui.Options{
		EventName:  event,
		Language:   lang,
		Controller: ctl,
		Frames:     syntheticFrames(),
		Settings:   settingSpecs(kiosk.Defaults()),
		PINs:       &ui.MemoryPINStore{}, // the demo shows the first-use PIN screen
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

// overlayLimits are the kiosk settings the preview overlays show as
// limits (the face-size boxes, the limits next to the live measures).
var overlayLimits = map[string]ui.Limit{
	"face.min_size":       ui.LimitMinFace,
	"face.max_size":       ui.LimitMaxFace,
	"face.blur":           ui.LimitMinBlur,
	"face.min_brightness": ui.LimitMinBrightness,
	"face.max_brightness": ui.LimitMaxBrightness,
	"face.max_yaw":        ui.LimitMaxYaw,
	"face.max_pitch":      ui.LimitMaxPitch,
	"face.max_roll":       ui.LimitMaxRoll,
}

// settingSpecs maps every kiosk setting (kiosk.Registry) to the settings
// pane with its current value; a setting that needs a restart says so.
func settingSpecs(values kiosk.Values) []ui.SettingSpec {
	var out []ui.SettingSpec
	for _, d := range kiosk.Registry() {
		help := d.Help
		if d.Type == kiosk.TypeChoice || d.Type == kiosk.TypeBool {
			help += " (" + d.Range() + ")"
		}
		if d.Restart {
			help += " Takes effect after a restart."
		}
		v, ok := values[d.Key]
		if !ok {
			v = d.Default
		}
		spec := ui.SettingSpec{Key: d.Key, Label: d.Label, Help: help, Value: v, Validate: d.Validate, Limit: overlayLimits[d.Key]}
		if d.Type == kiosk.TypeFloat || d.Type == kiosk.TypeInt {
			spec.Min, spec.Max = d.Min, d.Max
		}
		out = append(out, spec)
	}
	return out
}

// staffAdapter puts kiosk.Staff behind the UI's Staff interface.
type staffAdapter struct {
	ctx context.Context
	s   *kiosk.Staff
}

func (a staffAdapter) Enrol(frame image.Image, name, email string, consent bool) (ui.Enrolled, error) {
	var im engine.Image
	if frame != nil {
		im = engine.FromImage(frame)
	}
	res, err := a.s.Enrol(a.ctx, im, name, email, consent)
	if err != nil {
		return ui.Enrolled{}, enrolReasons(err)
	}
	return ui.Enrolled{Name: res.Name, Queued: res.Queued}, nil
}

// enrolReasons turns kiosk.Staff's typed errors into the reason codes the
// UI explains; other errors pass as they are.
func enrolReasons(err error) error {
	var rej *engine.RejectedError
	if errors.As(err, &rej) {
		r := &ui.EnrolRejected{}
		for _, is := range rej.Issues {
			r.Reasons = append(r.Reasons, string(is.Reason))
		}
		return r
	}
	for _, m := range []struct {
		err    error
		reason string
	}{
		{kiosk.ErrNameRequired, "name"}, {kiosk.ErrNameTooLong, "name"}, {kiosk.ErrEmailInvalid, "email"},
		{kiosk.ErrConsentRequired, "consent"}, {kiosk.ErrNoPhoto, "no_photo"},
	} {
		if errors.Is(err, m.err) {
			return &ui.EnrolRejected{Reasons: []string{m.reason}}
		}
	}
	return err
}

func (a staffAdapter) TodayCount() (int, error) { return a.s.TodayCount(a.ctx) }

func (a staffAdapter) Search(q string) ([]ui.Person, error) {
	ps, err := a.s.Search(a.ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]ui.Person, len(ps))
	for i, p := range ps {
		out[i] = ui.Person{ID: p.ID, Name: p.Name, Info: p.Info, CheckedIn: p.CheckedIn}
	}
	return out, nil
}

func (a staffAdapter) CheckIn(id string) (ui.CheckedIn, error) {
	r, err := a.s.ManualCheckIn(a.ctx, id, "staff")
	if err != nil {
		return ui.CheckedIn{}, err
	}
	return ui.CheckedIn{Name: r.Name, Repeat: r.Outcome == kiosk.OutcomeRepeat}, nil
}

// cameraChoice is the error screen's camera control: the runner's Open
// reads spec at every (re)open, and Retry (also called after a new choice)
// cuts the runner's backoff short.
type cameraChoice struct {
	spec   atomic.Value
	reopen func()
}

func (c *cameraChoice) Retry() {
	if c.reopen != nil {
		c.reopen()
	}
}

func (c *cameraChoice) UseCamera(spec string) error {
	if n, err := strconv.Atoi(spec); err == nil {
		if n < 0 || n > 63 {
			return fmt.Errorf("camera index %d out of range", n)
		}
	} else if _, err := os.Stat(spec); err != nil {
		return err
	}
	c.spec.Store(spec)
	c.Retry()
	return nil
}
