package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

func TestRecordCheckIn(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		tdb := MustOpenDB(t)
		at := time.Date(2026, 5, 14, 10, 30, 0, 123456789, time.FixedZone("KST", 9*3600))
		c := newCheckIn("a1", at)
		dup, err := tdb.RecordCheckIn(ctx, c)
		if err != nil || dup {
			t.Fatalf("RecordCheckIn = %v, %v; want false, nil", dup, err)
		}
		got, err := tdb.FindCheckIn(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID || got.AttendeeID != c.AttendeeID || got.Method != c.Method ||
			got.Score != c.Score || got.Margin != c.Margin || !got.At.Equal(at) ||
			!got.RecordedAt.Equal(tdb.Clock.Now()) || !got.SyncedAt.IsZero() {
			t.Fatalf("FindCheckIn = %+v, want %+v recorded now, not synced", got, c)
		}

		// The outbox row is written with it and carries the wire form.
		items, err := tdb.PendingOutbox(ctx, 10, tdb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Kind != storage.OutboxCheckIn || items[0].Ref != c.ID {
			t.Fatalf("PendingOutbox = %+v, want one check-in item for %s", items, c.ID)
		}
		var wire api.CheckIn
		if err := json.Unmarshal(items[0].Payload, &wire); err != nil {
			t.Fatal(err)
		}
		if wire.ID != c.ID || wire.AttendeeID != "a1" || !wire.At.Equal(at) || wire.Score != c.Score {
			t.Fatalf("outbox payload = %+v, want %+v", wire, c)
		}
	})

	t.Run("ZeroAtIsNow", func(t *testing.T) {
		tdb := MustOpenDB(t)
		c := newCheckIn("a1", time.Time{})
		if _, err := tdb.RecordCheckIn(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := tdb.FindCheckIn(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.At.Equal(tdb.Clock.Now()) {
			t.Fatalf("At = %v, want %v", got.At, tdb.Clock.Now())
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		tdb := MustOpenDB(t)
		c := newCheckIn("a1", tdb.Clock.Now())
		if dup, err := tdb.RecordCheckIn(ctx, c); err != nil || dup {
			t.Fatalf("first RecordCheckIn = %v, %v", dup, err)
		}
		replay := c
		replay.Score = 0.99 // a replay never rewrites the first record
		for range 3 {
			dup, err := tdb.RecordCheckIn(ctx, replay)
			if err != nil || !dup {
				t.Fatalf("replayed RecordCheckIn = %v, %v; want true, nil", dup, err)
			}
		}
		tdb.Reopen(t)
		if dup, err := tdb.RecordCheckIn(ctx, replay); err != nil || !dup {
			t.Fatalf("RecordCheckIn after reopen = %v, %v; want true, nil", dup, err)
		}
		if n, err := tdb.CountCheckIns(ctx, time.Time{}); err != nil || n != 1 {
			t.Fatalf("CountCheckIns = %d, %v; want 1", n, err)
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 1 {
			t.Fatalf("OutboxLen = %d, %v; want 1", n, err)
		}
		got, err := tdb.FindCheckIn(ctx, c.ID)
		if err != nil || got.Score != c.Score {
			t.Fatalf("FindCheckIn = %+v, %v; want the first record", got, err)
		}
		// Still a duplicate once sent: the check-in row remembers the id.
		items, err := tdb.PendingOutbox(ctx, 10, tdb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := tdb.MarkSent(ctx, items[0].Seq); err != nil {
			t.Fatal(err)
		}
		if dup, err := tdb.RecordCheckIn(ctx, c); err != nil || !dup {
			t.Fatalf("RecordCheckIn after send = %v, %v; want true, nil", dup, err)
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 0 {
			t.Fatalf("OutboxLen = %d, %v; want 0", n, err)
		}
	})

	// Transactional: when the outbox insert fails, the check-in is not kept
	// either (and the other way round is covered by the disk-full test).
	t.Run("OutboxFailureRollsBack", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if _, err := rawDB(t, tdb.Path).Exec(`CREATE TRIGGER outbox_broken BEFORE INSERT ON outbox
			BEGIN SELECT RAISE(ABORT, 'outbox broken by test'); END`); err != nil {
			t.Fatal(err)
		}
		c := newCheckIn("a1", tdb.Clock.Now())
		if _, err := tdb.RecordCheckIn(ctx, c); err == nil {
			t.Fatal("RecordCheckIn succeeded with a broken outbox")
		}
		if _, err := tdb.FindCheckIn(ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("FindCheckIn after a failed record = %v, want ErrNotFound", err)
		}
		if _, err := rawDB(t, tdb.Path).Exec(`DROP TRIGGER outbox_broken`); err != nil {
			t.Fatal(err)
		}
		// The same id records fine afterwards: nothing half-written blocks it.
		if dup, err := tdb.RecordCheckIn(ctx, c); err != nil || dup {
			t.Fatalf("RecordCheckIn after repair = %v, %v; want false, nil", dup, err)
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 1 {
			t.Fatalf("OutboxLen = %d, %v; want 1", n, err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		tdb := MustOpenDB(t)
		ok := newCheckIn("a1", tdb.Clock.Now())
		for _, tt := range []struct {
			name string
			edit func(c *api.CheckIn)
		}{
			{"EmptyID", func(c *api.CheckIn) { c.ID = "" }},
			{"IDNotUUID", func(c *api.CheckIn) { c.ID = "checkin-1" }},
			// The server refuses these (facecheck.ValidateCheckIn): a kiosk
			// must not queue a check-in it can never send.
			{"IDUpperCase", func(c *api.CheckIn) { c.ID = strings.ToUpper(c.ID) }},
			{"LongAttendee", func(c *api.CheckIn) { c.AttendeeID = strings.Repeat("a", 65) }},
			{"NoAttendee", func(c *api.CheckIn) { c.AttendeeID = " " }},
			{"UnknownMethod", func(c *api.CheckIn) { c.Method = "telepathy" }},
			{"NaNScore", func(c *api.CheckIn) { c.Score = float32(math.NaN()) }},
			{"InfMargin", func(c *api.CheckIn) { c.Margin = float32(math.Inf(1)) }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := ok
				tt.edit(&c)
				if _, err := tdb.RecordCheckIn(ctx, c); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("RecordCheckIn = %v, want ErrInvalid", err)
				}
			})
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 0 {
			t.Fatalf("OutboxLen = %d, %v; want 0", n, err)
		}
	})
}

func TestHasCheckedInAndCount(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	t0 := tdb.Clock.Now()
	for _, c := range []api.CheckIn{
		newCheckIn("a1", t0),
		newCheckIn("a2", t0.Add(time.Hour)),
		newCheckIn("a1", t0.Add(2*time.Hour)),
	} {
		if _, err := tdb.RecordCheckIn(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		attendee string
		since    time.Time
		want     bool
	}{
		{"a1", time.Time{}, true},
		{"a1", t0.Add(2 * time.Hour), true}, // inclusive
		{"a1", t0.Add(2*time.Hour + time.Nanosecond), false},
		{"a2", t0.Add(30 * time.Minute), true},
		{"a2", t0.Add(90 * time.Minute), false},
		{"a3", time.Time{}, false},
	} {
		got, err := tdb.HasCheckedIn(ctx, tt.attendee, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("HasCheckedIn(%s, %v) = %v, want %v", tt.attendee, tt.since, got, tt.want)
		}
	}
	for _, tt := range []struct {
		since time.Time
		want  int
	}{
		{time.Time{}, 3},
		{t0, 3},
		{t0.Add(time.Minute), 2},
		{t0.Add(3 * time.Hour), 0},
	} {
		if got, err := tdb.CountCheckIns(ctx, tt.since); err != nil || got != tt.want {
			t.Errorf("CountCheckIns(%v) = %d, %v; want %d", tt.since, got, err, tt.want)
		}
	}
	if _, err := tdb.FindCheckIn(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindCheckIn of an unknown id = %v, want ErrNotFound", err)
	}
}

func BenchmarkRecordCheckIn(b *testing.B) {
	ctx := context.Background()
	tdb := MustOpenDB(b)
	cs := make([]api.CheckIn, b.N)
	for i := range cs {
		cs[i] = newCheckIn("a1", tdb.Clock.Now())
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := tdb.RecordCheckIn(ctx, cs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHasCheckedIn(b *testing.B) {
	ctx := context.Background()
	tdb := MustOpenDB(b)
	for range 1000 {
		if _, err := tdb.RecordCheckIn(ctx, newCheckIn("a1", tdb.Clock.Now())); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tdb.HasCheckedIn(ctx, "a1", tdb.Clock.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
