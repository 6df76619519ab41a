package kiosk_test

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// TestFaultEnrolFirstPaired: `facecheck kiosk --enrol-first` on a kiosk
// being paired (--pair-code) or already paired is refused with a message
// that says why and what to do, before anything is enrolled, instead of
// printing "enrolled N people" and losing them to the next full sync.
func TestFaultEnrolFirstPaired(t *testing.T) {
	fx := newFaultFixture(t, 1)
	faces := testenv.Faces(t)
	enrol := []string{"--enrol-labels", filepath.Join(faces, "labels.csv"), "--enrol-root", filepath.Join(faces, "images"), "--enrol-first", "3"}
	ctx := ctxFor(t, 2*time.Minute)
	rs, _, _ := newServer(t)
	enrolRefused := func(t *testing.T, p *kioskProc, d kioskDir) {
		t.Helper()
		if err := p.wait(); err == nil {
			t.Fatalf("--enrol-first on a paired kiosk exited 0:\n%s", p.stderrText())
		}
		stderr := p.stderrText()
		if strings.Contains(stderr, "enrolled 3 people") || !strings.Contains(stderr, "--enrol-first") || !strings.Contains(stderr, "register them on the server") {
			t.Fatalf("stderr does not refuse clearly:\n%s", stderr)
		}
		db := localDB(t, d)
		defer db.Close()
		if n, err := db.CountAttendees(ctx); err != nil || n != 0 {
			t.Fatalf("%d attendees enrolled locally (%v), want none", n, err)
		}
	}
	t.Run("with --pair-code", func(t *testing.T) {
		d := newKioskDir(t.TempDir())
		p := startKiosk(ctx, t, fx, d, fx.blank, nil, append([]string{"--server", rs.URL(), "--pair-code", rs.pairingCode(t)}, enrol...)...)
		enrolRefused(t, p, d)
	})
	t.Run("already paired", func(t *testing.T) {
		d := newKioskDir(t.TempDir())
		pairAndPull(ctx, t, fx, rs, d, 0)
		p := startKiosk(ctx, t, fx, d, fx.blank, nil, enrol...)
		enrolRefused(t, p, d)
	})
	t.Run("unpaired enrols", func(t *testing.T) {
		d := newKioskDir(t.TempDir())
		p := startKiosk(ctx, t, fx, d, fx.blank, nil, enrol...)
		p.mustSucceed(t, "local enrolment on an unpaired kiosk")
		if !strings.Contains(p.stderrText(), "enrolled 3 people") {
			t.Fatalf("stderr:\n%s", p.stderrText())
		}
	})
}

// TestCheckLocalEnrol: local enrolment is refused with a pairing code or a
// pairing file, allowed without either.
func TestCheckLocalEnrol(t *testing.T) {
	k := newKiosk(t)
	path := kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key"))
	if err := kiosk.CheckLocalEnrol(path, ""); err != nil {
		t.Fatalf("unpaired: %v", err)
	}
	if err := kiosk.CheckLocalEnrol(path, "ABCDE-12345"); !errors.Is(err, kiosk.ErrLocalEnrolPaired) {
		t.Fatalf("with a pairing code: %v", err)
	}
	fakePairing(t, k, "http://127.0.0.1:9")
	if err := kiosk.CheckLocalEnrol(path, ""); !errors.Is(err, kiosk.ErrLocalEnrolPaired) {
		t.Fatalf("paired: %v", err)
	}
}

// TestSyncPairDropsLocalGalleryLoudly: people enrolled on an unpaired
// kiosk are dropped when it pairs (the event's gallery replaces them), with
// a warning and an audit entry, not silently.
func TestSyncPairDropsLocalGalleryLoudly(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs, _, _ := newServer(t)
	logs := &lockedLog{}
	k := newKiosk(t, func(c *kiosk.SyncConfig) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	if err := k.DB.UpsertAttendee(ctx, storage.Attendee{ID: "local-1", Name: "Local"},
		[]api.Template{randomTemplate(t, rand.New(rand.NewPCG(5, 6)))}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "desk"); err != nil {
		t.Fatal(err)
	}
	if n, _ := k.DB.CountAttendees(ctx); n != 0 {
		t.Fatalf("%d local attendees after pairing, want 0", n)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "dropped the 1 people") {
		t.Errorf("no warning:\n%s", logs)
	}
	audit, err := k.DB.ListAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		found = found || (e.Action == "gallery.reset" && strings.Contains(e.Detail, "1 people"))
	}
	if !found {
		t.Errorf("no gallery.reset audit entry: %+v", audit)
	}
}

