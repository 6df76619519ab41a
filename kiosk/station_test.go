package kiosk_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
)

// stationConfig is a Station on files in a temp dir with fast sync
// settings, logging to log.
func stationConfig(t *testing.T, log *bytes.Buffer) kiosk.StationConfig {
	t.Helper()
	if testing.Short() {
		t.Skip("real engine")
	}
	dir := t.TempDir()
	sc := fastConfig()
	sc.Timeout, sc.RetryMax = 2*time.Second, 0
	return kiosk.StationConfig{
		Models: testenv.Models(t).Dir, DB: filepath.Join(dir, "kiosk.db"), Key: filepath.Join(dir, "kiosk.key"),
		DeviceName: "station", SyncInterval: 200 * time.Millisecond, Sync: sc,
		Kiosk: kiosk.DefaultConfig(), Log: log,
	}
}

// The window's Pair button is Station.Pair, the same pairing as --server
// --pair-code. Against a real server: a wrong code is refused as
// unauthorized (code EUNAUTHORIZED, which the pane words as "wrong, used
// or expired"), the right one pairs (pairing file 0600) and starts the
// sync loop StartSync armed, which pulls the server's attendee into the
// gallery and reports online. Close stops the loop for good and, with
// nothing queued, returns nil.
func TestStationPair(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	var log bytes.Buffer
	cfg := stationConfig(t, &log)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{7}, api.KeySize), "127.0.0.1:0")
	rs.addAttendee(t, "Ada Lovelace", randomTemplate(t, rand.New(rand.NewPCG(1, 2))))

	var mu sync.Mutex
	var last *kiosk.SyncStatus
	cfg.OnEvent = func(e kiosk.Event) {
		mu.Lock()
		last = e.Sync
		mu.Unlock()
	}
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.PairedWith() != "" {
		t.Fatal("paired before pairing")
	}
	st.StartSync(ctx) // not paired: armed for Pair
	if err := st.Pair(ctx, rs.URL(), "NOT-A-CODE"); !errors.Is(err, kiosk.ErrUnauthorized) || kiosk.ErrorCode(err) != kiosk.EUNAUTHORIZED {
		t.Fatalf("wrong code: %v (code %q), want unauthorized", err, kiosk.ErrorCode(err))
	}
	if st.PairedWith() != "" {
		t.Fatal("a refused code paired the kiosk")
	}
	if err := st.Pair(ctx, rs.URL(), rs.pairingCode(t)); err != nil {
		t.Fatalf("pair: %v\n%s", err, log.String())
	}
	if st.PairedWith() != rs.URL() {
		t.Fatalf("paired with %q", st.PairedWith())
	}
	fi, err := os.Stat(kiosk.PairingPathFor(cfg.Key))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("pairing file mode %v", fi.Mode().Perm())
	}
	waitFor(t, 30*time.Second, "the gallery pulled after pairing", func() bool { return st.Gallery.Len() == 1 })
	waitFor(t, 30*time.Second, "an online sync status", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last != nil && last.Online && !last.LastSync.IsZero() && last.Gallery == 1
	})
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	st.StartSync(ctx) // closed for good: no loop after Close
	if err := st.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// Settings changed while the headless loop runs (the settings pane, a
// server push) reach the machine between two frames; an invalid change is
// refused with code EINVALID and changes nothing.
func TestStationReapplyHeadless(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	var log bytes.Buffer
	st, err := kiosk.OpenStation(ctx, stationConfig(t, &log))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := st.Machine.Config().Accept
	if err := st.SetSettings(ctx, kiosk.Values{"face.accept": "0.61", "face.confirm": "0.5"}, "test"); err != nil {
		t.Fatal(err)
	}
	if got := st.Machine.Config().Accept; got != before {
		t.Fatalf("accept %v applied before a frame, want it between frames", got)
	}
	blank := engine.Image{W: 64, H: 48, Pix: make([]byte, 64*48*3)}
	if _, err := st.RunHeadless(ctx, &frames{n: 1, im: blank}, kiosk.HeadlessOptions{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got := st.Machine.Config().Accept; got != 0.61 {
		t.Errorf("accept %v after a frame, want 0.61", got)
	}
	err = st.SetSettings(ctx, kiosk.Values{"face.confirm": "0.9"}, "test")
	if kiosk.ErrorCode(err) != kiosk.EINVALID || kiosk.ErrorMessage(err) == "" {
		t.Errorf("confirm above accept: %v (code %q), want EINVALID with a message", err, kiosk.ErrorCode(err))
	}
	if v := st.Values()["face.confirm"]; v != "0.5" {
		t.Errorf("face.confirm %q after a refused change, want 0.5", v)
	}
}

// frames is a camera of n copies of im.
type frames struct {
	n  int
	im engine.Image
}

func (f *frames) Read() (engine.Image, error) {
	if f.n <= 0 {
		return engine.Image{}, io.EOF
	}
	f.n--
	return f.im, nil
}

func (f *frames) Close() error { return nil }

// A running station whose kiosk is revoked wipes itself, stops checking
// short codes with the old key (it is gone) and stops its sync loop; paired
// again from the window, the loop starts again and codes are checked with
// the event's new key.
func TestStationRevokedAndPairedAgain(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	var log bytes.Buffer
	cfg := stationConfig(t, &log)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{3}, api.KeySize), "127.0.0.1:0")
	rs.addAttendee(t, "Ada Lovelace", randomTemplate(t, rand.New(rand.NewPCG(1, 2))))
	var mu sync.Mutex
	var last *kiosk.SyncStatus
	cfg.OnEvent = func(e kiosk.Event) {
		if e.Sync != nil {
			mu.Lock()
			last = e.Sync
			mu.Unlock()
		}
	}
	cfg.Server, cfg.PairCode = rs.URL(), rs.pairingCode(t)
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oldKey := st.Sync.Pairing().TemplateKey
	if !bytes.Equal(st.Machine.Config().CodeKey, oldKey) || st.Gallery.Len() != 1 {
		t.Fatalf("after pairing: code key set %v, gallery %d", st.Machine.Config().CodeKey != nil, st.Gallery.Len())
	}
	st.StartSync(ctx)
	if err := rs.DB.RevokeKiosk(ctx, st.Sync.Pairing().KioskID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the revoked state", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last != nil && last.State == kiosk.SyncRevoked
	})
	blank := engine.Image{W: 64, H: 48, Pix: make([]byte, 64*48*3)}
	frame := func() {
		t.Helper()
		if _, err := st.RunHeadless(ctx, &frames{n: 1, im: blank}, kiosk.HeadlessOptions{}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	frame()
	if st.Machine.Config().CodeKey != nil || st.Gallery.Len() != 0 || st.PairedWith() != "" {
		t.Fatalf("after the revoke: code key kept %v, gallery %d, paired with %q", st.Machine.Config().CodeKey != nil, st.Gallery.Len(), st.PairedWith())
	}

	if err := st.Pair(ctx, rs.URL(), rs.pairingCode(t)); err != nil {
		t.Fatal(err)
	}
	newKey, _, err := rs.DB.EventKey(ctx, rs.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the gallery pulled by the restarted loop", func() bool { return st.Gallery.Len() == 1 })
	frame()
	if got := st.Machine.Config().CodeKey; !bytes.Equal(got, newKey) || bytes.Equal(got, oldKey) {
		t.Errorf("after pairing again the code key is the new one: %v", bytes.Equal(got, newKey))
	}
}
