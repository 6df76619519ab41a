package kiosk_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

// TestSyncCheckInKicksPush: with a sync interval of an hour, a check-in
// recorded while the loop waits reaches the server anyway (the loop pushes
// on storage.DB.OutboxAdded), and the heartbeat after it tells the
// dashboard the queue is empty again.
func TestSyncCheckInKicksPush(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs, _, _ := newServer(t)
	a1 := rs.addAttendee(t, "Ada", randomTemplate(t, rand.New(rand.NewPCG(1, 2))))
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "desk"); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- k.Sync.Run(runCtx, time.Hour, nil) }()
	defer func() {
		stop()
		<-done
	}()
	waitFor(t, 20*time.Second, "the first round", func() bool { return k.Sync.Status().State == api.SyncOnline })

	for i := range 3 {
		start := time.Now()
		id := k.record(t, a1)
		waitFor(t, 20*time.Second, "the check-in on the server", func() bool {
			return slices.Contains(rs.serverCheckIns(t), id)
		})
		t.Logf("check-in %d on the server %s after it was recorded", i+1, time.Since(start).Round(time.Millisecond))
	}
	waitFor(t, 20*time.Second, "the dashboard's queue to be empty", func() bool {
		ks, err := rs.DB.ListKiosks(context.Background(), rs.Event.ID)
		return err == nil && len(ks) == 1 && ks[0].Queued == 0 && ks[0].SyncState == api.SyncOnline && ks[0].Gallery == 1
	})
}

// TestSyncStatusPerAttempt: against a server that accepts connections and
// never answers, the status says offline after the first attempt's
// timeout, long before the retries of the round are over, and a sync
// event says so with the queue length.
func TestSyncStatusPerAttempt(t *testing.T) {
	quit := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer ts.Close()
	defer close(quit)
	k := newKiosk(t, func(c *kiosk.SyncConfig) {
		c.RetryMax = 5 // a round of settings alone takes 6 timeouts
	})
	fakePairing(t, k, ts.URL)
	k.Sync = k.newSyncer(t, func(c *kiosk.SyncConfig) { c.RetryMax = 5 })
	for range 3 {
		k.record(t, "someone")
	}
	ctx := ctxFor(t, time.Minute)
	roundDone := make(chan struct{})
	go func() {
		defer close(roundDone)
		k.Sync.SyncOnce(ctx)
	}()
	var seen kiosk.SyncStatus
	waitFor(t, 30*time.Second, "an offline sync event", func() bool {
		for {
			select {
			case e := <-k.events:
				if e.Sync != nil && e.Sync.State == api.SyncOffline {
					seen = *e.Sync
					return true
				}
			default:
				return false
			}
		}
	})
	select {
	case <-roundDone:
		t.Fatal("the offline status came only with the end of the round")
	default:
	}
	if seen.Online || seen.Queued != 3 || seen.LastError == "" || seen.LastAttempt.IsZero() || seen.OfflineSince.IsZero() {
		t.Fatalf("offline event %+v, want the queue of 3, the error and the attempt time", seen)
	}
	<-roundDone
}

// TestSyncStatusStartsHonest: the first status after pairing does not say
// online with an empty gallery before any pull; the first round makes it
// online with the gallery.
func TestSyncStatusStartsHonest(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs, _, _ := newServer(t)
	rs.addAttendee(t, "Ada", randomTemplate(t, rand.New(rand.NewPCG(3, 4))))
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "desk"); err != nil {
		t.Fatal(err)
	}
	var first *kiosk.SyncStatus
	for len(k.events) > 0 {
		if e := <-k.events; e.Sync != nil && e.Sync.State != kiosk.SyncUnpaired {
			first = e.Sync
			break
		}
	}
	if first == nil || first.Online || first.State != api.SyncStarting {
		t.Fatalf("first status after pairing %+v, want starting, not online", first)
	}
	if _, err := k.Sync.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st := k.Sync.Status(); !st.Online || st.Gallery != 1 || st.LastSync.IsZero() {
		t.Fatalf("status after the first round %+v", st)
	}
}
