package kiosk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/version"
	"github.com/facecheck/facecheck/models"
	"github.com/facecheck/facecheck/storage"
)

// StationConfig says where a Station's parts are and how it starts. Zero
// values get the defaults noted.
type StationConfig struct {
	// Models is the model directory ("" = $FACECHECK_MODELS or the user
	// cache dir). DB and Key are the local database and its template key
	// file (created 0600 when missing); Pairing is the pairing file (""
	// = next to Key, PairingPathFor).
	Models, DB, Key, Pairing string

	// Server and PairCode pair the kiosk at start (--server --pair-code);
	// DeviceName is the name the dashboard shows. Server alone must match
	// the pairing there is.
	Server, PairCode, DeviceName string
	// SyncInterval is the time between sync rounds (default 15 s); Sync
	// holds the network timeouts and retries (its PairingPath, Logger and
	// OnEvent are the station's).
	SyncInterval time.Duration
	Sync         SyncConfig

	// Kiosk is the machine's base configuration: the fields no setting
	// names (Location, …). Override holds the settings given on the
	// command line, which go over the stored ones.
	Kiosk    Config
	Override Values

	// Camera is where frames come from (Open, UseCamera). With
	// CameraFromSettings (the command line named no camera) its Source and
	// Device are the stored settings' (process.camera,
	// process.camera_device), and follow an admin's changes; its Backend
	// is always process.camera_backend's.
	Camera             CameraSpec
	CameraFromSettings bool
	// Setup, when set, runs on the opened engine and database before the
	// gallery is loaded (the demo enrols its people there). A video path
	// it returns replaces Camera.Source.
	Setup func(ctx context.Context, eng *engine.Engine, db *storage.DB) (video string, err error)
	// Runner, when set, makes the station build a Runner (the window's
	// threaded camera loop) with these options; its Open is the
	// station's camera and its OnEvent is OnEvent.
	Runner *RunnerOptions
	// Staff opens staff mode (walk-up enrolment, manual check-in) on a
	// second engine.
	Staff bool

	// OnEvent receives the sync status events and the runner's events,
	// from their goroutines; it must not block.
	OnEvent func(Event)
	// OnSettings is told the settings in force whenever they change
	// under the kiosk (a server push, pairing), from the syncing
	// goroutine.
	OnSettings func(Values)
	// Log receives the lines an operator reads (gallery size, pairing,
	// settings warnings, the sync worker's warnings); nil discards them.
	// Who prefixes them ("kiosk", "ui").
	Log io.Writer
	Who string
}

// Station is one running kiosk, whatever shows it (the window, the
// headless runner, the demo): the models and engine, the key and local
// database, the gallery, the sync worker and its loop, the check-in state
// machine, the window's runner and staff mode, and the settings in force.
// Stored settings are applied at open and re-applied live when an admin
// changes them, when the kiosk is paired and when the server pushes new
// event settings. Close stops it all.
//
// Start-up never waits for the network when the kiosk is already paired:
// it serves from the cached gallery and settings, and the first sync runs
// beside the camera loop (StartSync).
type Station struct {
	Models  *models.Store
	Engine  *engine.Engine
	DB      *storage.DB
	Gallery *engine.Gallery
	Sync    *Syncer
	Machine *Machine
	Runner  *Runner // nil unless StationConfig.Runner
	Staff   *Staff  // nil unless StationConfig.Staff

	cfg     StationConfig
	log     io.Writer
	closers []func() // last first

	mu      sync.Mutex
	base    Applied  // the configuration settings are applied over
	values  Values   // settings in force
	pending *Applied // for the headless loop, applied before the next frame
	camera  CameraSpec
	// cameraNote is the last note Camera logged, so a camera that is
	// gone is said once, not at every retry; cameraSettings are the
	// camera settings followCamera last took (nil: none yet).
	cameraNote     string
	cameraSettings *[3]string
	loopCtx        context.Context
	stop           func() error // the sync loop's; nil while none runs
	closed         bool
}

