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

// startSync pairs the kiosk when --pair-code is given, and, when it is
// paired, pulls once (so the gallery is fresh before the first frame) and
// starts the sync loop in the background, writing its status events as JSON
// lines to out. It returns nil, nil when the kiosk is not paired and no
// server was given: the kiosk then runs offline on its local gallery.
// stop cancels the loop, waits for it and makes a last push.
func startSync(ctx context.Context, sf *syncFlags, keyPath string, db *storage.DB, gallery *engine.Gallery,
	out io.Writer, onEvent func(kiosk.Event), onSettings func(api.EventSettings), stderr io.Writer) (s *kiosk.Syncer, stop func(), err error) {
	path := *sf.pairingPath
	if path == "" {
		path = kiosk.PairingPathFor(keyPath)
	}
	enc := json.NewEncoder(out)
	cfg := kiosk.DefaultSyncConfig()
	cfg.PairingPath = path
	cfg.AppVersion = "dev"
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
	s, err = kiosk.NewSyncer(db, gallery, cfg)
	if err != nil {
		return nil, nil, err
	}
	if *sf.pairCode != "" {
		if *sf.server == "" {
			return nil, nil, fmt.Errorf("kiosk: --pair-code needs --server URL")
		}
		p, err := s.Pair(ctx, *sf.server, *sf.pairCode, *sf.deviceName)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "kiosk: paired with event %q at %s (pairing in %s)\n", p.EventName, p.ServerURL, path)
	} else if *sf.server != "" && !s.Paired() {
		return nil, nil, fmt.Errorf("kiosk: not paired with %s yet: add --pair-code CODE (from the admin dashboard)", *sf.server)
	} else if p := s.Pairing(); p != nil && *sf.server != "" && *sf.server != p.ServerURL {
		fmt.Fprintf(stderr, "kiosk: warning: paired with %s, ignoring --server %s (pair again to switch)\n", p.ServerURL, *sf.server)
	}
	if !s.Paired() {
		return nil, func() {}, nil
	}
	if _, err := s.SyncOnce(ctx); err != nil {
		fmt.Fprintf(stderr, "kiosk: first sync failed, running offline on the cached gallery: %v\n", err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(loopCtx, *sf.interval, onSettings)
	}()
	stop = func() {
		cancel()
		<-done
		// Last chance to deliver what the run just recorded.
		pctx, pcancel := context.WithTimeout(context.Background(), 2**sf.timeout)
		defer pcancel()
		st, err := s.PushCheckIns(pctx)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "kiosk: %d check-ins stay queued for the next start: %v\n", st.Remaining, err)
		case st.Remaining > 0:
			// Items waiting out a retry backoff are not due yet, so the push
			// above skipped them without an error.
			fmt.Fprintf(stderr, "kiosk: %d check-ins stay queued for the next start (the server did not take them yet)\n", st.Remaining)
		}
	}
	return s, stop, nil
}
