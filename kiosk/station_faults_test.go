package kiosk_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facecheck/facecheck/kiosk"
)

// TestFaultFramesFirst (issue 20 items 2 and 7): a kiosk paired before,
// with its gallery cached, restarts while its server accepts connections
// and never answers. Frames come first: the kiosk checks the first person
// in before the first sync attempt has even given up (each request waits
// 10 s, four times), so the first check-in comes before any sync status
// line; everybody is checked in. It stops with the check-ins it could not
// send: exit status 3 and their count on stderr, all of them stored and
// queued. (Before, start-up waited for the first sync round, about 80 s
// with these settings, and no frame was read meanwhile.)
func TestFaultFramesFirst(t *testing.T) {
	fx := newFaultFixture(t, 3)
	video := fx.video(t, fx.people)
	ctx := ctxFor(t, 3*time.Minute)
	rs, _, _ := newServer(t)
	want := enrol(t, rs, fx.people)
	d := newKioskDir(t.TempDir())
	pairAndPull(ctx, t, fx, rs, d, len(want))

	quit := make(chan struct{})
	var hits atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer hang.Close()
	defer close(quit)
	p, err := kiosk.LoadPairing(d.pairing())
	if err != nil {
		t.Fatal(err)
	}
	p.ServerURL = hang.URL
	if err := kiosk.SavePairing(d.pairing(), p); err != nil {
		t.Fatal(err)
	}

	run := startKiosk(ctx, t, fx, d, video, nil, "--net-timeout", "10s", "--net-retries", "3")
	run.mustStopUnsent(t, "hanging server", len(want))
	got := checkedInOnce(t, "hanging server", run.checkins(), want)

	run.mu.Lock()
	first, firstSync := -1, -1
	var startAt, checkinAt time.Time
	for i, l := range run.lines {
		if startAt.IsZero() && l.Sync == nil {
			startAt = l.At
		}
		if l.Event == "checkin" && first < 0 {
			first, checkinAt = i, l.At
		}
		if l.Sync != nil && firstSync < 0 {
			firstSync = i
		}
	}
	run.mu.Unlock()
	if first < 0 {
		t.Fatal("no check-in")
	}
	if firstSync >= 0 && firstSync < first {
		t.Errorf("a sync status line (line %d) came before the first check-in (line %d): the camera loop waited for the network", firstSync, first)
	}
	t.Logf("first check-in at frame %d, %s after the first frame's line; first sync line at %d of %d lines",
		run.checkins()[0].Frame, checkinAt.Sub(startAt).Round(time.Millisecond), firstSync, len(run.lines))
	if hits.Load() == 0 {
		t.Error("the kiosk never tried the server: the sync loop did not run beside the camera loop")
	}
	n, queued, orphans := localState(t, d, got)
	if n != len(want) || queued != len(want) || orphans != 0 {
		t.Fatalf("%d check-ins stored, %d queued, %d orphans; want %d, %d, 0", n, queued, orphans, len(want), len(want))
	}
}
