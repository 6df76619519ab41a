package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// Sync errors callers branch on with errors.Is.
var (
	// ErrUnauthorized: the server refused the kiosk's token (revoked or
	// unknown). Nothing is lost; the kiosk must be paired again.
	ErrUnauthorized = errors.New("kiosk: the server refused this kiosk's token: pair it again")
	// ErrProtocol: the server answered with something that is not the API
	// (garbage, a cut gallery stream, a template that cannot be opened).
	ErrProtocol = errors.New("kiosk: unexpected answer from the server")
	// ErrOffline: the server could not be reached or answered 5xx after the
	// retries.
	ErrOffline = errors.New("kiosk: server unreachable")
)

// HTTPError is a non-2xx answer of the server, with its problem details
// when it sent some.
type HTTPError struct {
	Method, Path string
	Status       int
	Problem      *api.Problem
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Problem != nil {
		msg += ": " + e.Problem.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnauthorized) hold for 401/403 and
// errors.Is(err, ErrOffline) for 5xx.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrOffline:
		return e.Status >= 500
	}
	return false
}

// SyncConfig configures a Syncer. Zero fields take the defaults of
// DefaultSyncConfig.
type SyncConfig struct {
	// PairingPath is the pairing file (see Pairing). Required.
	PairingPath string
	// AppVersion is sent with pairing and heartbeats.
	AppVersion string

	// Timeout bounds each HTTP attempt: connecting, waiting for the answer
	// and reading a JSON body. For the gallery stream it bounds the wait for
	// the headers and any stall while reading the body.
	Timeout time.Duration
	// GalleryTimeout bounds a whole gallery pull (a first sync of a large
	// event over a slow link may take a while).
	GalleryTimeout time.Duration
	// RetryMax is how many times one request is retried (connection
	// errors, 408, 429, 5xx) before the call fails; RetryWaitMin/Max bound
	// the exponential backoff with jitter between attempts.
	RetryMax                   int
	RetryWaitMin, RetryWaitMax time.Duration
	// Batch is the number of check-ins per POST /v1/checkins.
	Batch int
	// OutboxBackoffMin/Max bound the exponential backoff (with jitter) of an
	// outbox item that failed to deliver, counted in the item's attempts.
	OutboxBackoffMin, OutboxBackoffMax time.Duration

	// HTTPClient, when set, supplies the transport (e.g. a custom TLS CA);
	// its Timeout is overridden per call.
	HTTPClient *http.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// OnEvent, when set, receives an Event{Kind: EventSync} after every
	// sync round and pairing. It is called from the syncing goroutine and
	// must not block.
	OnEvent func(Event)
}

// DefaultSyncConfig returns the defaults.
func DefaultSyncConfig() SyncConfig {
	return SyncConfig{
		Timeout:          10 * time.Second,
		GalleryTimeout:   10 * time.Minute,
		RetryMax:         3,
		RetryWaitMin:     250 * time.Millisecond,
		RetryWaitMax:     5 * time.Second,
		Batch:            100,
		OutboxBackoffMin: 5 * time.Second,
		OutboxBackoffMax: 5 * time.Minute,
	}
}

