package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/server/store"
)

// settable is a clock a test moves by hand.
type settable struct{ t time.Time }

func (c *settable) Now() time.Time { return c.t }

var lifecycleStart = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// When an event's purge is due: retention days after its end, or after
// its hand close when that came first; never without either.
func TestEventPurgeDue(t *testing.T) {
	day := 24 * time.Hour
	end := lifecycleStart.Add(2 * day)
	tests := []struct {
		name      string
		opts      []store.EventOption
		closeAt   time.Duration // from lifecycleStart; 0: not closed
		at        time.Duration // DueForPurge's now, from lifecycleStart
		wantDue   bool
		wantPurge *time.Time
	}{
		{"no end, not closed, years later", nil, 0, 3000 * day, false, nil},
		{"end, default retention, day before", []store.EventOption{store.WithEnd(end)}, 0, 2*day + 29*day, false, ptr(end.Add(30 * day))},
		{"end, default retention, on the dot", []store.EventOption{store.WithEnd(end)}, 0, 2*day + 30*day, true, ptr(end.Add(30 * day))},
		{"end, 7 days", []store.EventOption{store.WithEnd(end), store.WithRetention(7)}, 0, 2*day + 7*day, true, ptr(end.Add(7 * day))},
		{"end, 0 days, right after", []store.EventOption{store.WithEnd(end), store.WithRetention(0)}, 0, 2*day + time.Millisecond, true, ptr(end)},
		{"closed early counts from the close", []store.EventOption{store.WithEnd(end), store.WithRetention(1)}, day, 2 * day, true, ptr(lifecycleStart.Add(2 * day))},
		{"closed late counts from the end", []store.EventOption{store.WithEnd(end), store.WithRetention(1)}, 10 * day, 3*day - time.Millisecond, false, ptr(end.Add(day))},
		{"no end, closed", []store.EventOption{store.WithRetention(2)}, day, 3 * day, true, ptr(lifecycleStart.Add(3 * day))},
	}
	forEachDB(t, func(t *testing.T, open opener) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				db := open(t)
				clk := &settable{t: lifecycleStart}
				db.Now = clk.Now
				ev, err := db.CreateEvent(ctx, "Lifecycle", tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				if tc.closeAt != 0 {
					clk.t = lifecycleStart.Add(tc.closeAt)
					if _, err := db.CloseEvent(ctx, ev.ID); err != nil {
						t.Fatal(err)
					}
				}
				got, err := db.FindEventByID(ctx, ev.ID)
				if err != nil {
					t.Fatal(err)
				}
				if p := got.PurgeAt(); (p == nil) != (tc.wantPurge == nil) || (p != nil && !p.Equal(*tc.wantPurge)) {
					t.Errorf("PurgeAt = %v, want %v", p, tc.wantPurge)
				}
				if got.Closed() != (tc.closeAt != 0) {
					t.Errorf("Closed = %v", got.Closed())
				}
				due, err := db.DueForPurge(ctx, lifecycleStart.Add(tc.at))
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(due, ev.ID) != tc.wantDue {
					t.Errorf("due = %v, want the event due: %v", due, tc.wantDue)
				}
			})
		}
	})
}

func ptr(t time.Time) *time.Time { return &t }

