package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// FACECHECK_TEST_POSTGRES is a postgres:// URL; when set, every test also
// runs against PostgreSQL, each in a fresh schema.
const pgEnv = "FACECHECK_TEST_POSTGRES"

var testKey = bytes.Repeat([]byte{7}, api.KeySize)

// opener opens a fresh, empty store.
type opener func(tb testing.TB) *store.DB

// forEachDB runs fn against SQLite, and PostgreSQL when configured.
func forEachDB(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgEnv) == "" {
			t.Skip(pgEnv + " not set")
		}
		fn(t, openPostgres)
	})
}

func openSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpen(tb, filepath.Join(tb.TempDir(), "test.db"), testKey)
}

func mustOpen(tb testing.TB, dsn string, key []byte) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), dsn, key)
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

// openPostgres creates a schema of its own and points search_path at it.
func openPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	base := os.Getenv(pgEnv)
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	schema := "fc_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil { // schema is ours, not input
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return mustOpen(tb, u.String(), testKey)
}

func tpl(seed byte) api.Template {
	d := make([]byte, 512)
	for i := range d {
		d[i] = byte(i)*seed + seed
	}
	return api.Template{Model: "m", Version: 1, Data: d}
}

func TestMigrations(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		got, err := db.Migrations(context.Background())
		want := []string{"go-0001-short-code-subkey", "migrations/0001_init.sql", "migrations/0002_capture.sql", "migrations/0003_kiosk_sync.sql",
			"migrations/0004_event_lifecycle.sql", "migrations/0005_email.sql"}
		if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("migrations = %v, %v", got, err)
		}
	})
	t.Run("reopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "test.db")
		db, err := store.Open(context.Background(), path, testKey)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := db.CreateEvent(context.Background(), "E")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpen(t, path, testKey)
		if _, err := db.FindEventByID(context.Background(), ev.ID); err != nil {
			t.Fatal(err)
		}
		// Another server key cannot open the event's template key.
		other := mustOpen(t, path, bytes.Repeat([]byte{8}, api.KeySize))
		if _, err := other.FindEventByID(context.Background(), ev.ID); !errors.Is(err, api.ErrSealed) {
			t.Fatalf("wrong server key: %v", err)
		}
		// The database file holds neither the template key nor a template.
		if _, err := db.CreateAttendee(context.Background(), store.AttendeeCreate{EventID: ev.ID, Name: "A", Consent: true,
			Templates: []api.Template{tpl(3)}}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wal, _ := os.ReadFile(path + "-wal")
		raw = append(raw, wal...)
		if bytes.Contains(raw, ev.TemplateKey) || bytes.Contains(raw, tpl(3).Data[:32]) {
			t.Fatal("database file contains a key or template in clear")
		}
	})
}

func TestPasswords(t *testing.T) {
	h, err := store.HashPassword("secret password")
	if err != nil {
		t.Fatal(err)
	}
	if !store.CheckPassword(h, "secret password") || store.CheckPassword(h, "secret passwore") {
		t.Fatal("password check wrong")
	}
	for _, bad := range []string{"", "$argon2id$", h[:len(h)-4], "$argon2id$v=19$m=0,t=0,p=0$$"} {
		if store.CheckPassword(bad, "secret password") {
			t.Fatalf("hash %q accepted", bad)
		}
	}
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		if err := db.CreateAdmin(ctx, "root", "longenough"); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateAdmin(ctx, "root", "longenough"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate admin: %v", err)
		}
		if err := db.AuthenticateAdmin(ctx, "root", "longenough"); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][2]string{{"root", "wrong"}, {"nobody", "longenough"}, {"root' OR '1'='1", "x"}} {
			if err := db.AuthenticateAdmin(ctx, c[0], c[1]); !errors.Is(err, store.ErrInvalidCredentials) {
				t.Fatalf("%v: %v", c, err)
			}
		}
	})
}