func (c *SyncConfig) fill() {
	d := DefaultSyncConfig()
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.GalleryTimeout <= 0 {
		c.GalleryTimeout = d.GalleryTimeout
	}
	if c.RetryMax < 0 {
		c.RetryMax = 0
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = d.RetryWaitMin
	}
	if c.RetryWaitMax < c.RetryWaitMin {
		c.RetryWaitMax = max(d.RetryWaitMax, c.RetryWaitMin)
	}
	if c.Batch <= 0 {
		c.Batch = d.Batch
	}
	if c.OutboxBackoffMin <= 0 {
		c.OutboxBackoffMin = d.OutboxBackoffMin
	}
	if c.OutboxBackoffMax < c.OutboxBackoffMin {
		c.OutboxBackoffMax = max(d.OutboxBackoffMax, c.OutboxBackoffMin)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Syncer is the kiosk's sync worker: pairing, gallery delta pulls into the
// local database and the in-memory gallery, check-in and enrolment pushes
// from the durable outbox, event settings, heartbeats, and the sync status
// shown to the staff. Its methods are safe for concurrent use, but one
// sync round runs at a time.
type Syncer struct {
	cfg     SyncConfig
	db      *storage.DB
	gallery *engine.Gallery // may be nil

	api    *retryablehttp.Client // JSON calls: whole attempt bounded by Timeout
	stream *retryablehttp.Client // gallery stream: header timeout + stall watchdog

	round sync.Mutex // one sync round (or pairing) at a time
	kick  chan struct{}

	mu      sync.Mutex
	pairing *Pairing
	status  SyncStatus
}

// NewSyncer returns a Syncer on db that keeps gallery (which may be nil)
// in step with the database. It loads the pairing file if there is one; an
// unpaired Syncer can only Pair.
func NewSyncer(db *storage.DB, gallery *engine.Gallery, cfg SyncConfig) (*Syncer, error) {
	if db == nil {
		return nil, errors.New("kiosk: NewSyncer needs a database")
	}
	if cfg.PairingPath == "" {
		return nil, errors.New("kiosk: NewSyncer needs a pairing file path")
	}
	cfg.fill()
	s := &Syncer{cfg: cfg, db: db, gallery: gallery, kick: make(chan struct{}, 1)}

	var transport http.RoundTripper
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		transport = cfg.HTTPClient.Transport
	} else {
		dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
		transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			ExpectContinueTimeout: time.Second,
		}
	}
	mk := func(timeout time.Duration) *retryablehttp.Client {
		c := retryablehttp.NewClient()
		c.HTTPClient = &http.Client{Transport: transport, Timeout: timeout}
		c.Logger = nil
		c.RetryMax = cfg.RetryMax
		c.RetryWaitMin, c.RetryWaitMax = cfg.RetryWaitMin, cfg.RetryWaitMax
		c.CheckRetry = checkRetry
		c.Backoff = jitterBackoff
		c.ErrorHandler = passLastResponse
		return c
	}
	s.api = mk(cfg.Timeout)
	s.stream = mk(0)

	p, err := LoadPairing(cfg.PairingPath)
	switch {
	case err == nil:
		s.pairing = p
	case errors.Is(err, ErrNotPaired):
	default:
		return nil, err
	}
	return s, nil
}

// checkRetry retries connection errors, 408, 429 and 5xx (but 501); other
// 4xx answers are final.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true, nil
	case c >= 500 && c != http.StatusNotImplemented, c == 0:
		return true, nil
	}
	return false, nil
}

// jitterBackoff is exponential backoff with jitter: a random wait in
// [d/2, d] with d = min·2^attempt capped at max. A Retry-After of a 429 or
// 503 answer is honoured up to max.
func jitterBackoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxWait)
		}
	}
	return jitter(expo(minWait, maxWait, attempt))
}

