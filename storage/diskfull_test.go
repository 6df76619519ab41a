package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// TestDiskFull caps the database with Options.MaxPages (SQLite then fails
// exactly as on a full disk, with SQLITE_FULL) and checks the error is
// ErrDiskFull with a clear message, that the failed writes left nothing
// half-written, and that everything committed before is intact.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	db, clk, reopen := openFull(t)

	// Fill the database with check-ins until it is full.
	var ok []string
	var full error
	var failed api.CheckIn
	for i := 0; i < 100000; i++ {
		c := newCheckIn("a1", clk.Now())
		if _, err := db.RecordCheckIn(ctx, c); err != nil {
			full, failed = err, c
			break
		}
		ok = append(ok, c.ID)
		clk.Advance(time.Second)
	}
	if full == nil {
		t.Fatal("the capped database never filled up")
	}
	if !errors.Is(full, storage.ErrDiskFull) {
		t.Fatalf("RecordCheckIn on a full database = %v, want ErrDiskFull", full)
	}
	for _, want := range []string{"storage: record check-in", "disk is full", "free space"} {
		if !strings.Contains(full.Error(), want) {
			t.Errorf("error %q does not say %q", full, want)
		}
	}
	t.Logf("full after %d check-ins: %v", len(ok), full)

	// Nothing of the failed check-in was written, neither row nor outbox item.
	if _, err := db.FindCheckIn(ctx, failed.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindCheckIn of the failed check-in = %v, want ErrNotFound", err)
	}
	if n, err := db.CountCheckIns(ctx, time.Time{}); err != nil || n != len(ok) {
		t.Fatalf("CountCheckIns = %d, %v; want %d", n, err, len(ok))
	}
	if n, err := db.OutboxLen(ctx); err != nil || n != len(ok) {
		t.Fatalf("OutboxLen = %d, %v; want %d", n, err, len(ok))
	}

	// A large gallery delta fails as a whole: no attendee of it, cursor unmoved.
	var ups []storage.GalleryUpsert
	for i := range 50 {
		ups = append(ups, storage.GalleryUpsert{
			Attendee:  storage.Attendee{ID: fmt.Sprintf("b%d", i), Name: fmt.Sprintf("Bulk %d", i)},
			Templates: []api.Template{template(byte(i)), template(byte(i + 100))},
		})
	}
	if err := db.ApplyGalleryDelta(ctx, ups, []string{"a1"}, 99); !errors.Is(err, storage.ErrDiskFull) {
		t.Fatalf("ApplyGalleryDelta on a full database = %v, want ErrDiskFull", err)
	}
	if n, err := db.CountAttendees(ctx); err != nil || n != 1 {
		t.Fatalf("CountAttendees = %d, %v; want 1 (the delta must not be half applied)", n, err)
	}
	if c, err := db.GetCursor(ctx); err != nil || c != 1 {
		t.Fatalf("GetCursor = %d, %v; want 1", c, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	// The writer is not wedged in a half-open transaction: a write that needs
	// no new page still goes through.
	if err := db.SetCursor(ctx, 2); err != nil {
		t.Fatalf("SetCursor after ErrDiskFull: %v", err)
	}

	// Once there is room again, everything earlier is there and writes work.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = reopen()
	for _, id := range ok {
		if _, err := db.FindCheckIn(ctx, id); err != nil {
			t.Fatalf("check-in %s lost: %v", id, err)
		}
	}
	if dup, err := db.RecordCheckIn(ctx, failed); err != nil || dup {
		t.Fatalf("RecordCheckIn after freeing space = %v, %v; want false, nil", dup, err)
	}
	if c, err := db.GetCursor(ctx); err != nil || c != 2 {
		t.Fatalf("GetCursor = %d, %v; want 2", c, err)
	}
	if ts, err := db.AllTemplates(ctx); err != nil || len(ts) != 1 {
		t.Fatalf("AllTemplates = %d, %v; want a1's one template", len(ts), err)
	}
}

// openFull opens a kiosk database capped at 40 pages (SQLite then fails
// exactly as on a full disk) holding attendee a1; reopen opens the same
// file without the cap, as when room is back.
func openFull(t *testing.T) (db *storage.DB, clk *clock, reopen func() *storage.DB) {
	t.Helper()
	dir := t.TempDir()
	key, err := storage.LoadOrCreateKey(filepath.Join(dir, "template.key"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kiosk.db")
	clk = newClock()
	db = MustOpenAt(t, path, storage.Options{Key: key, Now: clk.Now, MaxPages: 40})
	if err := db.ApplyGalleryDelta(context.Background(), []storage.GalleryUpsert{{Attendee: storage.Attendee{ID: "a1", Name: "Ann"}, Templates: []api.Template{template(1)}}}, nil, 1); err != nil {
		t.Fatal(err)
	}
	return db, clk, func() *storage.DB { return MustOpenAt(t, path, storage.Options{Key: key, Now: clk.Now}) }
}