func TestGallery(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		ev, err := db.CreateEvent(ctx, "E")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i := range 5 {
			reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: fmt.Sprint("P", i), Consent: true,
				Email: fmt.Sprintf("p%d@example.org", i), Templates: []api.Template{tpl(byte(i + 1)), tpl(byte(i + 10))}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, reg.Attendee.ID)
		}
		read := func(since int64) ([]api.GalleryRecord, int64) {
			var recs []api.GalleryRecord
			end, n, err := db.StreamGallery(ctx, ev.ID, since, func(r api.GalleryRecord) error {
				recs = append(recs, r)
				return nil
			})
			if err != nil || n != len(recs) {
				t.Fatalf("stream: %v, n %d", err, n)
			}
			return recs, end
		}
		recs, end := read(0)
		if len(recs) != 5 || end != 5 {
			t.Fatalf("full = %d records, end %d", len(recs), end)
		}
		for i, r := range recs {
			if r.AttendeeID != ids[i] || r.Cursor != int64(i+1) || len(r.Templates) != 2 {
				t.Fatalf("record %d = %+v", i, r)
			}
			got, err := api.OpenTemplate(ev.TemplateKey, r.AttendeeID, r.Templates[0])
			if err != nil || !bytes.Equal(got.Data, tpl(byte(i+1)).Data) {
				t.Fatalf("record %d template: %v", i, err)
			}
		}
		if err := db.DeleteAttendee(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteAttendee(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete unknown: %v", err)
		}
		recs, end2 := read(end)
		if len(recs) != 1 || recs[0].Op != api.OpDelete || recs[0].AttendeeID != ids[1] || end2 != 6 {
			t.Fatalf("delta = %+v, end %d", recs, end2)
		}
		a, err := db.FindAttendeeByID(ctx, ids[1])
		if err != nil || a.DeletedAt == nil || a.Name != "" || a.Email != "" || a.Templates != 0 {
			t.Fatalf("tombstone = %+v, %v", a, err)
		}
		// The freed e-mail can register again.
		if _, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "again", Email: "P1@example.org", Consent: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "dup", Email: "p2@example.org", Consent: true}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate e-mail: %v", err)
		}
		// Search escapes LIKE wildcards and ignores case.
		as, total, err := db.ListAttendees(ctx, store.AttendeeFilter{EventID: ev.ID, Query: "p3"})
		if err != nil || total != 1 || as[0].Name != "P3" {
			t.Fatalf("search = %v %d %v", as, total, err)
		}
		if _, total, _ := db.ListAttendees(ctx, store.AttendeeFilter{EventID: ev.ID, Query: "%"}); total != 0 {
			t.Fatalf("search %% = %d", total)
		}
	})
}

func TestCheckIns(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		ev, err := db.CreateEvent(ctx, "E")
		if err != nil {
			t.Fatal(err)
		}
		reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "A", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		aid := reg.Attendee.ID
		now := time.Now()
		// 8 kiosks send the same 4 check-ins at once, each several times.
		ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
		var mu sync.Mutex
		accepted := map[string]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for _, id := range ids {
					res, err := db.RecordCheckIns(ctx, ev.ID, "", []api.CheckIn{{ID: id, AttendeeID: aid, Method: api.MethodFace, At: now}})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if res[0].Status == api.StatusAccepted {
						accepted[id]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			if accepted[id] != 1 {
				t.Fatalf("check-in %s accepted %d times", id, accepted[id])
			}
		}
		st, err := db.EventStats(ctx, ev.ID)
		if err != nil || st.CheckIns != 1 || st.Repeats != 3 {
			t.Fatalf("stats = %+v, %v", st, err)
		}
		a, err := db.FindAttendeeByID(ctx, aid)
		if err != nil || a.CheckIns != 4 {
			t.Fatalf("attendee check-ins = %d, %v", a.CheckIns, err)
		}
	})
}

func TestPairing(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		ev, err := db.CreateEvent(ctx, "E")
		if err != nil {
			t.Fatal(err)
		}
		code, _, err := db.CreatePairingCode(ctx, ev.ID, "admin", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// Two kiosks race for one code: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var wins int
		for range 6 {
			wg.Go(func() {
				_, _, err := db.Pair(ctx, code, "k", "1")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrInvalidCredentials):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d kiosks paired with one code", wins)
		}
		if _, _, err := db.CreatePairingCode(ctx, "nope", "admin", time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown event: %v", err)
		}
	})
}