func expo(minWait, maxWait time.Duration, attempt int) time.Duration {
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// passLastResponse hands the last response to the caller when the retries
// ran out on an HTTP status, so the caller reports the status and the
// problem details instead of a bare "giving up".
func passLastResponse(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if err == nil && resp != nil {
		return resp, nil
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return nil, fmt.Errorf("%w after %d attempt(s): %w", ErrOffline, attempts, err)
}

// Pairing returns a copy of the current pairing, or nil.
func (s *Syncer) Pairing() *Pairing {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pairing == nil {
		return nil
	}
	p := *s.pairing
	p.TemplateKey = append([]byte(nil), p.TemplateKey...)
	return &p
}

// Paired reports whether the kiosk has a pairing.
func (s *Syncer) Paired() bool { return s.Pairing() != nil }

// Pair exchanges a one-time pairing code at serverURL for a kiosk token and
// the event's template key, and saves them in the pairing file. When the
// kiosk was paired with another event or server before (or never), the
// local gallery is dropped so the next PullGallery fetches the new event's
// gallery in full; check-ins and the outbox are kept.
func (s *Syncer) Pair(ctx context.Context, serverURL, code, deviceName string) (*Pairing, error) {
	s.round.Lock()
	defer s.round.Unlock()
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(serverURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kiosk: pair: server URL %q: want http(s)://host[:port]", serverURL)
	}
	if strings.TrimSpace(code) == "" {
		return nil, errors.New("kiosk: pair: empty pairing code")
	}
	base := u.String()
	var resp api.PairResponse
	err = s.doJSON(ctx, base, "", http.MethodPost, api.Version+"/pair", "",
		api.PairRequest{Code: code, DeviceName: deviceName, AppVersion: s.cfg.AppVersion}, &resp)
	if err != nil {
		s.noteResult(err)
		return nil, fmt.Errorf("kiosk: pair: %w", err)
	}
	p := &Pairing{ServerURL: base, KioskID: resp.KioskID, Token: resp.Token, EventID: resp.EventID,
		EventName: resp.EventName, TemplateKey: resp.TemplateKey, PairedAt: s.cfg.Now().UTC()}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("kiosk: pair: %w: %v", ErrProtocol, err)
	}
	prev := s.Pairing()
	if prev == nil || prev.EventID != p.EventID || prev.ServerURL != p.ServerURL {
		if err := s.db.ResetGallery(ctx); err != nil {
			return nil, fmt.Errorf("kiosk: pair: %w", err)
		}
		if s.gallery != nil {
			for _, id := range s.gallery.IDs() {
				s.gallery.Remove(id)
			}
		}
	}
	if err := SavePairing(s.cfg.PairingPath, p); err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, "pairing", "kiosk.paired",
		fmt.Sprintf("paired as kiosk %s with event %q (%s) at %s", p.KioskID, p.EventName, p.EventID, p.ServerURL)); err != nil {
		s.cfg.Logger.Warn("sync: audit pairing", "err", err)
	}
	s.mu.Lock()
	s.pairing = p
	s.mu.Unlock()
	s.noteResult(nil)
	s.emit()
	return s.Pairing(), nil
}

// --- HTTP plumbing ---------------------------------------------------------

func (s *Syncer) paired() (*Pairing, error) {
	p := s.Pairing()
	if p == nil {
		return nil, ErrNotPaired
	}
	return p, nil
}

// do sends one request through c (with retries) and returns the response
// of a 2xx answer; anything else is an error (*HTTPError for a status).
func (s *Syncer) do(ctx context.Context, c *retryablehttp.Client, base, token, method, path, idemKey string, body any) (*http.Response, error) {
	var raw any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, base+path, raw)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set(api.HeaderIdempotencyKey, idemKey)
	}
	if s.cfg.AppVersion != "" {
		req.Header.Set("User-Agent", "facecheck-kiosk/"+s.cfg.AppVersion)
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrOffline) {
			return nil, fmt.Errorf("%w: %w", ErrOffline, err)
		}
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	he := &HTTPError{Method: method, Path: strings.SplitN(path, "?", 2)[0], Status: resp.StatusCode}
	var p api.Problem
	if b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); json.Unmarshal(b, &p) == nil && p.Title != "" {
		he.Problem = &p
	}
	return nil, he
}

