package storage_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// clock is a settable time source for DB.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testDB is an open database with its paths and clock.
type testDB struct {
	*storage.DB
	Dir, Path string
	Key       []byte
	Clock     *clock
}

// MustOpenDB opens a fresh database in a temporary directory, with its key
// in a separate key directory, and closes it when the test ends.
func MustOpenDB(tb testing.TB) *testDB {
	tb.Helper()
	dir := tb.TempDir()
	key, err := storage.LoadOrCreateKey(filepath.Join(dir, "keys", "template.key"))
	if err != nil {
		tb.Fatal(err)
	}
	tdb := &testDB{Dir: dir, Path: filepath.Join(dir, "data", "kiosk.db"), Key: key, Clock: newClock()}
	tdb.DB = MustOpenAt(tb, tdb.Path, storage.Options{Key: key, Now: tdb.Clock.Now})
	return tdb
}

// MustOpenAt opens the database at path and closes it when the test ends
// (closing twice is harmless).
func MustOpenAt(tb testing.TB, path string, opts storage.Options) *storage.DB {
	tb.Helper()
	db, err := storage.Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// Reopen closes and reopens tdb with the same key and clock.
func (tdb *testDB) Reopen(tb testing.TB) {
	tb.Helper()
	if err := tdb.Close(); err != nil {
		tb.Fatal(err)
	}
	tdb.DB = MustOpenAt(tb, tdb.Path, storage.Options{Key: tdb.Key, Now: tdb.Clock.Now})
}

// rawDB opens the database file directly, bypassing storage, for checks and
// fault injection.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func template(seed byte) api.Template {
	d := make([]byte, storage.TemplateBytes)
	for i := range d {
		d[i] = seed ^ byte(i*7+3)
	}
	return api.Template{Model: "mfn-512", Version: 1, Data: d}
}

func newCheckIn(attendee string, at time.Time) api.CheckIn {
	return api.CheckIn{ID: uuid.NewString(), AttendeeID: attendee, Method: api.MethodFace, Score: 0.61, Margin: 0.2, At: at}
}

func TestOpen(t *testing.T) {
	t.Run("MigrationsIdempotentOnReopen", func(t *testing.T) {
		ctx := context.Background()
		tdb := MustOpenDB(t)
		if _, err := tdb.RecordCheckIn(ctx, newCheckIn("a1", tdb.Clock.Now())); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			tdb.Reopen(t)
		}
		var n int
		if err := rawDB(t, tdb.Path).QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want, err := filepath.Glob("migrations/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if n != len(want) || n == 0 {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(want))
		}
		if got, err := tdb.CountCheckIns(ctx, time.Time{}); err != nil || got != 1 {
			t.Fatalf("CountCheckIns after reopen = %d, %v; want 1", got, err)
		}
	})

	t.Run("Pragmas", func(t *testing.T) {
		tdb := MustOpenDB(t)
		var mode string
		if err := rawDB(t, tdb.Path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Fatalf("journal_mode = %q, want wal", mode)
		}
	})

	t.Run("FileIsPrivate", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no unix permissions")
		}
		tdb := MustOpenDB(t)
		fi, err := os.Stat(tdb.Path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Fatalf("database permissions %04o, want 0600", perm)
		}
	})

	t.Run("ErrNewerSchema", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := rawDB(t, tdb.Path).Exec(`INSERT INTO schema_migrations VALUES ('9999_future.sql', 'x')`); err != nil {
			t.Fatal(err)
		}
		_, err := storage.Open(tdb.Path, storage.Options{Key: tdb.Key})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("newer facecheck")) {
			t.Fatalf("Open = %v, want a newer-schema error", err)
		}
	})

	t.Run("ErrWrongKey", func(t *testing.T) {
		ctx := context.Background()
		tdb := MustOpenDB(t)
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: "a1", Name: "Ann"}, []api.Template{template(1)}); err != nil {
			t.Fatal(err)
		}
		if err := tdb.Close(); err != nil {
			t.Fatal(err)
		}
		other, err := api.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		_, err = storage.Open(tdb.Path, storage.Options{Key: other})
		if !errors.Is(err, storage.ErrWrongKey) {
			t.Fatalf("Open with another key = %v, want ErrWrongKey", err)
		}
	})

	t.Run("ResetGalleryOnWrongKey", func(t *testing.T) {
		ctx := context.Background()
		tdb := MustOpenDB(t)
		if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{{Attendee: storage.Attendee{ID: "a1", Name: "Ann"}, Templates: []api.Template{template(1)}}}, nil, 7); err != nil {
			t.Fatal(err)
		}
		c := newCheckIn("a1", tdb.Clock.Now())
		if _, err := tdb.RecordCheckIn(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := tdb.Close(); err != nil {
			t.Fatal(err)
		}
		other, err := api.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		db := MustOpenAt(t, tdb.Path, storage.Options{Key: other, ResetGalleryOnWrongKey: true})
		if n, err := db.CountAttendees(ctx); err != nil || n != 0 {
			t.Fatalf("CountAttendees = %d, %v; want 0", n, err)
		}
		if cur, err := db.GetCursor(ctx); err != nil || cur != 0 {
			t.Fatalf("GetCursor = %d, %v; want 0", cur, err)
		}
		if _, err := db.FindCheckIn(ctx, c.ID); err != nil {
			t.Fatalf("check-in lost by the reset: %v", err)
		}
		if n, err := db.OutboxLen(ctx); err != nil || n != 1 {
			t.Fatalf("OutboxLen = %d, %v; want 1", n, err)
		}
		// The new key is now the database's key.
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		MustOpenAt(t, tdb.Path, storage.Options{Key: other})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		dir := t.TempDir()
		key := bytes.Repeat([]byte{1}, storage.KeySize)
		for _, tt := range []struct {
			name, path string
			key        []byte
		}{
			{"EmptyPath", "", key},
			{"Memory", ":memory:", key},
			{"QueryInPath", filepath.Join(dir, "a.db?mode=ro"), key},
			{"NoKey", filepath.Join(dir, "b.db"), nil},
			{"ShortKey", filepath.Join(dir, "c.db"), key[:16]},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := storage.Open(tt.path, storage.Options{Key: tt.key}); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("Open = %v, want ErrInvalid", err)
				}
			})
		}
	})
}

