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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

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

type sample struct {
	route string
	d     time.Duration
	err   bool
	// inRun: made during the check-in phase (counts for throughput).
	inRun bool
}

type sentInfo struct {
	attendee, kiosk string
	accepted        int
	confirmed       bool
}

// kiosk is one simulated device; its fields are its own until Run merges.
type kiosk struct {
	n       int
	rt      *runner
	rng     *rand.Rand
	id      string
	token   string
	key     []byte
	cursor  int64
	samples []sample
	sent    map[string]*sentInfo
	history [][]byte // bodies of completed batches, for replays
	errs    []string
	v       Verification // kiosk-local counts merged at the end
	failed  bool
	sync    time.Duration
	bytes   int64
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

// do makes one request and records its latency under route.
func (k *kiosk) do(ctx context.Context, route, method, path string, body []byte, out func(io.Reader) error) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.rt.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	t := time.Now()
	resp, err := k.rt.client.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		if status/100 == 2 && out != nil {
			err = out(resp.Body)
		} else if status/100 != 2 {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			err = fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(msg))
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	k.samples = append(k.samples, sample{route: route, d: time.Since(t), err: err != nil, inRun: k.rt.inRun.Load()})
	if err != nil && len(k.errs) < 5 {
		k.errs = append(k.errs, fmt.Sprintf("kiosk %d: %v", k.n, err))
	}
	return status, err
}

func (k *kiosk) setUp(ctx context.Context, code string) error {
	body, _ := json.Marshal(api.PairRequest{Code: code, DeviceName: fmt.Sprintf("loadtest-%03d", k.n), AppVersion: "loadtest"})
	var pr api.PairResponse
	if _, err := k.do(ctx, RoutePair, http.MethodPost, "/v1/pair", body, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&pr)
	}); err != nil {
		return err
	}
	k.token, k.id, k.key = pr.Token, pr.KioskID, pr.TemplateKey
	t := time.Now()
	n, err := k.pullGallery(ctx, RouteGalleryFull, 0, true)
	k.sync = time.Since(t)
	if err != nil {
		return err
	}
	if n != len(k.rt.ids) {
		k.v.GalleryMismatch++
		return fmt.Errorf("full sync: %d records, want %d", n, len(k.rt.ids))
	}
	return nil
}