// doJSON is do for a small JSON answer decoded into out (nil: ignored).
func (s *Syncer) doJSON(ctx context.Context, base, token, method, path, idemKey string, body, out any) error {
	resp, err := s.do(ctx, s.api, base, token, method, path, idemKey, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading the answer: %w", ErrOffline, method, path, err)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: %v (answer starts %q)", ErrProtocol, method, path, err, truncate(b, 80))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// --- gallery -------------------------------------------------------------

// GalleryStats describes one gallery pull.
type GalleryStats struct {
	Since, Cursor    int64
	Upserts, Deletes int
	SkippedTemplates int // templates of another model or version, not usable here
	Full             bool
}

// galleryLine is either an api.GalleryRecord or the api.GalleryEnd line.
type galleryLine struct {
	api.GalleryRecord
	End   bool `json:"end"`
	Count int  `json:"count"`
}

// maxGalleryLine bounds one NDJSON line (an attendee with a few sealed
// templates is a few KiB).
const maxGalleryLine = 4 << 20

// PullGallery fetches the gallery changes since the stored cursor and
// applies them: upserts replace an attendee's templates, tombstones remove
// the attendee, in the database (one transaction, with the new cursor) and
// then in the in-memory gallery. Nothing is applied unless the feed is
// complete (its end line arrived) and every line parsed and every template
// opened: a cut stream, garbage or a bad seal is an error and leaves the
// cursor where it was. A full feed (cursor 0, or a server whose cursor went
// back) is a snapshot: local attendees missing from it are removed.
func (s *Syncer) PullGallery(ctx context.Context) (GalleryStats, error) {
	s.round.Lock()
	defer s.round.Unlock()
	st, err := s.pullGallery(ctx)
	s.noteResult(err)
	return st, err
}

func (s *Syncer) pullGallery(ctx context.Context) (GalleryStats, error) {
	var st GalleryStats
	p, err := s.paired()
	if err != nil {
		return st, err
	}
	since, err := s.db.GetCursor(ctx)
	if err != nil {
		return st, err
	}
	st.Since = since
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GalleryTimeout)
	defer cancel()
	ctx, stall := context.WithCancelCause(ctx)
	defer stall(nil)
	resp, err := s.do(ctx, s.stream, p.ServerURL, p.Token, http.MethodGet,
		api.Version+"/gallery?since="+strconv.FormatInt(since, 10), "", nil)
	if err != nil {
		return st, fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	defer resp.Body.Close()
	// Stall watchdog: no bytes for Timeout cancels the stream.
	watchdog := time.AfterFunc(s.cfg.Timeout, func() {
		stall(fmt.Errorf("%w: gallery stream stalled for %s", ErrOffline, s.cfg.Timeout))
	})
	defer watchdog.Stop()
	body := &progressReader{r: resp.Body, onRead: func() { watchdog.Reset(s.cfg.Timeout) }}

	type op struct {
		del bool
		up  storage.GalleryUpsert
		ts  []engine.Template
	}
	ops := map[string]*op{}
	var order []string
	var end *galleryLine
	records := 0
	lastCursor := int64(-1)

	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxGalleryLine)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("kiosk: pull gallery: %w: line %d: %s", ErrProtocol, line, fmt.Sprintf(format, args...))
		}
		if end != nil {
			return st, bad("data after the end line")
		}
		var l galleryLine
		if err := json.Unmarshal(b, &l); err != nil {
			return st, bad("%v (line starts %q)", err, truncate(b, 60))
		}
		if l.End {
			end = &l
			continue
		}
		if l.AttendeeID == "" {
			return st, bad("record without attendee id")
		}
		if l.Cursor < lastCursor {
			return st, bad("cursor %d goes back from %d", l.Cursor, lastCursor)
		}
		lastCursor = l.Cursor
		records++
		o := &op{}
		switch l.Op {
		case api.OpDelete:
			o.del = true
		case api.OpUpsert:
			if strings.TrimSpace(l.Name) == "" {
				return st, bad("attendee %s has no name", l.AttendeeID)
			}
			o.up.Attendee = storage.Attendee{ID: l.AttendeeID, Name: l.Name, Info: l.Info, CodeHash: l.CodeHash,
				CaptureConsent: l.CaptureConsent}
			for i, sealed := range l.Templates {
				t, err := api.OpenTemplate(p.TemplateKey, l.AttendeeID, sealed)
				if err != nil {
					return st, bad("template %d of attendee %s: %v", i, l.AttendeeID, err)
				}
				if t.Model != engine.ModelID || t.Version != engine.TemplateVersion {
					st.SkippedTemplates++
					continue
				}
				et, err := engine.TemplateFromBytes(t.Model, t.Version, t.Data)
				if err != nil {
					return st, bad("template %d of attendee %s: %v", i, l.AttendeeID, err)
				}
				o.up.Templates = append(o.up.Templates, t)
				o.ts = append(o.ts, et)
			}
		default:
			return st, bad("unknown op %q", l.Op)
		}
		if _, seen := ops[l.AttendeeID]; !seen {
			order = append(order, l.AttendeeID)
		}
		ops[l.AttendeeID] = o // the last operation on an attendee wins
	}
	if err := sc.Err(); err != nil {
		if c := context.Cause(ctx); c != nil {
			err = c
		}
		return st, fmt.Errorf("kiosk: pull gallery: stream cut after %d records, nothing applied: %w", records, errors.Join(ErrOffline, err))
	}
	if end == nil {
		return st, fmt.Errorf("kiosk: pull gallery: %w: stream ended after %d records without its end line, nothing applied", ErrProtocol, records)
	}
	if end.Count != records {
		return st, fmt.Errorf("kiosk: pull gallery: %w: end line counts %d records, %d arrived", ErrProtocol, end.Count, records)
	}
	if end.Cursor < lastCursor {
		return st, fmt.Errorf("kiosk: pull gallery: %w: end cursor %d before record cursor %d", ErrProtocol, end.Cursor, lastCursor)
	}

	st.Full = since == 0 || end.Cursor < since
	var upserts []storage.GalleryUpsert
	var deletes []string
	for _, id := range order {
		o := ops[id]
		if o.del {
			deletes = append(deletes, id)
		} else {
			upserts = append(upserts, o.up)
		}
	}
	var stale []string
	if st.Full {
		local, err := s.db.ListAttendees(ctx)
		if err != nil {
			return st, err
		}
		for _, a := range local {
			if _, ok := ops[a.ID]; !ok {
				stale = append(stale, a.ID)
			}
		}
		if s.gallery != nil {
			for _, id := range s.gallery.IDs() {
				if _, ok := ops[id]; !ok && !contains(stale, id) {
					stale = append(stale, id)
				}
			}
		}
		deletes = append(deletes, stale...)
	}
	if err := s.db.ApplyGalleryDelta(ctx, upserts, deletes, end.Cursor); err != nil {
		return st, fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	if s.gallery != nil {
		for _, id := range order {
			o := ops[id]
			if o.del {
				s.gallery.Remove(id)
			} else if err := s.gallery.Replace(id, o.ts...); err != nil {
				return st, fmt.Errorf("kiosk: pull gallery: in-memory gallery: %w", err)
			}
		}
		for _, id := range stale {
			s.gallery.Remove(id)
		}
	}
	st.Cursor, st.Upserts, st.Deletes = end.Cursor, len(upserts), len(deletes)
	if len(upserts)+len(deletes) > 0 {
		s.cfg.Logger.Info("sync: gallery", "since", since, "cursor", end.Cursor, "upserts", len(upserts), "deletes", len(deletes), "full", st.Full)
	}
	return st, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

type progressReader struct {
	r      io.Reader
	onRead func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.onRead()
	}
	return n, err
}

