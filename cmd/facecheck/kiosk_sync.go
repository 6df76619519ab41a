package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/version"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// syncFlags are the network flags of `facecheck kiosk`.
type syncFlags struct {
	server      *string
	pairCode    *string
	deviceName  *string
	pairingPath *string
	interval    *time.Duration
	timeout     *time.Duration
	retries     *int
}

func addSyncFlags(fs *flag.FlagSet) *syncFlags {
	host, _ := os.Hostname()
	return &syncFlags{
		server:      fs.String("server", "", "facecheck server URL (needed with --pair-code; afterwards the pairing file remembers it)"),
		pairCode:    fs.String("pair-code", "", "one-time pairing code from the admin dashboard"),
		deviceName:  fs.String("device-name", host, "name this kiosk shows on the dashboard"),
		pairingPath: fs.String("pairing", "", "pairing file, 0600 (default: next to --key, e.g. kiosk.pairing.json)"),
		interval:    fs.Duration("sync-interval", 15*time.Second, "time between sync rounds"),
		timeout:     fs.Duration("net-timeout", 10*time.Second, "timeout of one HTTP attempt"),
		retries:     fs.Int("net-retries", 3, "retries of one HTTP request"),
	}
}

// lockedWriter serialises whole writes (json.Encoder writes a line in one
// call), so the sync goroutine and the headless runner can share stdout.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// kioskSync is the sync side of a kiosk run: the Syncer, paired or not,
// and its background loop once the kiosk is paired (at start, or later
// from the window's settings pane).
type kioskSync struct {
	s          *kiosk.Syncer
	sf         *syncFlags
	path       string // pairing file
	onSettings func(api.EventSettings)
	stderr     io.Writer

	mu      sync.Mutex
	stopped bool
	stop    func() // the running loop's; nil while none runs
}

// startSync pairs the kiosk when --pair-code is given, and, when it is
// paired, pulls once (so the gallery is fresh before the first frame) and
// starts the sync loop in the background, writing its status events as JSON
// lines to out (or to onEvent when set). When the kiosk is not paired and
// no server was given it runs offline on its local gallery until pair
// (the window's Pair button) pairs it. Stop ends the loop with a last push.
func startSync(ctx context.Context, sf *syncFlags, keyPath string, db *storage.DB, gallery *engine.Gallery,
	out io.Writer, onEvent func(kiosk.Event), onSettings func(api.EventSettings), stderr io.Writer) (*kioskSync, error) {
	path := *sf.pairingPath
	if path == "" {
		path = kiosk.PairingPathFor(keyPath)
	}
	enc := json.NewEncoder(out)
	cfg := kiosk.DefaultSyncConfig()
	cfg.PairingPath = path
	cfg.AppVersion = version.Get().Short()
	cfg.Timeout = *sf.timeout
	cfg.RetryMax = *sf.retries
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// kiosk.Line has no sync field: sync status lines are written here
	// unless the caller (the window) takes the events itself.
	cfg.OnEvent = onEvent
	if onEvent == nil {
		cfg.OnEvent = func(e kiosk.Event) {
			_ = enc.Encode(struct {
				Event kiosk.EventKind   `json:"event"`
				At    time.Time         `json:"at"`
				Sync  *kiosk.SyncStatus `json:"sync"`
			}{e.Kind, e.At, e.Sync})
		}
	}
	s, err := kiosk.NewSyncer(db, gallery, cfg)
	if err != nil {
		return nil, err
	}
	k := &kioskSync{s: s, sf: sf, path: path, onSettings: onSettings, stderr: stderr}
	if *sf.pairCode != "" {
		if *sf.server == "" {
			return nil, fmt.Errorf("kiosk: --pair-code needs --server URL")
		}
		if _, err := k.pair(ctx, *sf.server, *sf.pairCode); err != nil {
			return nil, err
		}
	} else if *sf.server != "" && !s.Paired() {
		return nil, fmt.Errorf("kiosk: not paired with %s yet: add --pair-code CODE (from the admin dashboard)", *sf.server)
	} else if p := s.Pairing(); p != nil && *sf.server != "" && *sf.server != p.ServerURL {
		fmt.Fprintf(stderr, "kiosk: warning: paired with %s, ignoring --server %s (pair again to switch)\n", p.ServerURL, *sf.server)
	}
	if !s.Paired() {
		return k, nil
	}
	if _, err := s.SyncOnce(ctx); err != nil {
		fmt.Fprintf(stderr, "kiosk: first sync failed, running offline on the cached gallery: %v\n", err)
	}
	k.start(ctx)
	return k, nil
}

// pair exchanges a one-time pairing code at server for this kiosk's
// pairing (saved in the pairing file): --server --pair-code at start, the
// settings pane's Pair button in the window.
func (k *kioskSync) pair(ctx context.Context, server, code string) (*kiosk.Pairing, error) {
	p, err := k.s.Pair(ctx, server, code, *k.sf.deviceName)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(k.stderr, "kiosk: paired with event %q at %s (pairing in %s)\n", p.EventName, p.ServerURL, k.path)
	return p, nil
}

// pairAndSync is what the window's Pair button calls: pair, let onPaired
// take the new pairing (the event's template key for second
// verification), then sync in the background for the rest of the run
// (runCtx, not the request's ctx).
func (k *kioskSync) pairAndSync(runCtx context.Context, onPaired func(*kiosk.Pairing)) func(ctx context.Context, server, code string) error {
	return func(ctx context.Context, server, code string) error {
		p, err := k.pair(ctx, server, code)
		if err != nil {
			return err
		}
		if onPaired != nil {
			onPaired(p)
		}
		k.start(runCtx)
		return nil
	}
}

// start runs the sync loop in the background until ctx ends or Stop. It
// does nothing when the kiosk is not paired, the loop already runs or the
// run is stopping.
func (k *kioskSync) start(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stop != nil || k.stopped || !k.s.Paired() || ctx.Err() != nil {
		return
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = k.s.Run(loopCtx, *k.sf.interval, k.onSettings)
	}()
	k.stop = func() {
		cancel()
		<-done
	}
}

// Stop cancels the loop, waits for it and makes a last push, when the
// loop ran.
func (k *kioskSync) Stop() {
	k.mu.Lock()
	stop := k.stop
	k.stop, k.stopped = nil, true
	k.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	// Last chance to deliver what the run just recorded.
	pctx, pcancel := context.WithTimeout(context.Background(), 2**k.sf.timeout)
	defer pcancel()
	st, err := k.s.PushCheckIns(pctx)
	switch {
	case err != nil:
		fmt.Fprintf(k.stderr, "kiosk: %d check-ins stay queued for the next start: %v\n", st.Remaining, err)
	case st.Remaining > 0:
		// Items waiting out a retry backoff are not due yet, so the push
		// above skipped them without an error.
		fmt.Fprintf(k.stderr, "kiosk: %d check-ins stay queued for the next start (the server did not take them yet)\n", st.Remaining)
	}
}