type galleryLine struct {
	api.GalleryRecord
	End   bool `json:"end"`
	Count int  `json:"count"`
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// pullGallery reads the delta feed after since; full checks the records
// against the seeded gallery and opens a sample of templates.
func (k *kiosk) pullGallery(ctx context.Context, route string, since int64, full bool) (int, error) {
	path := "/v1/gallery"
	if since > 0 {
		path += fmt.Sprintf("?since=%d", since)
	}
	var seen map[string]bool
	var pick map[int]bool
	if full {
		seen = make(map[string]bool, len(k.rt.ids))
		pick = map[int]bool{}
		for range k.rt.cfg.OpenSample {
			pick[k.rng.IntN(max(1, len(k.rt.ids)))] = true
		}
	}
	records := 0
	_, err := k.do(ctx, route, http.MethodGet, path, nil, func(r io.Reader) error {
		cr := &countingReader{r: r}
		sc := bufio.NewScanner(cr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		ended := false
		for sc.Scan() {
			var l galleryLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return fmt.Errorf("gallery line %d: %w", records+1, err)
			}
			if l.End {
				if l.Count != records {
					return fmt.Errorf("gallery end says %d records, got %d", l.Count, records)
				}
				k.cursor = max(k.cursor, l.Cursor)
				ended = true
				break
			}
			if full {
				if l.Op != api.OpUpsert || seen[l.AttendeeID] || k.rt.tpls[l.AttendeeID] == nil || len(l.Templates) != 1 {
					k.v.GalleryMismatch++
					return fmt.Errorf("unexpected gallery record %q (%s)", l.AttendeeID, l.Op)
				}
				seen[l.AttendeeID] = true
				if pick[records] {
					k.v.TemplatesOpened++
					t, err := api.OpenTemplate(k.key, l.AttendeeID, l.Templates[0])
					if err != nil || !bytes.Equal(t.Data, k.rt.tpls[l.AttendeeID]) {
						k.v.TemplateMismatch++
					}
				}
			}
			records++
		}
		if err := sc.Err(); err != nil {
			return err
		}
		if !ended {
			return errors.New("gallery feed without end line")
		}
		if full {
			k.bytes = cr.n
		}
		return nil
	})
	return records, err
}

// run posts check-in batches and polls until deadline.
func (k *kiosk) run(ctx context.Context, deadline time.Time) {
	cfg := k.rt.cfg
	nextPoll := time.Now().Add(time.Duration(k.rng.Int64N(int64(cfg.PollEvery))))
	for ctx.Err() == nil {
		think := cfg.ThinkMin
		if cfg.ThinkMax > cfg.ThinkMin {
			think += time.Duration(k.rng.Int64N(int64(cfg.ThinkMax - cfg.ThinkMin)))
		}
		if time.Now().Add(think).After(deadline) {
			return
		}
		time.Sleep(think)
		if time.Now().After(nextPoll) {
			nextPoll = nextPoll.Add(cfg.PollEvery)
			if n, err := k.pullGallery(ctx, RouteGalleryDelta, k.cursor, false); err == nil && n != 0 {
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: delta feed returned %d records for an unchanged gallery", k.n, n))
			}
			hb, _ := json.Marshal(api.Heartbeat{AppVersion: "loadtest", Cursor: k.cursor, At: time.Now().UTC()})
			k.do(ctx, RouteHeartbeat, http.MethodPost, "/v1/heartbeat", hb, nil)
			continue
		}
		if len(k.history) > 0 && k.rng.Float64() < cfg.ReplayRate {
			k.replay(ctx)
			continue
		}
		k.post(ctx)
	}
}

var methods = []string{api.MethodFace, api.MethodFace, api.MethodFace, api.MethodConfirm, api.MethodQR, api.MethodCode, api.MethodManual}

// post sends a new batch, retrying it (same ids) after a failed attempt
// as a kiosk's outbox would.
func (k *kiosk) post(ctx context.Context) {
	n := 1 + k.rng.IntN(k.rt.cfg.MaxBatch)
	b := api.CheckInBatch{CheckIns: make([]api.CheckIn, n)}
	for i := range b.CheckIns {
		c := api.CheckIn{
			ID: uuid.NewString(), AttendeeID: k.rt.ids[k.rng.IntN(len(k.rt.ids))],
			Method: methods[k.rng.IntN(len(methods))], Score: 0.5 + 0.4*k.rng.Float32(), Margin: 0.1 + 0.2*k.rng.Float32(),
			At: time.Now().UTC(),
		}
		b.CheckIns[i] = c
		k.sent[c.ID] = &sentInfo{attendee: c.AttendeeID, kiosk: k.id}
	}
	body, _ := json.Marshal(b)
	failedBefore := false
	for attempt := range 5 {
		var res api.CheckInBatchResult
		_, err := k.do(ctx, RouteCheckIns, http.MethodPost, "/v1/checkins", body, func(r io.Reader) error {
			return json.NewDecoder(r).Decode(&res)
		})
		if err == nil && len(res.Results) != n {
			err = fmt.Errorf("%d results for %d check-ins", len(res.Results), n)
			k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: %v", k.n, err))
		}
		if err != nil {
			failedBefore = true
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			continue
		}
		for i, r := range res.Results {
			s := k.sent[b.CheckIns[i].ID]
			switch {
			case r.ID != b.CheckIns[i].ID:
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: result %d is for %s, want %s", k.n, i, r.ID, b.CheckIns[i].ID))
			case r.Status == api.StatusAccepted:
				s.accepted++
				s.confirmed = true
				k.rt.accepts.Add(1)
			case r.Status == api.StatusDuplicate && failedBefore:
				s.confirmed = true
			default:
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: new check-in %s answered %q", k.n, r.ID, r.Status))
			}
		}
		if len(k.history) < 50 {
			k.history = append(k.history, body)
		} else {
			k.history[k.rng.IntN(len(k.history))] = body
		}
		return
	}
}

// replay resends an earlier, answered batch: every item must be a duplicate.
func (k *kiosk) replay(ctx context.Context) {
	body := k.history[k.rng.IntN(len(k.history))]
	var b api.CheckInBatch
	_ = json.Unmarshal(body, &b)
	var res api.CheckInBatchResult
	if _, err := k.do(ctx, RouteReplay, http.MethodPost, "/v1/checkins", body, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&res)
	}); err != nil {
		return
	}
	k.v.Replays++
	k.v.ReplayItems += len(b.CheckIns)
	for i, r := range res.Results {
		if r.Status != api.StatusDuplicate || i >= len(b.CheckIns) || r.ID != b.CheckIns[i].ID {
			k.v.ReplayNotDuplicate++
			if r.Status == api.StatusAccepted {
				if s := k.sent[r.ID]; s != nil {
					s.accepted++
				}
			}
		}
	}
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(0, min(i, len(ds)-1))])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{Count: len(ds), Mean: ms(sum / time.Duration(len(ds))), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(ds[len(ds)-1])}
}