// --- outbox --------------------------------------------------------------

// PushStats describes one outbox drain.
type PushStats struct {
	Sent      int // accepted or duplicate (already on the server)
	Rejected  int // answered rejected / invalid: dropped from the outbox, logged
	Failed    int // kept, retried later
	Remaining int // still in the outbox
}

// PushCheckIns drains the due items of the outbox: check-ins go to
// POST /v1/checkins in batches (Idempotency-Key derived from the batch's
// check-in ids, and each check-in id is itself the server's idempotency
// key), walk-up enrolments to POST /v1/enrol one by one. Delivered items
// (accepted or duplicate) are removed; a check-in the server rejects for
// good (StatusRejected, or invalid) is removed too and written to the
// audit log, never retried forever; on a failure the items stay with an
// exponential backoff with jitter and the drain stops.
func (s *Syncer) PushCheckIns(ctx context.Context) (PushStats, error) {
	s.round.Lock()
	defer s.round.Unlock()
	st, err := s.push(ctx, s.cfg.Now())
	s.noteResult(err)
	return st, err
}

func (s *Syncer) push(ctx context.Context, dueBy time.Time) (PushStats, error) {
	var st PushStats
	p, err := s.paired()
	if err != nil {
		return st, err
	}
	var firstErr error
	for round := 0; round < 10000; round++ {
		items, err := s.db.PendingOutbox(ctx, s.cfg.Batch, dueBy)
		if err != nil {
			return st, err
		}
		if len(items) == 0 {
			break
		}
		var checkins, enrols []storage.OutboxItem
		for _, it := range items {
			if it.Kind == storage.OutboxEnrol {
				enrols = append(enrols, it)
			} else {
				checkins = append(checkins, it)
			}
		}
		if len(checkins) > 0 {
			if err := s.pushCheckIns(ctx, p, checkins, &st); err != nil {
				firstErr = err
				break
			}
		}
		if err := s.pushEnrols(ctx, p, enrols, &st); err != nil {
			firstErr = err
			break
		}
	}
	n, err := s.db.OutboxLen(ctx)
	if err == nil {
		st.Remaining = n
	}
	if firstErr != nil {
		return st, fmt.Errorf("kiosk: push: %w", firstErr)
	}
	return st, err
}