// OpenStation opens every part of a kiosk. The models come first: their
// errors (wrapping models.ErrMissing and the like) are what the window's
// models screen offers to fix, and a kiosk that cannot start yet leaves
// no new database and key behind. With cfg.PairCode it pairs and, as a
// kiosk just paired has no cached gallery to serve, syncs once before it
// returns; a kiosk paired before starts on its cache. The sync loop starts
// with StartSync.
func OpenStation(ctx context.Context, cfg StationConfig) (_ *Station, err error) {
	if cfg.Who == "" {
		cfg.Who = "kiosk"
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = 15 * time.Second
	}
	if cfg.Pairing == "" {
		cfg.Pairing = PairingPathFor(cfg.Key)
	}
	s := &Station{cfg: cfg, log: cfg.Log, camera: cfg.Camera}
	if s.log == nil {
		s.log = io.Discard
	}
	defer func() {
		if err != nil {
			s.undo()
		}
	}()
	if s.Models, err = models.Open(cfg.Models); err != nil {
		return nil, err
	}
	if s.Engine, err = engine.New(s.Models, engine.DefaultConfig()); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.Engine.Close() })
	key, err := storage.LoadOrCreateKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	if s.DB, err = storage.Open(cfg.DB, storage.Options{Key: key}); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { s.DB.Close() })
	if cfg.Setup != nil {
		video, err := cfg.Setup(ctx, s.Engine, s.DB)
		if err != nil {
			return nil, err
		}
		if video != "" {
			s.camera.Source = video
			s.cfg.CameraFromSettings = false
		}
	}
	if s.Gallery, err = LoadGallery(ctx, s.DB, 3); err != nil {
		return nil, err
	}
	if err := s.openSync(ctx); err != nil {
		return nil, err
	}

	s.base = Applied{Kiosk: cfg.Kiosk, Engine: s.Engine.Config()}
	if p := s.Sync.Pairing(); p != nil {
		s.base.Kiosk.CodeKey = p.TemplateKey // second verification by QR / short code
	}
	a, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.followCamera()
	s.printf("gallery of %d people, camera %s", s.Gallery.Len(), s.Camera().Source)
	if err := s.Engine.SetConfig(a.Engine); err != nil {
		return nil, fmt.Errorf("%s: settings: %w", cfg.Who, err)
	}
	if s.Machine, err = New(a.Kiosk, s.Engine, s.Gallery, s.DB, time.Now); err != nil {
		return nil, err
	}
	if cfg.Runner != nil {
		o := *cfg.Runner
		o.Open, o.OnEvent = s.openCamera, cfg.OnEvent
		s.Runner = NewRunner(s.Machine, nil, o)
	}
	if cfg.Staff {
		// Its own engine: an Engine is not safe for concurrent use and
		// the machine steps on the other.
		eng, err := engine.New(s.Models, s.Engine.Config())
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { eng.Close() })
		s.Staff, err = NewStaff(StaffOptions{DB: s.DB, Engine: eng, Gallery: s.Gallery, Location: a.Kiosk.Location,
			Pairing: s.Sync.Pairing, Kick: s.Sync.Kick}) // no pairing until paired: enrolments stay local
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Station) printf(format string, args ...any) {
	fmt.Fprintf(s.log, s.cfg.Who+": "+format+"\n", args...)
}

// openSync makes the Syncer and pairs the kiosk when a pairing code was
// given.
func (s *Station) openSync(ctx context.Context) error {
	cfg := s.cfg
	sc := cfg.Sync
	sc.PairingPath = cfg.Pairing
	if sc.AppVersion == "" {
		sc.AppVersion = version.Get().Short()
	}
	if sc.Logger == nil {
		sc.Logger = slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	sc.OnEvent = cfg.OnEvent
	sy, err := NewSyncer(s.DB, s.Gallery, sc)
	if err != nil {
		return err
	}
	s.Sync = sy
	switch p := sy.Pairing(); {
	case cfg.PairCode != "":
		if cfg.Server == "" {
			return fmt.Errorf("%s: --pair-code needs --server URL", cfg.Who)
		}
		if _, err := s.pair(ctx, cfg.Server, cfg.PairCode); err != nil {
			return err
		}
		// Nothing cached to serve yet: the first round fills the gallery.
		if _, err := sy.SyncOnce(ctx); err != nil {
			s.printf("first sync failed, running on an empty gallery until the next round: %v", err)
		}
	case cfg.Server != "" && p == nil:
		return fmt.Errorf("%s: not paired with %s yet: add --pair-code CODE (from the admin dashboard)", cfg.Who, cfg.Server)
	case p != nil && cfg.Server != "" && cfg.Server != p.ServerURL:
		s.printf("warning: paired with %s, ignoring --server %s (pair again to switch)", p.ServerURL, cfg.Server)
	}
	return nil
}

func (s *Station) pair(ctx context.Context, server, code string) (*Pairing, error) {
	p, err := s.Sync.Pair(ctx, server, code, s.cfg.DeviceName)
	if err != nil {
		return nil, err
	}
	s.printf("paired with event %q at %s (pairing in %s)", p.EventName, p.ServerURL, s.cfg.Pairing)
	return p, nil
}

// load reads the stored settings (defaults < event defaults < local
// overrides) with the command line's over them, and applies them to the
// base configuration.
func (s *Station) load(ctx context.Context) (Applied, error) {
	values, warns, err := Load(ctx, s.DB)
	if err != nil {
		return Applied{}, err
	}
	for _, w := range warns {
		s.printf("settings: %v", w)
	}
	for k, v := range s.cfg.Override {
		values[k] = v
	}
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	a, err := Apply(values, base)
	if err != nil {
		return Applied{}, fmt.Errorf("%s: settings: %w", s.cfg.Who, err)
	}
	s.mu.Lock()
	s.values = values
	s.mu.Unlock()
	return a, nil
}

// Values returns the settings in force.
func (s *Station) Values() Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := make(Values, len(s.values))
	for k, x := range s.values {
		v[k] = x
	}
	return v
}

