package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// SyncConfig configures a Syncer. Zero durations and a zero Batch take the
// defaults of DefaultSyncConfig (RetryMax 0 means no retries); Validate
// refuses the rest of what makes no sense instead of guessing.
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

	// HTTPClient, when set, supplies the transport; its Timeout is
	// overridden per call, and CAFile does not apply to it.
	HTTPClient *http.Client
	// CAFile is a PEM file of a private CA trusted for the server's
	// certificate besides the system's roots (--ca).
	CAFile string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// OnEvent, when set, receives an Event{Kind: EventSync} after every
	// sync round and pairing. It is called from the syncing goroutine and
	// must not block.
	OnEvent func(Event)
	// OnPairing, when set, receives the pairing after the event key
	// changed (a rotation), and nil after the kiosk wiped its pairing (its
	// token was revoked): whoever checks short codes or seals captures
	// with the key takes the new one. Called from the syncing goroutine.
	OnPairing func(*Pairing)
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

// maxSyncRetries bounds RetryMax: more retries of one request only delay
// the kiosk noticing that the server is gone.
const maxSyncRetries = 20

// Validate reports the first setting that makes no sense: a negative
// duration, retry count or batch, or a backoff range whose maximum is
// below its minimum (both given).
func (c SyncConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"network timeout", c.Timeout}, {"gallery timeout", c.GalleryTimeout},
		{"retry wait minimum", c.RetryWaitMin}, {"retry wait maximum", c.RetryWaitMax},
		{"outbox backoff minimum", c.OutboxBackoffMin}, {"outbox backoff maximum", c.OutboxBackoffMax},
	} {
		if d.v < 0 {
			return fmt.Errorf("kiosk: sync %s %s, want ≥ 0 (0 = default)", d.name, d.v)
		}
	}
	switch {
	case c.RetryMax < 0 || c.RetryMax > maxSyncRetries:
		return fmt.Errorf("kiosk: sync retries %d, want 0..%d", c.RetryMax, maxSyncRetries)
	case c.Batch < 0:
		return fmt.Errorf("kiosk: sync batch %d, want ≥ 1 (0 = default)", c.Batch)
	case c.RetryWaitMin > 0 && c.RetryWaitMax > 0 && c.RetryWaitMax < c.RetryWaitMin:
		return fmt.Errorf("kiosk: sync retry wait maximum %s below its minimum %s", c.RetryWaitMax, c.RetryWaitMin)
	case c.OutboxBackoffMin > 0 && c.OutboxBackoffMax > 0 && c.OutboxBackoffMax < c.OutboxBackoffMin:
		return fmt.Errorf("kiosk: sync outbox backoff maximum %s below its minimum %s", c.OutboxBackoffMax, c.OutboxBackoffMin)
	}
	return nil
}

// fill puts the defaults into the zero fields of a valid configuration.
func (c *SyncConfig) fill() {
	d := DefaultSyncConfig()
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.GalleryTimeout <= 0 {
		c.GalleryTimeout = d.GalleryTimeout
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = d.RetryWaitMin
		if c.RetryWaitMax > 0 {
			c.RetryWaitMin = min(c.RetryWaitMin, c.RetryWaitMax)
		}
	}
	if c.RetryWaitMax <= 0 {
		// Only the minimum was given: the default maximum, or the minimum.
		c.RetryWaitMax = max(d.RetryWaitMax, c.RetryWaitMin)
	}
	if c.Batch <= 0 {
		c.Batch = d.Batch
	}
	if c.OutboxBackoffMin <= 0 {
		c.OutboxBackoffMin = d.OutboxBackoffMin
		if c.OutboxBackoffMax > 0 {
			c.OutboxBackoffMin = min(c.OutboxBackoffMin, c.OutboxBackoffMax)
		}
	}
	if c.OutboxBackoffMax <= 0 {
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
	health  syncHealth
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
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.fill()
	s := &Syncer{cfg: cfg, db: db, gallery: gallery, kick: make(chan struct{}, 1)}

	var transport http.RoundTripper
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		transport = cfg.HTTPClient.Transport
	} else {
		tc, err := tlsConfig(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
		transport = &http.Transport{
			TLSClientConfig:       tc,
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
		c.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if ctx.Err() == nil {
				s.noteAttempt(resp, err)
			}
			return checkRetry(ctx, resp, err)
		}
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