func (s *Syncer) nextAttempt(attempts int) time.Time {
	return s.cfg.Now().Add(jitter(expo(s.cfg.OutboxBackoffMin, s.cfg.OutboxBackoffMax, attempts)))
}

func (s *Syncer) fail(ctx context.Context, items []storage.OutboxItem, cause error, st *PushStats) error {
	var errs []error
	for _, it := range items {
		if err := s.db.MarkFailed(ctx, it.Seq, cause, s.nextAttempt(it.Attempts)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, err)
		}
		st.Failed++
	}
	return errors.Join(append([]error{cause}, errs...)...)
}

// drop removes items the server will never take, with an audit entry each.
func (s *Syncer) drop(ctx context.Context, it storage.OutboxItem, why string, st *PushStats) error {
	s.cfg.Logger.Warn("sync: server refused an outbox item for good; dropped", "kind", it.Kind, "ref", it.Ref, "why", why)
	if err := s.db.Audit(ctx, "sync", it.Kind+".rejected", fmt.Sprintf("%s %s dropped from the outbox: %s", it.Kind, it.Ref, why)); err != nil {
		return err
	}
	st.Rejected++
	return s.db.MarkSent(ctx, it.Seq)
}

func batchKey(items []storage.OutboxItem) string {
	refs := make([]string, len(items))
	for i, it := range items {
		refs[i] = it.Ref
	}
	sort.Strings(refs)
	h := sha256.Sum256([]byte(strings.Join(refs, "\n")))
	return "checkins-" + hex.EncodeToString(h[:16])
}

func (s *Syncer) pushCheckIns(ctx context.Context, p *Pairing, items []storage.OutboxItem, st *PushStats) error {
	batch := api.CheckInBatch{CheckIns: make([]api.CheckIn, 0, len(items))}
	valid := items[:0:0]
	for _, it := range items {
		var c api.CheckIn
		if err := json.Unmarshal(it.Payload, &c); err != nil || c.ID == "" {
			if err := s.drop(ctx, it, fmt.Sprintf("unreadable payload: %v", err), st); err != nil {
				return err
			}
			continue
		}
		batch.CheckIns = append(batch.CheckIns, c)
		valid = append(valid, it)
	}
	if len(valid) == 0 {
		return nil
	}
	var res api.CheckInBatchResult
	err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/checkins", batchKey(valid), batch, &res)
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusUnprocessableEntity {
		if len(valid) > 1 {
			// One bad check-in refuses the whole batch: find it.
			for _, it := range valid {
				if err := s.pushCheckIns(ctx, p, []storage.OutboxItem{it}, st); err != nil {
					return err
				}
			}
			return nil
		}
		return s.drop(ctx, valid[0], he.Error(), st)
	}
	if err != nil {
		return s.fail(ctx, valid, err, st)
	}
	byID := make(map[string]api.CheckInResult, len(res.Results))
	for _, r := range res.Results {
		byID[r.ID] = r
	}
	var sent []int64
	var missing []storage.OutboxItem
	for _, it := range valid {
		r, ok := byID[it.Ref]
		switch {
		case !ok:
			missing = append(missing, it)
		case r.Status == api.StatusAccepted || r.Status == api.StatusDuplicate:
			sent = append(sent, it.Seq)
			st.Sent++
		case r.Status == api.StatusRejected:
			if err := s.drop(ctx, it, "the server rejected it (attendee not of this event)", st); err != nil {
				return err
			}
		default:
			missing = append(missing, it)
		}
	}
	if err := s.db.MarkSent(ctx, sent...); err != nil {
		return err
	}
	if len(missing) > 0 {
		return s.fail(ctx, missing, fmt.Errorf("%w: POST /v1/checkins: %d check-ins missing from the answer", ErrProtocol, len(missing)), st)
	}
	return nil
}