// Reapply reads the stored settings again and applies them to the running
// kiosk: between two frames of the runner or the headless loop.
func (s *Station) Reapply(ctx context.Context) error {
	a, err := s.load(ctx)
	if err != nil {
		return err
	}
	if s.followCamera() {
		s.Retry() // the window's camera loop opens the newly chosen camera
	}
	if s.Runner != nil {
		if err := s.Runner.SetEngineConfig(a.Engine); err != nil {
			return err
		}
		return s.Runner.SetConfig(a.Kiosk)
	}
	if err := a.Kiosk.Validate(); err != nil {
		return err
	}
	if err := a.Engine.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.pending = &a
	s.mu.Unlock()
	return nil
}

// applyPending is the headless loop's between-frames step: the newest
// configuration Reapply left, if any.
func (s *Station) applyPending() error {
	s.mu.Lock()
	a := s.pending
	s.pending = nil
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	if err := s.Machine.SetEngineConfig(a.Engine); err != nil {
		return err
	}
	return s.Machine.SetConfig(a.Kiosk)
}

// SetSettings validates changed with every other value, stores each as a
// local override audited under actor, and applies them live.
func (s *Station) SetSettings(ctx context.Context, changed Values, actor string) error {
	if err := SetMany(ctx, s.DB, changed, actor); err != nil {
		return Errorf(EINVALID, "%v", err)
	}
	return s.Reapply(ctx)
}

// ResetSettings drops every local override (audited under actor) and
// returns the settings now in force: the event's defaults, which come
// back with the next sync, else the built-in ones.
func (s *Station) ResetSettings(ctx context.Context, actor string) (Values, error) {
	for _, d := range Registry() {
		if err := s.DB.ResetSetting(ctx, d.Key, actor); err != nil {
			return nil, err
		}
	}
	if err := s.Reapply(ctx); err != nil {
		return nil, err
	}
	return s.Values(), nil
}

// PairedWith is the server the kiosk is paired with, "" when none.
func (s *Station) PairedWith() string {
	if p := s.Sync.Pairing(); p != nil {
		return p.ServerURL
	}
	return ""
}

// EventName is the name of the event the kiosk is paired with, "" when
// none: the idle screen greets with it.
func (s *Station) EventName() string {
	if p := s.Sync.Pairing(); p != nil {
		return p.EventName
	}
	return ""
}

// StoredLanguage is the kiosk language (process.language) that the event
// (server default) or an admin (local) set, "" when neither did: then the
// window starts in the system locale's language.
func (s *Station) StoredLanguage(ctx context.Context) string {
	st, err := s.DB.GetSettings(ctx)
	if err != nil {
		return ""
	}
	return st["process.language"].Value
}

// Pair pairs the kiosk with server by a one-time code from the admin
// dashboard (the window's Pair button), hands the event's template key to
// second verification and starts the sync loop, when StartSync ran.
func (s *Station) Pair(ctx context.Context, server, code string) error {
	p, err := s.pair(ctx, server, code)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.base.Kiosk.CodeKey = p.TemplateKey
	loopCtx := s.loopCtx
	s.mu.Unlock()
	if err := s.Reapply(ctx); err != nil {
		s.printf("after pairing: %v", err)
	}
	if loopCtx != nil {
		s.StartSync(loopCtx)
	}
	return nil
}

