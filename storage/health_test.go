package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// TestWriteErrorAndProbe: a write that meets a full database sets
// WriteError; Probe keeps failing with ErrDiskFull while there is no room
// for a check-in and leaves nothing behind; once room is back (here: the
// same file reopened without the cap) Probe succeeds, WriteError clears
// and check-ins are recorded again, the earlier ones intact.
func TestWriteErrorAndProbe(t *testing.T) {
	ctx := context.Background()
	db, clk, reopen := openFull(t)
	if db.WriteError() != nil {
		t.Fatalf("WriteError before any failure: %v", db.WriteError())
	}
	recorded := 0
	for i := 0; i < 100000; i++ {
		if _, err := db.RecordCheckIn(ctx, newCheckIn("a1", clk.Now())); err != nil {
			if !errors.Is(err, storage.ErrDiskFull) {
				t.Fatal(err)
			}
			break
		}
		recorded++
		clk.Advance(time.Second)
	}
	if !errors.Is(db.WriteError(), storage.ErrDiskFull) {
		t.Fatalf("WriteError after a full disk = %v, want ErrDiskFull", db.WriteError())
	}
	audit, err := db.ListAudit(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := db.Probe(ctx); !errors.Is(err, storage.ErrDiskFull) {
			t.Fatalf("Probe on a full database = %v, want ErrDiskFull", err)
		}
	}
	if again, _ := db.ListAudit(ctx, 1000); len(again) != len(audit) {
		t.Fatalf("failed probes left %d audit entries behind", len(again)-len(audit))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = reopen()
	if err := db.Probe(ctx); err != nil {
		t.Fatalf("Probe with room = %v", err)
	}
	if db.WriteError() != nil {
		t.Fatalf("WriteError after a good probe: %v", db.WriteError())
	}
	if again, _ := db.ListAudit(ctx, 1000); len(again) != len(audit) {
		t.Fatalf("a good probe left %d audit entries behind", len(again)-len(audit))
	}
	if _, err := db.RecordCheckIn(ctx, newCheckIn("a1", clk.Now())); err != nil {
		t.Fatalf("check-in with room again: %v", err)
	}
	if n, _ := db.CountCheckIns(ctx, time.Time{}); n != recorded+1 {
		t.Fatalf("%d check-ins stored, want %d", n, recorded+1)
	}
}

// TestOutboxAdded: a committed check-in or enrolment signals OutboxAdded
// once; a duplicate, a rolled-back write and other writes do not.
func TestOutboxAdded(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	db, clk := tdb.DB, tdb.Clock
	pending := func() bool {
		select {
		case <-db.OutboxAdded():
			return true
		default:
			return false
		}
	}
	if err := db.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{{Attendee: storage.Attendee{ID: "a1", Name: "Ann"}, Templates: []api.Template{template(1)}}}, nil, 1); err != nil {
		t.Fatal(err)
	}
	if pending() {
		t.Fatal("a gallery write signalled OutboxAdded")
	}
	c := newCheckIn("a1", clk.Now())
	if _, err := db.RecordCheckIn(ctx, c); err != nil {
		t.Fatal(err)
	}
	if !pending() {
		t.Fatal("a recorded check-in did not signal OutboxAdded")
	}
	if pending() {
		t.Fatal("one check-in signalled twice")
	}
	if dup, err := db.RecordCheckIn(ctx, c); err != nil || !dup {
		t.Fatalf("replay: %v %v", dup, err)
	}
	if pending() {
		t.Fatal("a duplicate check-in signalled OutboxAdded")
	}
	bad := newCheckIn("a1", clk.Now())
	bad.Method = "telepathy"
	if _, err := db.RecordCheckIn(ctx, bad); err == nil {
		t.Fatal("an invalid check-in was recorded")
	}
	if pending() {
		t.Fatal("a refused check-in signalled OutboxAdded")
	}
	for range 3 {
		if _, err := db.RecordCheckIn(ctx, newCheckIn("a1", clk.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if !pending() || pending() {
		t.Fatal("three check-ins in a row: want exactly one pending signal")
	}
}