func (s *Syncer) pushEnrols(ctx context.Context, p *Pairing, items []storage.OutboxItem, st *PushStats) error {
	for _, it := range items {
		var req api.EnrolRequest
		if err := json.Unmarshal(it.Payload, &req); err != nil {
			if err := s.drop(ctx, it, fmt.Sprintf("unreadable payload: %v", err), st); err != nil {
				return err
			}
			continue
		}
		var resp api.EnrolResponse
		err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/enrol", req.ID, req, &resp)
		var he *HTTPError
		switch {
		case err == nil:
			if err := s.db.MarkSent(ctx, it.Seq); err != nil {
				return err
			}
			st.Sent++
			if err := s.db.Audit(ctx, "sync", "enrol.sent", fmt.Sprintf("enrolment %s stored on the server as attendee %s", req.ID, resp.AttendeeID)); err != nil {
				s.cfg.Logger.Warn("sync: audit", "err", err)
			}
		case errors.As(err, &he) && he.Status/100 == 4 && !errors.Is(he, ErrUnauthorized) &&
			he.Status != http.StatusRequestTimeout && he.Status != http.StatusTooManyRequests:
			// 409 e-mail taken, 410 deleted since, 422 invalid: final.
			if err := s.drop(ctx, it, he.Error(), st); err != nil {
				return err
			}
		default:
			return s.fail(ctx, []storage.OutboxItem{it}, err, st)
		}
	}
	return nil
}

// --- settings and heartbeat ---------------------------------------------------

// PullSettings fetches the event's kiosk settings and thresholds, stores
// the values as server defaults (local overrides keep winning) and returns
// them; applying the thresholds is the caller's business.
func (s *Syncer) PullSettings(ctx context.Context) (api.EventSettings, error) {
	s.round.Lock()
	defer s.round.Unlock()
	es, err := s.pullSettings(ctx)
	s.noteResult(err)
	return es, err
}

func (s *Syncer) pullSettings(ctx context.Context) (api.EventSettings, error) {
	var es api.EventSettings
	p, err := s.paired()
	if err != nil {
		return es, err
	}
	if err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodGet, api.Version+"/settings", "", nil, &es); err != nil {
		return es, fmt.Errorf("kiosk: pull settings: %w", err)
	}
	if es.EventID != "" && es.EventID != p.EventID {
		return es, fmt.Errorf("kiosk: pull settings: %w: settings of event %s, paired with %s", ErrProtocol, es.EventID, p.EventID)
	}
	values := map[string]string{}
	for k, v := range es.Values {
		values[k] = v
	}
	// The event's calibrated (or admin-pinned) thresholds become server
	// defaults of the threshold settings: they survive an offline restart,
	// and a threshold set locally on this kiosk still wins.
	if t := es.Thresholds; t.Accept > 0 && t.Confirm > 0 && t.Confirm <= t.Accept {
		values["face.accept"] = strconv.FormatFloat(float64(t.Accept), 'f', 4, 32)
		values["face.confirm"] = strconv.FormatFloat(float64(t.Confirm), 'f', 4, 32)
		if t.Margin > 0 {
			values["face.margin"] = strconv.FormatFloat(float64(t.Margin), 'f', 4, 32)
		}
	}
	if err := s.db.SetServerDefaults(ctx, values); err != nil {
		return es, fmt.Errorf("kiosk: pull settings: %w", err)
	}
	return es, nil
}

// Heartbeat reports the kiosk's queue and cursor to the server's dashboard.
func (s *Syncer) Heartbeat(ctx context.Context) error {
	p, err := s.paired()
	if err != nil {
		return err
	}
	q, err := s.db.OutboxLen(ctx)
	if err != nil {
		return err
	}
	cur, err := s.db.GetCursor(ctx)
	if err != nil {
		return err
	}
	err = s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/heartbeat", "",
		api.Heartbeat{AppVersion: s.cfg.AppVersion, Queued: q, Cursor: cur, At: s.cfg.Now().UTC()}, nil)
	if err != nil {
		return fmt.Errorf("kiosk: heartbeat: %w", err)
	}
	return nil
}

