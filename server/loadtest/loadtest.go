// Package loadtest is facecheck-server's load generator: K simulated kiosks
// on loopback pair with a real server, pull an N-attendee gallery, then post
// check-in batches (replaying some) and poll the delta feed for a while.
// It measures throughput and latency per route and, at the end, checks the
// store: every check-in a kiosk was told "accepted" is stored exactly once,
// nothing is stored that no kiosk sent, and replays are answered
// "duplicate".
//
// It starts its own server on 127.0.0.1 on a fresh SQLite file (or on
// PostgreSQL with Config.DSN), or targets a running one with Config.URL; in
// both cases it seeds a new event directly through the store, so it needs
// the store's DSN and server key.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

// Config is one load test. Start from DefaultConfig.
type Config struct {
	// URL targets a running server (e.g. http://127.0.0.1:8080); empty
	// starts one in this process on 127.0.0.1.
	URL string
	// DataDir holds the SQLite file and the server key (server.key). Empty:
	// a temporary directory, removed afterwards. With URL, point it at the
	// server's --data directory.
	DataDir string
	// DSN is a postgres:// URL; empty means SQLite in DataDir. The server
	// key comes from $FACECHECK_SERVER_KEY or DataDir/server.key.
	DSN string

	Attendees int
	Kiosks    int
	// Duration of the check-in phase, after every kiosk has synced.
	Duration time.Duration
	// ThinkMin..ThinkMax is the pause before each check-in batch.
	ThinkMin, ThinkMax time.Duration
	// MaxBatch check-ins at most per batch (1..MaxBatch, uniform).
	MaxBatch int
	// ReplayRate is the share of posts that resend an earlier batch.
	ReplayRate float64
	// PollEvery is how often a kiosk polls the delta feed and heartbeats.
	PollEvery time.Duration
	// OpenSample templates per kiosk are opened with the template key and
	// compared with what was seeded.
	OpenSample int
	// SeedWorkers create attendees in parallel.
	SeedWorkers int
	// Seed makes the random choices repeatable (0: time-based).
	Seed uint64
	// Log receives progress lines; nil is silent.
	Log io.Writer
}

// DefaultConfig is the configuration: 200 kiosks, 10k attendees, 60 s.
func DefaultConfig() Config {
	return Config{
		Attendees:   10_000,
		Kiosks:      200,
		Duration:    60 * time.Second,
		ThinkMin:    50 * time.Millisecond,
		ThinkMax:    250 * time.Millisecond,
		MaxBatch:    5,
		ReplayRate:  0.1,
		PollEvery:   5 * time.Second,
		OpenSample:  100,
		SeedWorkers: 4,
	}
}

// Routes as reported.
const (
	RoutePair         = "POST /v1/pair"
	RouteGalleryFull  = "GET /v1/gallery (full)"
	RouteGalleryDelta = "GET /v1/gallery?since= (delta)"
	RouteCheckIns     = "POST /v1/checkins"
	RouteReplay       = "POST /v1/checkins (replay)"
	RouteHeartbeat    = "POST /v1/heartbeat"
)

var routeOrder = []string{RoutePair, RouteGalleryFull, RouteGalleryDelta, RouteCheckIns, RouteReplay, RouteHeartbeat}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// RouteStats is one route's requests (each attempt, retries included).
type RouteStats struct {
	Latency
	Errors int `json:"errors"`
}

// Verification is the end-of-run check against the store.
type Verification struct {
	OK bool `json:"ok"`
	// Sent is distinct check-in ids posted; Accepted those answered
	// "accepted"; Confirmed those accepted or answered "duplicate" on a
	// retry after a failed attempt (the first attempt had been stored).
	Sent, Accepted, Confirmed int
	// Stored is the event's check-ins in the store.
	Stored int
	// Lost: confirmed but not stored. Phantom: stored but never sent.
	// AcceptedTwice: one id answered "accepted" more than once.
	// StoredTwice: one id stored more than once. Mismatched: stored with
	// another attendee or kiosk than sent. Unconfirmed: sent but never
	// confirmed (every attempt failed).
	Lost, Phantom, AcceptedTwice, StoredTwice, Mismatched, Unconfirmed int
	// Replays and ReplayItems count intentional resends;
	// ReplayNotDuplicate items of theirs were answered other than
	// "duplicate".
	Replays, ReplayItems, ReplayNotDuplicate int
	// Repeats: stored check-ins flagged repeat; RepeatsExpected = stored -
	// distinct attendees checked in. CounterMismatch: attendees whose
	// check-in counter differs from their stored check-ins.
	Repeats, RepeatsExpected, CounterMismatch int
	// GalleryMismatch: kiosks whose full sync did not hold exactly the
	// seeded attendees; TemplatesOpened/TemplateMismatch: sampled sealed
	// templates opened with the key, and those that failed or differed.
	GalleryMismatch, TemplatesOpened, TemplateMismatch int
	// KiosksFailed could not pair or sync.
	KiosksFailed int
	Problems     []string `json:"problems,omitempty"`
}

