package store_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// A database from before the short-code subkey (hashes as HMAC under the
// event key itself, codes sealed under it) is migrated on open: the hashes
// become api.HashShortCode's, the attendees move up the gallery feed so
// kiosks get them, and the old sealed codes still open.
func TestShortCodeHashesMigrateToSubkey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "facecheck.db")
	db, err := store.Open(ctx, path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := db.CreateEvent(ctx, "Legacy")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Old Timer", Consent: true, Source: store.SourceWeb,
		Templates: []api.Template{{Model: "m", Version: 1, Data: make([]byte, 512)}}})
	if err != nil {
		t.Fatal(err)
	}
	code, err := db.ShortCode(ctx, ev, reg.Attendee.ID)
	if err != nil {
		t.Fatal(err)
	}
	before, err := db.GalleryCursor(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	m := hmac.New(sha256.New, ev.TemplateKey)
	m.Write([]byte("facecheck-short-code\x00" + api.NormalizeShortCode(code)))
	legacyHash := hex.EncodeToString(m.Sum(nil))
	legacySealed, err := api.Seal(ev.TemplateKey, []byte(api.NormalizeShortCode(code)), []byte("facecheck-short-code\x00"+reg.Attendee.ID))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE attendees SET code_hash = $1, code_sealed = $2 WHERE id = $3`, []any{legacyHash, legacySealed, reg.Attendee.ID}},
		{`DELETE FROM schema_migrations WHERE name = 'go-0001-short-code-subkey'`, nil},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err = store.Open(ctx, path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got api.GalleryRecord
	if _, _, err := db.StreamGallery(ctx, ev.ID, before, func(r api.GalleryRecord) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if got.AttendeeID != reg.Attendee.ID || got.CodeHash != api.HashShortCode(ev.TemplateKey, code) || got.CodeHash == legacyHash {
		t.Fatalf("after the migration the feed since %d sends %+v; want the attendee with the subkey hash", before, got)
	}
	if again, err := db.ShortCode(ctx, ev, reg.Attendee.ID); err != nil || again != code {
		t.Fatalf("the v1-sealed code opens as %q, %v; want %q", again, err, code)
	}
}
