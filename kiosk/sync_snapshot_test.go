package kiosk_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

// lockedLog is a slog destination tests read back.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestSyncGalleryLyingSnapshot: a kiosk holding 20 attendees at cursor 57
// asks for the changes since 57 and gets answers that would empty or
// shrink its gallery. Only a snapshot the server announces (and whose
// count matches), or one whose cursor went back and drops at most 1 in 20,
// is applied; the others are refused with a warning, and the gallery,
// in the database and in memory, and the cursor stay as they were.
func TestSyncGalleryLyingSnapshot(t *testing.T) {
	const people, head = 20, 57
	key := bytes.Repeat([]byte{5}, api.KeySize)
	type rec = func(id, name string, seed uint64) api.GalleryRecord
	first := func(w http.ResponseWriter, r rec) {
		// Sealed first, written at once: a slow machine must not trip the
		// kiosk's stall watchdog.
		var b bytes.Buffer
		for i := range people {
			line(&b, r(fmt.Sprintf("a%02d", i), fmt.Sprintf("Person %d", i), uint64(head-people+1+i)))
		}
		line(&b, api.GalleryEnd{End: true, Cursor: head, Count: people})
		w.Write(b.Bytes())
	}
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, r rec)
		// want: the attendees left; refused: ErrUnannouncedSnapshot;
		// protocol: ErrProtocol (a count that does not match).
		want              int
		refused, protocol bool
	}{
		{"bare end line", func(w http.ResponseWriter, r rec) {
			w.Write([]byte(`{"end":true}` + "\n"))
		}, people, true, false},
		{"end at cursor 0", func(w http.ResponseWriter, r rec) {
			line(w, api.GalleryEnd{End: true, Cursor: 0, Count: 0})
		}, people, true, false},
		{"cursor back with one record", func(w http.ResponseWriter, r rec) {
			line(w, r("a00", "Person 0", 3))
			line(w, api.GalleryEnd{End: true, Cursor: 3, Count: 1})
		}, people, true, false},
		{"cursor back, drops one in twenty", func(w http.ResponseWriter, r rec) {
			for i := range people - 1 {
				line(w, r(fmt.Sprintf("a%02d", i), fmt.Sprintf("Person %d", i), uint64(1+i)))
			}
			line(w, api.GalleryEnd{End: true, Cursor: people - 1, Count: people - 1})
		}, people - 1, false, false},
		{"announced snapshot of ten", func(w http.ResponseWriter, r rec) {
			for i := range 10 {
				line(w, r(fmt.Sprintf("a%02d", i), fmt.Sprintf("Person %d", i), uint64(1+i)))
			}
			line(w, api.GalleryEnd{End: true, Cursor: 10, Count: 10, Snapshot: true})
		}, 10, false, false},
		{"announced empty snapshot", func(w http.ResponseWriter, r rec) {
			line(w, api.GalleryEnd{End: true, Cursor: 0, Count: 0, Snapshot: true})
		}, 0, false, false},
		{"announced snapshot, count lies", func(w http.ResponseWriter, r rec) {
			line(w, api.GalleryEnd{End: true, Cursor: 0, Count: 3, Snapshot: true})
		}, people, false, true},
		{"nothing new", func(w http.ResponseWriter, r rec) {
			line(w, api.GalleryEnd{End: true, Cursor: head, Count: 0})
		}, people, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Answered by the cursor asked for, not by the call count: a
			// retried first pull must get the first answer again.
			var since atomic.Value
			ts := galleryFeed(t, key, func(w http.ResponseWriter, r rec) {
				if since.Load() == "0" {
					first(w, r)
					return
				}
				c.answer(w, r)
			})
			ts.Config.Handler = sinceHandler(ts.Config.Handler, &since)
			logs := &lockedLog{}
			k := newKiosk(t)
			fakePairing(t, k, ts.URL)
			k.Sync = k.newSyncer(t, func(cfg *kiosk.SyncConfig) {
				cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			})
			ctx := ctxFor(t, 30*time.Second)
			if gs, err := k.Sync.PullGallery(ctx); err != nil || gs.Upserts != people {
				t.Fatalf("first pull: %+v %v", gs, err)
			}
			gs, err := k.Sync.PullGallery(ctx)
			n, _ := k.DB.CountAttendees(ctx)
			cur, _ := k.DB.GetCursor(ctx)
			t.Logf("answer: %+v, %v; %d stored, %d in memory, cursor %d", gs, err, n, k.Gallery.Len(), cur)
			switch {
			case c.refused:
				if !errors.Is(err, kiosk.ErrUnannouncedSnapshot) {
					t.Fatalf("err = %v, want ErrUnannouncedSnapshot", err)
				}
				if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "snapshot") {
					t.Errorf("no warning logged:\n%s", logs)
				}
				if st := k.Sync.Status(); st.State != api.SyncDegraded || st.LastError == "" {
					t.Errorf("status after a refused answer %+v, want degraded with the error", st)
				}
			case c.protocol:
				if !errors.Is(err, kiosk.ErrProtocol) {
					t.Fatalf("err = %v, want ErrProtocol", err)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			}
			if n != c.want || k.Gallery.Len() != c.want {
				t.Fatalf("%d stored, %d in memory, want %d", n, k.Gallery.Len(), c.want)
			}
			if (c.refused || c.protocol) && cur != head {
				t.Fatalf("cursor %d after a refused answer, want %d", cur, head)
			}
		})
	}
}

// TestSyncGallerySnapshotAfterServerReset: a real server whose database
// was replaced (the kiosk's cursor is beyond the server's) answers with a
// snapshot it announces, and the kiosk takes it: it holds exactly the
// server's attendees afterwards, with the server's cursor.
func TestSyncGallerySnapshotAfterServerReset(t *testing.T) {
	ctx := ctxFor(t, 30*time.Second)
	rs, _, _ := newServer(t)
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "desk"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	keep := rs.addAttendee(t, "Kept", randomTemplate(t, rng))
	rs.addAttendee(t, "Other", randomTemplate(t, rng))
	if _, err := k.Sync.PullGallery(ctx); err != nil {
		t.Fatal(err)
	}
	// As if the kiosk had seen a later state of the server than the one
	// it has now (a restore from an older backup): a cursor ahead, and an
	// attendee the server no longer knows.
	if err := k.DB.SetCursor(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	var feed bytes.Buffer
	end, err := rs.DB.StreamGalleryFeed(ctx, rs.Event.ID, 1000, func(r api.GalleryRecord) error { line(&feed, r); return nil })
	if err != nil || !end.Snapshot || end.Count != 2 {
		t.Fatalf("server feed for a cursor beyond its own: %+v %v, want an announced snapshot of 2", end, err)
	}
	if err := rs.DB.DeleteAttendee(ctx, keep); err != nil {
		t.Fatal(err)
	}
	gs, err := k.Sync.PullGallery(ctx)
	if err != nil || !gs.Full {
		t.Fatalf("pull after the server reset: %+v %v, want a full snapshot", gs, err)
	}
	n, _ := k.DB.CountAttendees(ctx)
	cur, _ := k.DB.GetCursor(ctx)
	if n != 1 || k.Gallery.Len() != 1 || cur >= 1000 || cur != gs.Cursor {
		t.Fatalf("after the snapshot: %d stored, %d in memory, cursor %d (%+v)", n, k.Gallery.Len(), cur, gs)
	}
}

// sinceHandler stores the request's since parameter in since before h
// answers (a kiosk's requests come one at a time).
func sinceHandler(h http.Handler, since *atomic.Value) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since.Store(r.URL.Query().Get("since"))
		h.ServeHTTP(w, r)
	})
}