// answers sums up how the kiosk answered the people of a run: the longest
// time from a face in the guide to its answer (check-in, welcome back, not
// recognised...), and how many were not recognised.
func answers(lines []outLine) (longest time.Duration, notFound, results int) {
	for _, l := range lines {
		if l.LatencyMS == nil {
			continue
		}
		results++
		longest = max(longest, time.Duration(*l.LatencyMS*float64(time.Millisecond)))
		if l.Outcome == kiosk.OutcomeNotFound {
			notFound++
		}
	}
	return longest, notFound, results
}

// lyingProxy forwards a kiosk's calls to the real server, except that it
// answers every gallery delta (since > 0) with a bare end line, the answer
// that used to empty a kiosk's gallery.
func lyingProxy(t *testing.T, real string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var lies atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/gallery" && r.URL.Query().Get("since") != "0" {
			lies.Add(1)
			w.Header().Set("Content-Type", "application/x-ndjson")
			io.WriteString(w, `{"end":true}`+"\n")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts, &lies
}

// TestFaultLyingSnapshot: between the paired kiosk and the real server, a
// proxy answers every gallery delta with `{"end":true}`. The kiosk refuses
// it (keeps its gallery, says degraded, logs a warning), recognises and
// checks in everybody from the video, and every check-in reaches the
// server through the proxy exactly once.
func TestFaultLyingSnapshot(t *testing.T) {
	fx := newFaultFixture(t, 3)
	video := fx.video(t, fx.people)
	ctx := ctxFor(t, 2*time.Minute)
	rs, _, _ := newServer(t)
	want := enrol(t, rs, fx.people)
	d := newKioskDir(t.TempDir())
	pairAndPull(ctx, t, fx, rs, d, len(want))
	proxy, lies := lyingProxy(t, rs.URL())
	p, err := kiosk.LoadPairing(d.pairing())
	if err != nil {
		t.Fatal(err)
	}
	p.ServerURL = proxy.URL
	if err := kiosk.SavePairing(d.pairing(), p); err != nil {
		t.Fatal(err)
	}

	run := startKiosk(ctx, t, fx, d, video, nil)
	run.mustSucceed(t, "run behind a lying proxy")
	got := checkedInOnce(t, "lying proxy", run.checkins(), want)
	longest, notFound, results := answers(run.lines)
	if lies.Load() == 0 {
		t.Fatal("the proxy told no lie")
	}
	degraded := false
	for _, l := range run.lines {
		degraded = degraded || (l.Sync != nil && l.Sync.State == api.SyncDegraded && strings.Contains(l.Sync.LastError, "snapshot"))
	}
	if !degraded {
		t.Errorf("no sync line said degraded with the refused snapshot; last %+v", run.lastSync())
	}
	if !strings.Contains(run.stderrText(), "refused a gallery answer") {
		t.Errorf("no warning on stderr:\n%s", run.stderrText())
	}
	db := localDB(t, d)
	n, _ := db.CountAttendees(ctx)
	db.Close()
	if n != len(want) {
		t.Fatalf("%d attendees cached after the lies, want %d", n, len(want))
	}
	// The last push of the run may be cut by the end of the video: one
	// sync-only run delivers the rest.
	syncRun := startKiosk(ctx, t, fx, d, fx.blank, nil)
	syncRun.mustSucceed(t, "sync-only run")
	onServerOnce(t, rs, got)
	t.Logf("lying snapshot: %d lies; %d check-ins recorded, %d stored, 0 duplicated; %d answers, %d not recognised, longest answer %s",
		lies.Load(), len(got), len(got), results, notFound, longest.Round(time.Millisecond))
}