func TestIntegrityCheck(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.IntegrityCheck(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		ctx := context.Background()
		tdb := MustOpenDB(t)
		for i := range 200 {
			a := storage.Attendee{ID: fmt.Sprintf("a%03d", i), Name: fmt.Sprintf("Person %d", i)}
			if err := tdb.UpsertAttendee(ctx, a, []api.Template{template(byte(i))}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tdb.Close(); err != nil {
			t.Fatal(err)
		}
		// Scribble over a page in the middle of the file (not the header).
		f, err := os.OpenFile(tdb.Path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 4096), fi.Size()/2/4096*4096); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := storage.Open(tdb.Path, storage.Options{Key: tdb.Key})
		if err != nil {
			if !errors.Is(err, storage.ErrCorrupt) {
				t.Fatalf("Open of a damaged file = %v, want ErrCorrupt", err)
			}
			return
		}
		defer db.Close()
		if err := db.IntegrityCheck(ctx); !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("IntegrityCheck = %v, want ErrCorrupt", err)
		}
	})
}

// TestConcurrentWriters checks that the single-writer pattern serialises
// writers from many goroutines without SQLITE_BUSY, while readers run.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := tdb.RecordCheckIn(ctx, newCheckIn(fmt.Sprintf("a%d", w), tdb.Clock.Now())); err != nil {
					errc <- err
				}
				if i%5 == 0 {
					if err := tdb.SetSetting(ctx, fmt.Sprintf("k%d", w), fmt.Sprint(i), "test"); err != nil {
						errc <- err
					}
				}
				if _, err := tdb.OutboxLen(ctx); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n, err := tdb.CountCheckIns(ctx, time.Time{}); err != nil || n != workers*each {
		t.Fatalf("CountCheckIns = %d, %v; want %d", n, err, workers*each)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Run("CreateThenLoad", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "template.key")
		k1, err := storage.LoadOrCreateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(k1) != storage.KeySize || bytes.Equal(k1, make([]byte, storage.KeySize)) {
			t.Fatalf("key = %x", k1)
		}
		if runtime.GOOS != "windows" {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("key file permissions %04o, want 0600", perm)
			}
		}
		k2, err := storage.LoadOrCreateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k1, k2) {
			t.Fatal("second LoadOrCreateKey returned another key")
		}
	})

	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantMsg string
	}{
		{"ErrLoosePermissions", func(t *testing.T, path string) {
			if runtime.GOOS == "windows" {
				t.Skip("no unix permissions")
			}
			writeFile(t, path, bytes.Repeat([]byte{7}, storage.KeySize), 0o644)
		}, "chmod 600"},
		{"ErrGroupReadable", func(t *testing.T, path string) {
			if runtime.GOOS == "windows" {
				t.Skip("no unix permissions")
			}
			writeFile(t, path, bytes.Repeat([]byte{7}, storage.KeySize), 0o640)
		}, "want 0600"},
		{"ErrShort", func(t *testing.T, path string) {
			writeFile(t, path, []byte("0123456789abcdef"), 0o600)
		}, "holds 16 bytes, want 32"},
		{"ErrLong", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte{7}, 64), 0o600)
		}, "holds 64 bytes, want 32"},
		{"ErrDirectory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "template.key")
			tt.setup(t, path)
			before, _ := os.ReadFile(path)
			_, err := storage.LoadOrCreateKey(path)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.wantMsg)) {
				t.Fatalf("LoadOrCreateKey = %v, want an error containing %q", err, tt.wantMsg)
			}
			// A refused key file is never replaced.
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("LoadOrCreateKey changed a refused key file")
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	// WriteFile's permissions pass through the umask; set them exactly.
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateCaptureConsent opens a database written before the capture
// consent existed (only 0001_init applied, attendees cached at cursor 42):
// the migration keeps the attendees and check-ins, reads everyone as not
// consenting, moves the cursor back to 0 so the next sync is a full feed
// that brings each attendee's consent, and runs once.
func TestMigrateCaptureConsent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	initSQL, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	const at = "2026-05-14T09:00:00.000000000Z"
	for _, q := range []string{
		`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`,
		string(initSQL),
		`INSERT INTO schema_migrations (name, applied_at) VALUES ('0001_init.sql', '` + at + `')`,
		`INSERT INTO attendees (id, name, name_fold, info, code_hash, updated_at) VALUES
			('a1', 'Ann Lee', 'ann lee', 'Hall B', 'h1', '` + at + `'), ('a2', 'Bo Kim', 'bo kim', '', '', '` + at + `')`,
		`INSERT INTO meta (key, value) VALUES ('gallery_cursor', 42)`,
		`INSERT INTO checkins (id, attendee_id, method, score, margin, at, recorded_at)
			VALUES ('c1', 'a1', 'face', 0.7, 0.2, '` + at + `', '` + at + `')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("building the old database: %v", err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	key := bytes.Repeat([]byte{5}, storage.KeySize)
	db := MustOpenAt(t, path, storage.Options{Key: key})
	as, err := db.ListAttendees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID != "a1" || as[0].Info != "Hall B" || as[0].CodeHash != "h1" || as[1].ID != "a2" {
		t.Fatalf("attendees after the migration: %+v", as)
	}
	for _, a := range as {
		if a.CaptureConsent {
			t.Errorf("%s reads as consenting before the server said so", a.ID)
		}
	}
	if c, err := db.GetCursor(ctx); err != nil || c != 0 {
		t.Fatalf("GetCursor after the migration = %d, %v; want 0 (full sync)", c, err)
	}
	if _, err := db.FindCheckIn(ctx, "c1"); err != nil {
		t.Fatalf("check-in lost by the migration: %v", err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(want))
	}

	// The full sync stores the consent; reopening does not migrate again.
	up := storage.GalleryUpsert{Attendee: storage.Attendee{ID: "a1", Name: "Ann Lee", CaptureConsent: true}, Templates: []api.Template{template(1)}}
	if err := db.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{up}, []string{"a2"}, 50); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpenAt(t, path, storage.Options{Key: key})
	if c, err := db.GetCursor(ctx); err != nil || c != 50 {
		t.Fatalf("GetCursor after reopening = %d, %v; want 50", c, err)
	}
	if a, err := db.FindAttendee(ctx, "a1"); err != nil || !a.CaptureConsent {
		t.Fatalf("FindAttendee = %+v, %v; want a1 consenting", a, err)
	}
	if _, err := rawDB(t, path).Exec(`UPDATE attendees SET capture_consent = 2 WHERE id = 'a1'`); err == nil {
		t.Error("capture_consent accepts 2")
	}
}
