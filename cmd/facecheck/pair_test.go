package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
	"github.com/facecheck/facecheck/storage"
)

// testServer is a real facecheck server on 127.0.0.1 with its bootstrap
// event (as kiosk's e2e tests start one).
type testServer struct {
	URL   string
	DB    *store.DB
	Event *store.Event
}

func startTestServer(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{7}, api.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := server.RunBootstrap(ctx, db, "admin", "correct horse battery", "DevDay")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := server.NewServer(cfg, db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testServer{URL: s.URL(), DB: db, Event: b.Event}
}

// The settings pane's Pair button runs kioskSync.pairAndSync, the same
// pairing as --server --pair-code. Against a real server: a wrong code is
// refused as unauthorized (which the pane words as "wrong, used or
// expired"), the right one pairs (pairing file 0600, the event's template
// key handed on for second verification) and starts the sync loop, which
// pulls the server's attendee into the gallery and reports online.
func TestPairFromWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs := startTestServer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	if _, err := rs.DB.CreateAttendee(ctx, store.AttendeeCreate{EventID: rs.Event.ID, Name: "Ada Lovelace", Consent: true,
		Templates: []api.Template{testenv.RandomTemplate(t, rng)}}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	keyPath := filepath.Join(dir, "kiosk.key")
	key, err := storage.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(dir, "kiosk.db"), storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gallery, err := kiosk.LoadGallery(ctx, db, 3)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	sf := addSyncFlags(fs)
	if err := fs.Parse([]string{"--sync-interval", "200ms", "--net-timeout", "2s", "--net-retries", "0", "--device-name", "window"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last *kiosk.SyncStatus
	var stderr bytes.Buffer
	ks, err := startSync(ctx, sf, keyPath, db, gallery, io.Discard, func(e kiosk.Event) {
		mu.Lock()
		last = e.Sync
		mu.Unlock()
	}, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if ks.s.Paired() {
		t.Fatal("paired before pairing")
	}

	var paired *kiosk.Pairing
	pair := ks.pairAndSync(ctx, func(p *kiosk.Pairing) { paired = p })
	if err := pair(ctx, rs.URL, "NOT-A-CODE"); !errors.Is(err, kiosk.ErrUnauthorized) {
		t.Fatalf("wrong code: %v, want unauthorized", err)
	}
	if paired != nil || ks.s.Paired() {
		t.Fatal("a refused code paired the kiosk")
	}
	code, _, err := rs.DB.CreatePairingCode(ctx, rs.Event.ID, "test", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := pair(ctx, rs.URL, code); err != nil {
		t.Fatalf("pair: %v\n%s", err, stderr.String())
	}
	if paired == nil || len(paired.TemplateKey) != api.KeySize || paired.EventID != rs.Event.ID {
		t.Fatalf("onPaired got %+v", paired)
	}
	fi, err := os.Stat(kiosk.PairingPathFor(keyPath))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("pairing file mode %v", fi.Mode().Perm())
	}

	// The loop runs: the gallery fills and the status says online.
	for gallery.Len() != 1 {
		if ctx.Err() != nil {
			t.Fatalf("gallery has %d people after pairing, want 1\n%s", gallery.Len(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		mu.Lock()
		st := last
		mu.Unlock()
		if st != nil && st.Online && !st.LastSync.IsZero() && st.Gallery == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no online sync status after pairing: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ks.Stop()
	ks.start(ctx) // stopped for good: no loop after Stop
	if ks.stop != nil {
		t.Error("sync loop started again after Stop")
	}
}