// --- loop and status ---------------------------------------------------------------

// RoundResult is what one SyncOnce did.
type RoundResult struct {
	Gallery  GalleryStats
	Push     PushStats
	Settings *api.EventSettings // nil when the pull failed
}

// SyncOnce runs one round: settings, gallery, outbox, heartbeat. Check-ins
// go out even when the gallery pull failed. When the server answers again
// after an outage, every queued item is sent at once, whatever its backoff.
// The status is updated and emitted; the first error is returned.
func (s *Syncer) SyncOnce(ctx context.Context) (RoundResult, error) {
	s.round.Lock()
	defer s.round.Unlock()
	var rr RoundResult
	wasOnline := s.Status().Online
	var errs []error
	es, err := s.pullSettings(ctx)
	if err == nil {
		rr.Settings = &es
	} else {
		errs = append(errs, err)
	}
	rr.Gallery, err = s.pullGallery(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	dueBy := s.cfg.Now()
	if len(errs) < 2 && !wasOnline {
		// The server answered again: do not wait for the outbox backoff.
		dueBy = dueBy.Add(100 * 365 * 24 * time.Hour)
	}
	rr.Push, err = s.push(ctx, dueBy)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := s.Heartbeat(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		s.noteResult(errs[0])
	} else {
		s.noteResult(nil)
		s.mu.Lock()
		s.status.LastSync = s.cfg.Now()
		s.mu.Unlock()
	}
	s.emit()
	return rr, errors.Join(errs...)
}

// Kick asks a running Run loop to sync now (after a check-in, say). It
// never blocks.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run syncs every interval (with ±10% jitter, and sooner after Kick) until
// ctx is done, then returns nil. Errors are reported through Status and
// OnEvent, not returned; Run returns ErrNotPaired at once if not paired.
// onSettings, when not nil, receives the event settings after each
// successful pull (to apply thresholds live).
func (s *Syncer) Run(ctx context.Context, interval time.Duration, onSettings func(api.EventSettings)) error {
	if !s.Paired() {
		return ErrNotPaired
	}
	if interval <= 0 {
		interval = 30 * time.Second
	}
	for {
		rr, err := s.SyncOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.cfg.Logger.Warn("sync: round failed", "err", err)
			if errors.Is(err, ErrUnauthorized) {
				s.cfg.Logger.Error("sync: " + ErrUnauthorized.Error())
			}
		}
		if rr.Settings != nil && onSettings != nil {
			onSettings(*rr.Settings)
		}
		wait := interval - interval/10 + rand.N(interval/5+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// noteResult updates online / offline since / last error from the outcome
// of a server call. A final 4xx answer still means the server is reachable.
func (s *Syncer) noteResult(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	var he *HTTPError
	switch {
	case err == nil:
		s.status.Online, s.status.OfflineSince, s.status.LastError = true, time.Time{}, ""
	case errors.Is(err, ErrNotPaired), errors.Is(err, context.Canceled):
		s.status.LastError = err.Error()
	case errors.As(err, &he) && he.Status < 500 && !errors.Is(err, ErrOffline):
		s.status.Online, s.status.OfflineSince = true, time.Time{}
		s.status.LastError = err.Error()
	default:
		if s.status.Online || s.status.OfflineSince.IsZero() {
			s.status.OfflineSince = now
		}
		s.status.Online = false
		s.status.LastError = err.Error()
	}
}

// Status returns the current sync status with fresh queue and gallery
// counts.
func (s *Syncer) Status() SyncStatus {
	s.mu.Lock()
	st := s.status
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := s.db.OutboxLen(ctx); err == nil {
		st.Queued = n
	}
	if s.gallery != nil {
		st.Gallery = s.gallery.Len()
	} else if n, err := s.db.CountAttendees(ctx); err == nil {
		st.Gallery = n
	}
	return st
}

func (s *Syncer) emit() {
	if s.cfg.OnEvent == nil {
		return
	}
	st := s.Status()
	s.cfg.OnEvent(Event{Kind: EventSync, At: s.cfg.Now(), Sync: &st})
}