// A purge erases the event's attendees, templates, tombstones and
// check-ins, leaves other events alone, keeps the event's row (closed and
// purged) and its kiosks, and writes one audit entry with the counts.
func TestPurgeEvent(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		clk := &settable{t: lifecycleStart}
		db.Now = clk.Now
		gone, err := db.CreateEvent(ctx, "Gone", store.WithEnd(lifecycleStart.Add(time.Hour)), store.WithRetention(1))
		if err != nil {
			t.Fatal(err)
		}
		kept, err := db.CreateEvent(ctx, "Kept", store.WithEnd(lifecycleStart.Add(90*24*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		code, _, err := db.CreatePairingCode(ctx, gone.ID, "admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		k, token, err := db.Pair(ctx, code, "Front desk", "1")
		if err != nil {
			t.Fatal(err)
		}
		var goneIDs []string
		for i, ev := range []*store.Event{gone, gone, gone, kept} {
			r, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: fmt.Sprint("P", i), Email: fmt.Sprintf("p%d@example.com", i),
				Consent: true, Source: store.SourceWeb, Templates: []api.Template{{Model: "m", Version: 1, Data: bytes.Repeat([]byte{byte(i + 1)}, 512)}}})
			if err != nil {
				t.Fatal(err)
			}
			if ev == gone {
				goneIDs = append(goneIDs, r.Attendee.ID)
			}
		}
		if _, err := db.RecordCheckIns(ctx, gone.ID, k.ID, []api.CheckIn{{ID: uuid.NewString(), AttendeeID: goneIDs[0],
			Method: api.MethodFace, Score: 0.8, Margin: 0.3, At: lifecycleStart}}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteAttendee(ctx, goneIDs[2]); err != nil { // a tombstone
			t.Fatal(err)
		}

		clk.t = lifecycleStart.Add(25 * time.Hour)
		due, err := db.DueForPurge(ctx, clk.t)
		if err != nil || !slices.Equal(due, []string{gone.ID}) {
			t.Fatalf("due = %v, %v; want only %s", due, err, gone.ID)
		}
		if db.Dialect() == store.Postgres {
			if at, err := store.LastVacuum(ctx, db, "attendees"); err != nil || at != nil {
				t.Fatalf("attendees vacuumed before the purge: %v %v", at, err)
			}
		}
		c, err := db.PurgeEvent(ctx, gone.ID, "system")
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect() == store.Postgres {
			// The dead rows' space is marked for reuse (docs/security.md).
			for _, table := range []string{"attendees", "templates", "checkins"} {
				if at, err := store.LastVacuum(ctx, db, table); err != nil || at == nil {
					t.Errorf("%s not vacuumed after the purge: %v", table, err)
				}
			}
		}
		if want := (store.PurgeCounts{Attendees: 2, Tombstones: 1, Templates: 2, CheckIns: 1}); c != want {
			t.Errorf("counts = %+v, want %+v", c, want)
		}
		for _, id := range goneIDs {
			if _, err := db.FindAttendeeByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("attendee %s after the purge: %v", id, err)
			}
		}
		st, err := db.EventStats(ctx, gone.ID)
		if err != nil || st.Attendees != 0 || st.CheckIns != 0 {
			t.Errorf("stats after the purge: %+v %v", st, err)
		}
		ev, err := db.FindEventByID(ctx, gone.ID)
		if err != nil || ev.PurgedAt == nil || !ev.PurgedAt.Equal(clk.t) || !ev.Closed() {
			t.Fatalf("event after the purge: %+v %v", ev, err)
		}
		if fk, err := db.FindKioskByToken(ctx, token); err != nil || fk.EventID != gone.ID {
			t.Errorf("kiosk after the purge: %+v %v", fk, err)
		}
		as, total, err := db.ListAttendees(ctx, store.AttendeeFilter{EventID: kept.ID, Limit: 10})
		if err != nil || total != 1 || len(as) != 1 {
			t.Errorf("the other event: %d attendees, %v", total, err)
		}
		if due, err := db.DueForPurge(ctx, clk.t.Add(1000*24*time.Hour)); err != nil || slices.Contains(due, gone.ID) {
			t.Errorf("a purged event is due again: %v %v", due, err)
		}
		audit := purgeAudits(t, db)
		if len(audit) != 1 || audit[0].Actor != "system" || audit[0].Target != gone.ID || !audit[0].At.Equal(clk.t) ||
			!strings.Contains(audit[0].Detail, "2 attendees, 1 tombstones, 2 templates, 1 check-ins") {
			t.Fatalf("audit = %+v", audit)
		}
		// Again: nothing to erase, no second entry.
		if c, err := db.PurgeEvent(ctx, gone.ID, "system"); err != nil || c != (store.PurgeCounts{}) {
			t.Errorf("second purge: %+v %v", c, err)
		}
		if n := len(purgeAudits(t, db)); n != 1 {
			t.Errorf("%d purge audit entries after purging twice, want 1", n)
		}
		if _, err := db.SetEventLifecycle(ctx, gone.ID, nil, ptrInt(60)); !errors.Is(err, store.ErrPurged) {
			t.Errorf("changing a purged event's retention: %v, want ErrPurged", err)
		}
		if _, err := db.PurgeEvent(ctx, uuid.NewString(), "system"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("purging no event: %v", err)
		}
		// A purged event can still be deleted.
		if err := db.DeleteEvent(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func ptrInt(n int) *int { return &n }

func purgeAudits(t *testing.T, db *store.DB) []store.AuditEntry {
	t.Helper()
	all, err := db.ListAudit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range all {
		if e.Action == "event.purge" {
			out = append(out, e)
		}
	}
	return out
}

// Closing keeps the data, drops the pairing codes and keeps its first
// time; the lifecycle can be changed until the purge, within bounds.
func TestCloseAndSetLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		clk := &settable{t: lifecycleStart}
		db.Now = clk.Now
		ev, err := db.CreateEvent(ctx, "Close me")
		if err != nil {
			t.Fatal(err)
		}
		if ev.RetentionDays != store.DefaultRetentionDays || ev.EndsAt != nil || ev.Closed() {
			t.Fatalf("new event lifecycle: %+v", ev.Lifecycle)
		}
		end := lifecycleStart.Add(48 * time.Hour)
		got, err := db.SetEventLifecycle(ctx, ev.ID, &end, ptrInt(3))
		if err != nil || got.EndsAt == nil || !got.EndsAt.Equal(end) || got.RetentionDays != 3 {
			t.Fatalf("set lifecycle: %+v %v", got, err)
		}
		for _, bad := range []int{-1, store.MaxRetentionDays + 1} {
			if _, err := db.SetEventLifecycle(ctx, ev.ID, nil, ptrInt(bad)); err == nil {
				t.Errorf("retention %d accepted", bad)
			}
		}
		if _, err := db.CreateEvent(ctx, "Bad", store.WithRetention(-5)); err == nil {
			t.Error("a new event with a negative retention was accepted")
		}
		code, _, err := db.CreatePairingCode(ctx, ev.ID, "admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		r, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Stays", Consent: true, Source: store.SourceWeb})
		if err != nil {
			t.Fatal(err)
		}
		closed, err := db.CloseEvent(ctx, ev.ID)
		if err != nil || closed.ClosedAt == nil || !closed.ClosedAt.Equal(lifecycleStart) {
			t.Fatalf("close: %+v %v", closed, err)
		}
		clk.t = clk.t.Add(time.Hour)
		again, err := db.CloseEvent(ctx, ev.ID)
		if err != nil || !again.ClosedAt.Equal(lifecycleStart) {
			t.Errorf("closing again moved the close time: %+v %v", again.ClosedAt, err)
		}
		if _, _, err := db.Pair(ctx, code, "Late kiosk", "1"); !errors.Is(err, store.ErrInvalidCredentials) {
			t.Errorf("pairing with a code of a closed event: %v", err)
		}
		if a, err := db.FindAttendeeByID(ctx, r.Attendee.ID); err != nil || a.Name != "Stays" {
			t.Errorf("attendee of a closed event: %+v %v", a, err)
		}
		if _, err := db.CloseEvent(ctx, uuid.NewString()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("closing no event: %v", err)
		}
	})
}