func (rt *runner) report(rep *Report, ks []*kiosk) {
	by := map[string][]time.Duration{}
	errs := map[string]int{}
	var syncs []time.Duration
	var bytesSum int64
	inRun, batches := 0, 0
	for _, k := range ks {
		for _, s := range k.samples {
			by[s.route] = append(by[s.route], s.d)
			if s.err {
				errs[s.route]++
			}
			if s.inRun {
				inRun++
				if (s.route == RouteCheckIns || s.route == RouteReplay) && !s.err {
					batches++
				}
			}
		}
		if !k.failed {
			syncs = append(syncs, k.sync)
			bytesSum += k.bytes
		}
		for _, e := range k.errs {
			if len(rep.FirstErrors) < 10 {
				rep.FirstErrors = append(rep.FirstErrors, e)
			}
		}
	}
	for route, ds := range by {
		rep.Routes[route] = RouteStats{Latency: summarize(ds), Errors: errs[route]}
	}
	rep.FullSync = summarize(syncs)
	if len(syncs) > 0 {
		rep.GalleryMB = math.Round(float64(bytesSum)/float64(len(syncs))/1e4) / 100
	}
	rep.Requests = inRun
	if rep.RunSeconds > 0 {
		rep.RequestsPerS = math.Round(float64(inRun)/rep.RunSeconds*10) / 10
		rep.CheckInsPerS = math.Round(float64(rt.accepts.Load())/rep.RunSeconds*10) / 10
		rep.BatchesPerS = math.Round(float64(batches)/rep.RunSeconds*10) / 10
	}
}

// verify compares what the kiosks were told with the store.
func (rt *runner) verify(ctx context.Context, db *store.DB, eventID string, rep *Report, ks []*kiosk) error {
	v := &rep.Verify
	sent := map[string]*sentInfo{}
	for _, k := range ks {
		if k.failed {
			v.KiosksFailed++
		}
		v.GalleryMismatch += k.v.GalleryMismatch
		v.TemplatesOpened += k.v.TemplatesOpened
		v.TemplateMismatch += k.v.TemplateMismatch
		v.Replays += k.v.Replays
		v.ReplayItems += k.v.ReplayItems
		v.ReplayNotDuplicate += k.v.ReplayNotDuplicate
		v.Problems = append(v.Problems, k.v.Problems...)
		for id, s := range k.sent {
			if sent[id] != nil {
				v.Problems = append(v.Problems, "check-in id generated twice: "+id)
			}
			sent[id] = s
		}
	}
	stored, err := db.ListCheckIns(ctx, eventID, math.MaxInt32)
	if err != nil {
		return err
	}
	counts, err := db.AttendeeCheckInCounts(ctx, eventID, time.Time{})
	if err != nil {
		return err
	}
	stats, err := db.EventStats(ctx, eventID)
	if err != nil {
		return err
	}
	v.Sent = len(sent)
	v.Stored = len(stored)
	storedN := map[string]int{}
	perAttendee := map[string]int{}
	for _, c := range stored {
		storedN[c.ID]++
		perAttendee[c.AttendeeID]++
		if c.Repeat {
			v.Repeats++
		}
		s := sent[c.ID]
		if s == nil {
			v.Phantom++
			continue
		}
		if s.attendee != c.AttendeeID || s.kiosk != c.KioskID {
			v.Mismatched++
		}
	}
	for _, n := range storedN {
		if n > 1 {
			v.StoredTwice++
		}
	}
	for id, s := range sent {
		if s.accepted > 0 {
			v.Accepted++
		}
		if s.accepted > 1 {
			v.AcceptedTwice++
		}
		if s.confirmed {
			v.Confirmed++
			if storedN[id] == 0 {
				v.Lost++
			}
		} else {
			v.Unconfirmed++
		}
	}
	for a, n := range perAttendee {
		if counts[a] != n {
			v.CounterMismatch++
		}
	}
	v.RepeatsExpected = len(stored) - len(perAttendee)
	if stats.Repeats != v.Repeats || stats.CheckIns != len(perAttendee) {
		v.Problems = append(v.Problems, fmt.Sprintf("event stats say %d checked in / %d repeats, store rows say %d / %d",
			stats.CheckIns, stats.Repeats, len(perAttendee), v.Repeats))
	}
	check := func(bad bool, format string, args ...any) {
		if bad {
			v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
		}
	}
	check(v.Lost > 0, "%d accepted check-ins are not stored (lost)", v.Lost)
	check(v.Phantom > 0, "%d stored check-ins were never sent", v.Phantom)
	check(v.AcceptedTwice > 0, "%d check-ins were answered accepted twice", v.AcceptedTwice)
	check(v.StoredTwice > 0, "%d check-ins are stored twice", v.StoredTwice)
	check(v.Mismatched > 0, "%d stored check-ins have another attendee or kiosk than sent", v.Mismatched)
	check(v.Unconfirmed > 0, "%d check-ins were never confirmed (every attempt failed)", v.Unconfirmed)
	check(v.ReplayNotDuplicate > 0, "%d replayed check-ins were not answered duplicate", v.ReplayNotDuplicate)
	check(v.Repeats != v.RepeatsExpected, "%d check-ins flagged repeat, want %d", v.Repeats, v.RepeatsExpected)
	check(v.CounterMismatch > 0, "%d attendees' check-in counters differ from their stored check-ins", v.CounterMismatch)
	check(v.GalleryMismatch > 0, "%d kiosks got a wrong full gallery", v.GalleryMismatch)
	check(v.TemplateMismatch > 0, "%d of %d sampled templates did not open to the seeded bytes", v.TemplateMismatch, v.TemplatesOpened)
	check(v.KiosksFailed > 0, "%d kiosks could not pair or sync", v.KiosksFailed)
	check(v.Accepted == 0, "no check-in was accepted")
	v.OK = len(v.Problems) == 0
	return nil
}