// StartSync runs the sync loop beside the camera loop until ctx ends or
// Close; an unpaired kiosk starts it when it is paired (Pair). Event
// settings the loop pulls are applied live.
func (s *Station) StartSync(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopCtx = ctx
	if s.stop != nil || s.closed || !s.Sync.Paired() || ctx.Err() != nil {
		return
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.Sync.Run(loopCtx, s.cfg.SyncInterval, func(api.EventSettings) {
			// The worker stored them: re-read, apply, tell the window.
			if err := s.Reapply(loopCtx); err != nil {
				s.printf("event settings: %v", err)
				return
			}
			if s.cfg.OnSettings != nil {
				s.cfg.OnSettings(s.Values())
			}
		})
	}()
	s.stop = func() error {
		cancel()
		return <-done
	}
}

// Close stops the sync loop, makes a last attempt to deliver what is
// queued, and closes what OpenStation opened. A paired kiosk that stops
// with items it could not send returns an *UnsentError with their count
// (they stay queued for the next start); an error of the sync loop is
// returned too.
func (s *Station) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	var errs []error
	if stop != nil {
		if err := stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: sync loop: %w", s.cfg.Who, err))
		}
	}
	if s.Sync != nil && s.Sync.Paired() {
		errs = append(errs, s.flush())
	}
	s.undo()
	return errors.Join(errs...)
}

// flush is the last chance to deliver what the run recorded: every queued
// item, those waiting out their backoff too (PushAll; while the server is
// not known to answer, a whole round, which does the same once the server
// answers); bounded by twice the request timeout.
func (s *Station) flush() error {
	timeout := s.cfg.Sync.Timeout
	if timeout <= 0 {
		timeout = DefaultSyncConfig().Timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	defer cancel()
	var err error
	if s.Sync.Status().Online {
		_, err = s.Sync.PushAll(ctx)
	} else {
		_, err = s.Sync.SyncOnce(ctx)
	}
	n, qerr := s.DB.OutboxLen(context.Background())
	if qerr != nil {
		return fmt.Errorf("%s: counting what is left to send: %w", s.cfg.Who, qerr)
	}
	if n == 0 {
		return nil
	}
	return &UnsentError{N: n, Err: err}
}

// UnsentError is a paired kiosk stopping with items (check-ins,
// enrolments) it could not send to the server; they stay queued in the
// local database for the next start.
type UnsentError struct {
	N   int
	Err error // the last attempt's, nil when the items wait out a backoff
}

func (e *UnsentError) Error() string {
	msg := fmt.Sprintf("kiosk: stopped with %d check-ins or enrolments not sent to the server (kept for the next start)", e.N)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UnsentError) Unwrap() error { return e.Err }

func (s *Station) undo() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// openCamera opens the current camera choice (the runner's Open).
func (s *Station) openCamera() (Camera, error) { return s.Camera().Open() }

// UseCamera switches the runner to source (a device index 0-63, a video
// file or an image folder) and retries it now.
func (s *Station) UseCamera(source string) error {
	if n, err := strconv.Atoi(source); err == nil {
		if n < 0 || n > 63 {
			return Errorf(EINVALID, "camera index %d out of range 0-63", n)
		}
	} else if _, err := os.Stat(source); err != nil {
		return Errorf(EINVALID, "no camera, video or image folder at %s", source)
	}
	s.mu.Lock()
	s.camera.Source, s.camera.Device = source, "" // an index typed by hand is that index
	s.mu.Unlock()
	s.Retry()
	return nil
}

// Retry cuts the runner's camera backoff short (the error screen's Retry).
func (s *Station) Retry() {
	if s.Runner != nil {
		s.Runner.Reopen()
	}
}

// LoadGallery fills a new gallery from the templates stored in db.
func LoadGallery(ctx context.Context, db *storage.DB, maxPerID int) (*engine.Gallery, error) {
	ts, err := db.AllTemplates(ctx)
	if err != nil {
		return nil, err
	}
	g := engine.NewGallery(maxPerID)
	for _, gt := range ts {
		t, err := engine.TemplateFromBytes(gt.Model, gt.Version, gt.Data)
		if err != nil {
			return nil, fmt.Errorf("kiosk: template of %s: %w", gt.AttendeeID, err)
		}
		if err := g.Add(gt.AttendeeID, t); err != nil {
			return nil, err
		}
	}
	return g, nil
}