// A purge leaves nothing of the event's attendees in the data folder:
// names, e-mails, sealed templates and the tombstone's id, while running
// and after the store is closed.
func TestPurgeLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "facecheck.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	clk := &settable{t: lifecycleStart}
	db.Now = clk.Now
	ev, err := db.CreateEvent(ctx, "Purged", store.WithEnd(lifecycleStart), store.WithRetention(0))
	if err != nil {
		t.Fatal(err)
	}
	tag := uuid.NewString()[:8]
	needles := map[string][]byte{}
	var tomb string
	for i := range 3 {
		name, email := fmt.Sprintf("Purgeable %d %s", i, tag), fmt.Sprintf("purge%d-%s@example.com", i, tag)
		r, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: name, Email: email, Consent: true,
			Source: store.SourceWeb, Templates: []api.Template{{Model: "m", Version: 1, Data: bytes.Repeat([]byte{byte(i*50 + 3), 9}, 256)}}})
		if err != nil {
			t.Fatal(err)
		}
		needles["name "+name] = []byte(name)
		needles["e-mail "+email] = []byte(email)
		tomb = r.Attendee.ID
	}
	if _, _, err := db.StreamGallery(ctx, ev.ID, 0, func(r api.GalleryRecord) error {
		for _, tp := range r.Templates {
			needles["sealed template of "+r.AttendeeID] = tp.Sealed[len(tp.Sealed)-48:]
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) < len(needles) {
		t.Fatalf("before the purge only %v found: the scan cannot see the data", found)
	}
	if err := db.DeleteAttendee(ctx, tomb); err != nil {
		t.Fatal(err)
	}
	needles["tombstone id"] = []byte(tomb)
	if found := erasuretest.Traces(t, dir, map[string][]byte{"tombstone id": []byte(tomb)}); len(found) == 0 {
		t.Fatal("the tombstone's id is not on disk before the purge")
	}
	clk.t = lifecycleStart.Add(time.Minute)
	if _, err := db.PurgeEvent(ctx, ev.ID, "system"); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("while running, after the purge: %v", found)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after closing: %v", found)
	}
}