// Report is a run's figures.
type Report struct {
	Started    time.Time `json:"started"`
	Dialect    string    `json:"dialect"`
	URL        string    `json:"url"`
	External   bool      `json:"external_server"`
	Attendees  int       `json:"attendees"`
	Kiosks     int       `json:"kiosks"`
	CPUs       int       `json:"cpus"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	GoVersion  string    `json:"go_version"`

	SeedSeconds float64 `json:"seed_seconds"`
	// SyncPhaseSeconds is pairing plus full sync of every kiosk at once.
	SyncPhaseSeconds float64 `json:"sync_phase_seconds"`
	// FullSync is one kiosk's full gallery pull (request to end line).
	FullSync     Latency               `json:"full_sync"`
	GalleryMB    float64               `json:"gallery_mb_per_sync"`
	RunSeconds   float64               `json:"run_seconds"`
	Requests     int                   `json:"requests"`
	RequestsPerS float64               `json:"requests_per_s"`
	CheckInsPerS float64               `json:"checkins_per_s"`
	BatchesPerS  float64               `json:"batches_per_s"`
	Routes       map[string]RouteStats `json:"routes"`
	Verify       Verification          `json:"verify"`
	FirstErrors  []string              `json:"first_errors,omitempty"`
}

type runner struct {
	cfg     Config
	base    string
	client  *http.Client
	ids     []string
	tpls    map[string][]byte
	inRun   atomic.Bool
	accepts atomic.Int64
}

// Run runs one load test and returns its report; Report.Verify.OK tells
// whether the store matches what the kiosks were told.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	d := DefaultConfig()
	if cfg.Attendees <= 0 {
		cfg.Attendees = d.Attendees
	}
	if cfg.Kiosks <= 0 {
		cfg.Kiosks = d.Kiosks
	}
	if cfg.Duration <= 0 {
		cfg.Duration = d.Duration
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = d.MaxBatch
	}
	if cfg.ThinkMax < cfg.ThinkMin {
		cfg.ThinkMax = cfg.ThinkMin
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = d.PollEvery
	}
	if cfg.SeedWorkers <= 0 {
		cfg.SeedWorkers = 1
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "loadtest: "+format+"\n", args...)
		}
	}

	// Store and server key.
	if cfg.DataDir == "" {
		if cfg.URL != "" && cfg.DSN == "" {
			return nil, errors.New("loadtest: --url needs the server's --data directory (or --db and FACECHECK_SERVER_KEY)")
		}
		dir, err := os.MkdirTemp("", "facecheck-loadtest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	var key []byte
	if v := os.Getenv("FACECHECK_SERVER_KEY"); v != "" {
		key, err = server.ParseKey(v)
	} else {
		key, err = server.LoadOrCreateKey(filepath.Join(cfg.DataDir, "server.key"))
	}
	if err != nil {
		return nil, err
	}
	dsn := cfg.DSN
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "facecheck.db")
	}
	db, err := store.Open(ctx, dsn, key)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	rep = &Report{
		Started: time.Now().UTC(), Dialect: db.Dialect(), Attendees: cfg.Attendees, Kiosks: cfg.Kiosks,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		Routes: map[string]RouteStats{},
	}
	base := strings.TrimRight(cfg.URL, "/")
	if base == "" {
		scfg := server.DefaultConfig()
		scfg.Addr = "127.0.0.1:0"
		// Every kiosk pairs at once from 127.0.0.1; at a venue they come
		// one by one, so the pairing limits must not count them as guesses.
		scfg.LoginBurst = max(scfg.LoginBurst, cfg.Kiosks)
		scfg.LoginGlobal.Burst = max(scfg.LoginGlobal.Burst, cfg.Kiosks)
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		s, err := server.NewServer(scfg, db, nil, logger)
		if err != nil {
			return nil, err
		}
		if err := s.Open(); err != nil {
			return nil, err
		}
		defer s.Close()
		base = s.URL()
	} else {
		rep.External = true
	}
	rep.URL = base
	logf("server %s (%s, data %s)", base, db.Dialect(), cfg.DataDir)

	// Seed an event.
	ev, err := db.CreateEvent(ctx, fmt.Sprintf("Load test %s", time.Now().Format(time.DateTime)))
	if err != nil {
		return nil, err
	}
	rt := &runner{cfg: cfg, base: base, tpls: make(map[string][]byte, cfg.Attendees)}
	t0 := time.Now()
	if err := rt.seed(ctx, db, ev.ID); err != nil {
		return nil, err
	}
	rep.SeedSeconds = time.Since(t0).Seconds()
	logf("seeded event %s with %d attendees in %.1fs", ev.ID, cfg.Attendees, rep.SeedSeconds)
	codes := make([]string, cfg.Kiosks)
	for i := range codes {
		if codes[i], _, err = db.CreatePairingCode(ctx, ev.ID, "loadtest", time.Hour); err != nil {
			return nil, err
		}
	}

	tr := &http.Transport{
		MaxIdleConns: cfg.Kiosks * 2, MaxIdleConnsPerHost: cfg.Kiosks * 2, IdleConnTimeout: 90 * time.Second,
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	rt.client = &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	// Phase 1: every kiosk pairs and pulls the full gallery at once.
	ks := make([]*kiosk, cfg.Kiosks)
	var synced, done sync.WaitGroup
	start := make(chan struct{})
	var deadline time.Time // set before start is closed
	t1 := time.Now()
	for i := range ks {
		k := &kiosk{n: i, rt: rt, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)), sent: map[string]*sentInfo{}}
		ks[i] = k
		synced.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			err := k.setUp(ctx, codes[i])
			synced.Done()
			if err != nil {
				k.failed = true // the error is in k.errs already
				return
			}
			<-start
			k.run(ctx, deadline)
		}()
	}
	synced.Wait()
	rep.SyncPhaseSeconds = time.Since(t1).Seconds()
	logf("%d kiosks paired and synced in %.1fs; check-in phase %s", cfg.Kiosks, rep.SyncPhaseSeconds, cfg.Duration)

	// Phase 2: check-ins until the deadline.
	rt.inRun.Store(true)
	t2 := time.Now()
	deadline = t2.Add(cfg.Duration)
	close(start)
	progressDone := make(chan struct{})
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-tick.C:
				logf("  %3.0fs: %d check-ins accepted", time.Since(t2).Seconds(), rt.accepts.Load())
			}
		}
	}()
	waitCh := make(chan struct{})
	go func() { done.Wait(); close(waitCh) }()
	<-waitCh
	close(progressDone)
	rep.RunSeconds = time.Since(t2).Seconds()
	rt.inRun.Store(false)
	logf("check-in phase over after %.1fs; verifying", rep.RunSeconds)

	rt.report(rep, ks)
	if err := rt.verify(ctx, db, ev.ID, rep, ks); err != nil {
		return rep, err
	}
	return rep, nil
}

// seed creates the attendees: random unit vectors quantised like the
// engine does (scale to ±127, store value+128).
func (rt *runner) seed(ctx context.Context, db *store.DB, eventID string) error {
	n := rt.cfg.Attendees
	rng := rand.New(rand.NewPCG(rt.cfg.Seed, 0))
	type job struct {
		name string
		data []byte
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range rt.cfg.SeedWorkers {
		wg.Go(func() {
			for j := range jobs {
				reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{
					EventID: eventID, Name: j.name, Consent: true, Source: store.SourceAdmin,
					Info: "load test", Templates: []api.Template{{Model: "loadtest-synthetic", Version: 1, Data: j.data}},
				})
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
				} else {
					rt.ids = append(rt.ids, reg.Attendee.ID)
					rt.tpls[reg.Attendee.ID] = j.data
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- job{name: fmt.Sprintf("Attendee %05d", i), data: randomTemplate(rng)}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("seed: %w", firstErr)
	}
	sort.Strings(rt.ids)
	return nil
}

func randomTemplate(rng *rand.Rand) []byte {
	v := make([]float64, server.TemplateDim)
	var norm, maxAbs float64
	for i := range v {
		v[i] = rng.NormFloat64()
		norm += v[i] * v[i]
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
		maxAbs = max(maxAbs, math.Abs(v[i]))
	}
	b := make([]byte, len(v))
	for i, x := range v {
		q := int(math.Round(x / maxAbs * 127))
		b[i] = byte(q + 128)
	}
	return b
}