// WriteText prints the report for people.
func (rep *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "facecheck-server load test: %d kiosks, %d attendees, %s, %d CPUs (GOMAXPROCS %d), %s\n",
		rep.Kiosks, rep.Attendees, rep.Dialect, rep.CPUs, rep.GOMAXPROCS, rep.GoVersion)
	fmt.Fprintf(w, "  seed %.1fs; pair + full sync of all kiosks at once %.1fs (%.2f MB per sync)\n",
		rep.SeedSeconds, rep.SyncPhaseSeconds, rep.GalleryMB)
	fmt.Fprintf(w, "  full gallery sync per kiosk: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n", rep.FullSync.P50, rep.FullSync.P95, rep.FullSync.Max)
	fmt.Fprintf(w, "  check-in phase %.1fs: %d requests, %.1f req/s, %.1f batches/s, %.1f check-ins/s accepted\n",
		rep.RunSeconds, rep.Requests, rep.RequestsPerS, rep.BatchesPerS, rep.CheckInsPerS)
	fmt.Fprintf(w, "  %-32s %8s %6s %9s %9s %9s %9s\n", "route", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, r := range routeOrder {
		s, ok := rep.Routes[r]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %-32s %8d %6d %9.2f %9.2f %9.2f %9.2f\n", r, s.Count, s.Errors, s.P50, s.P95, s.P99, s.Max)
	}
	v := rep.Verify
	fmt.Fprintf(w, "  verify: sent %d, accepted %d, confirmed %d, stored %d; lost %d, phantom %d, accepted twice %d, stored twice %d,\n",
		v.Sent, v.Accepted, v.Confirmed, v.Stored, v.Lost, v.Phantom, v.AcceptedTwice, v.StoredTwice)
	fmt.Fprintf(w, "          replays %d (%d check-ins, %d not duplicate), repeats %d/%d, templates opened %d (%d bad)\n",
		v.Replays, v.ReplayItems, v.ReplayNotDuplicate, v.Repeats, v.RepeatsExpected, v.TemplatesOpened, v.TemplateMismatch)
	for _, e := range rep.FirstErrors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	if v.OK {
		fmt.Fprintln(w, "  PASS: every accepted check-in stored exactly once, nothing extra, replays answered duplicate")
	} else {
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  FAIL: %s\n", p)
		}
	}
}
