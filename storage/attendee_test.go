package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

func TestUpsertAttendee(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		tdb := MustOpenDB(t)
		a := storage.Attendee{ID: "a1", Name: "Ann Lee", Info: "Hall B, row 3", CodeHash: "h1"}
		if err := tdb.UpsertAttendee(ctx, a, []api.Template{template(1), template(2)}); err != nil {
			t.Fatal(err)
		}
		got, err := tdb.FindAttendee(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		a.UpdatedAt = tdb.Clock.Now()
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("FindAttendee = %+v, want %+v", got, a)
		}
		ts, err := tdb.AllTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 {
			t.Fatalf("AllTemplates returned %d templates, want 2", len(ts))
		}
		for i, want := range []api.Template{template(1), template(2)} {
			g := ts[i]
			if g.AttendeeID != "a1" || g.Model != want.Model || g.Version != want.Version || !bytes.Equal(g.Data, want.Data) {
				t.Fatalf("template %d = %s/%s/%d/%x..., want a1/%s/%d/%x...", i, g.AttendeeID, g.Model, g.Version, g.Data[:4], want.Model, want.Version, want.Data[:4])
			}
		}
	})

	t.Run("ReplacesTemplates", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: "a1", Name: "Ann"}, []api.Template{template(1), template(2)}); err != nil {
			t.Fatal(err)
		}
		tdb.Clock.Advance(time.Hour)
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: "a1", Name: "Ann Lee"}, []api.Template{template(3)}); err != nil {
			t.Fatal(err)
		}
		ts, err := tdb.AllTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || !bytes.Equal(ts[0].Data, template(3).Data) {
			t.Fatalf("after re-upsert: %d templates, want only template 3", len(ts))
		}
		a, err := tdb.FindAttendee(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "Ann Lee" || !a.UpdatedAt.Equal(tdb.Clock.Now()) {
			t.Fatalf("FindAttendee = %+v", a)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		tdb := MustOpenDB(t)
		short := template(1)
		short.Data = short.Data[:100]
		noModel := template(1)
		noModel.Model = ""
		for _, tt := range []struct {
			name string
			a    storage.Attendee
			ts   []api.Template
		}{
			{"NoID", storage.Attendee{Name: "Ann"}, nil},
			{"NoName", storage.Attendee{ID: "a1"}, nil},
			{"ShortTemplate", storage.Attendee{ID: "a1", Name: "Ann"}, []api.Template{short}},
			{"NoModel", storage.Attendee{ID: "a1", Name: "Ann"}, []api.Template{noModel}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := tdb.UpsertAttendee(ctx, tt.a, tt.ts); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("UpsertAttendee = %v, want ErrInvalid", err)
				}
			})
		}
		if n, err := tdb.CountAttendees(ctx); err != nil || n != 0 {
			t.Fatalf("CountAttendees = %d, %v; want 0", n, err)
		}
	})
}

func TestDeleteAttendee(t *testing.T) {
	ctx := context.Background()
	t.Run("Tombstone", func(t *testing.T) {
		tdb := MustOpenDB(t)
		for _, id := range []string{"a1", "a2"} {
			if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: id, Name: "N " + id}, []api.Template{template(1), template(2)}); err != nil {
				t.Fatal(err)
			}
		}
		c := newCheckIn("a1", tdb.Clock.Now())
		if _, err := tdb.RecordCheckIn(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := tdb.DeleteAttendee(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if _, err := tdb.FindAttendee(ctx, "a1"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("FindAttendee after delete = %v, want ErrNotFound", err)
		}
		ts, err := tdb.AllTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range ts {
			if tm.AttendeeID == "a1" {
				t.Fatal("a template of a deleted attendee is still stored")
			}
		}
		if len(ts) != 2 {
			t.Fatalf("%d templates left, want a2's 2", len(ts))
		}
		var n int
		if err := rawDB(t, tdb.Path).QueryRow(`SELECT count(*) FROM templates WHERE attendee_id = 'a1'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("raw template rows of a1 = %d, %v; want 0", n, err)
		}
		// The check-in is attendance history, not biometric data: it stays.
		if _, err := tdb.FindCheckIn(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.DeleteAttendee(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("DeleteAttendee = %v, want ErrNotFound", err)
		}
	})
}

func TestListAndSearchAttendees(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	for i, name := range []string{"Zoë Martin", "Ann Lee", "Martina Rossi", "김민준", "Lee Anne", "ÉMILE Dubois"} {
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: fmt.Sprintf("a%d", i), Name: name}, nil); err != nil {
			t.Fatal(err)
		}
	}
	all, err := tdb.ListAttendees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by the lowercased name: "émile" sorts after "z" in code points.
	if got, want := names(all), []string{"Ann Lee", "Lee Anne", "Martina Rossi", "Zoë Martin", "ÉMILE Dubois", "김민준"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ListAttendees = %q, want %q", got, want)
	}

	for _, tt := range []struct {
		query string
		limit int
		want  []string
	}{
		{"lee", 0, []string{"Lee Anne", "Ann Lee"}}, // prefix match first
		{"MART", 0, []string{"Martina Rossi", "Zoë Martin"}},
		{"martin", 1, []string{"Martina Rossi"}},
		{"émile", 0, []string{"ÉMILE Dubois"}},
		{"zoë", 0, []string{"Zoë Martin"}},
		{"민준", 0, []string{"김민준"}},
		{"  ann ", 0, []string{"Ann Lee", "Lee Anne"}},
		{"%", 0, nil},
		{"", 0, nil},
		{"nobody", 0, nil},
	} {
		t.Run(tt.query, func(t *testing.T) {
			got, err := tdb.SearchAttendees(ctx, tt.query, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tt.want) {
				t.Fatalf("SearchAttendees(%q) = %q, want %q", tt.query, names(got), tt.want)
			}
		})
	}
}

func names(as []storage.Attendee) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func TestGalleryDelta(t *testing.T) {
	ctx := context.Background()

	t.Run("Cursor", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if c, err := tdb.GetCursor(ctx); err != nil || c != 0 {
			t.Fatalf("GetCursor on a new database = %d, %v; want 0", c, err)
		}
		if err := tdb.SetCursor(ctx, 42); err != nil {
			t.Fatal(err)
		}
		tdb.Reopen(t)
		if c, err := tdb.GetCursor(ctx); err != nil || c != 42 {
			t.Fatalf("GetCursor = %d, %v; want 42", c, err)
		}
	})

	t.Run("OK", func(t *testing.T) {
		tdb := MustOpenDB(t)
		up := func(id string, seed byte) storage.GalleryUpsert {
			return storage.GalleryUpsert{Attendee: storage.Attendee{ID: id, Name: "N " + id}, Templates: []api.Template{template(seed)}}
		}
		if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{up("a1", 1), up("a2", 2), up("a3", 3)}, nil, 3); err != nil {
			t.Fatal(err)
		}
		if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{up("a2", 22)}, []string{"a1", "never-seen"}, 5); err != nil {
			t.Fatal(err)
		}
		ts, err := tdb.AllTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tm := range ts {
			got = append(got, fmt.Sprintf("%s:%x", tm.AttendeeID, tm.Data[0]))
		}
		want := []string{fmt.Sprintf("a2:%x", template(22).Data[0]), fmt.Sprintf("a3:%x", template(3).Data[0])}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("templates = %v, want %v", got, want)
		}
		if c, err := tdb.GetCursor(ctx); err != nil || c != 5 {
			t.Fatalf("GetCursor = %d, %v; want 5", c, err)
		}
	})

	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		tdb := MustOpenDB(t)
		a := storage.GalleryUpsert{Attendee: storage.Attendee{ID: "a1", Name: "Ann"}, Templates: []api.Template{template(1)}}
		bad := storage.GalleryUpsert{Attendee: storage.Attendee{ID: "a2", Name: "Bo"}, Templates: []api.Template{{Model: "m", Version: 1, Data: []byte{1}}}}
		for _, tt := range []struct {
			name    string
			upserts []storage.GalleryUpsert
			deletes []string
		}{
			{"BadTemplate", []storage.GalleryUpsert{a, bad}, nil},
			{"TwiceUpsert", []storage.GalleryUpsert{a, a}, nil},
			{"UpsertAndDelete", []storage.GalleryUpsert{a}, []string{"a1"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := tdb.ApplyGalleryDelta(ctx, tt.upserts, tt.deletes, 9); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("ApplyGalleryDelta = %v, want ErrInvalid", err)
				}
			})
		}
		if n, err := tdb.CountAttendees(ctx); err != nil || n != 0 {
			t.Fatalf("CountAttendees = %d, %v; want 0", n, err)
		}
		if c, err := tdb.GetCursor(ctx); err != nil || c != 0 {
			t.Fatalf("GetCursor = %d, %v; want 0", c, err)
		}
	})

	t.Run("ResetGallery", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{{Attendee: storage.Attendee{ID: "a1", Name: "Ann"}, Templates: []api.Template{template(1)}}}, nil, 8); err != nil {
			t.Fatal(err)
		}
		if err := tdb.ResetGallery(ctx); err != nil {
			t.Fatal(err)
		}
		if ts, err := tdb.AllTemplates(ctx); err != nil || len(ts) != 0 {
			t.Fatalf("AllTemplates = %d, %v; want none", len(ts), err)
		}
		if c, err := tdb.GetCursor(ctx); err != nil || c != 0 {
			t.Fatalf("GetCursor = %d, %v; want 0", c, err)
		}
	})
}

// TestTemplatesSealedAtRest writes templates and checks that their bytes
// appear nowhere in the database files, while a control string (a name)
// does, so the scan itself is known to work.
func TestTemplatesSealedAtRest(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	var plain [][]byte
	for i := range 20 {
		tm := template(byte(i))
		plain = append(plain, tm.Data)
		a := storage.Attendee{ID: fmt.Sprintf("att-%02d", i), Name: fmt.Sprintf("Control Name %02d", i)}
		if err := tdb.UpsertAttendee(ctx, a, []api.Template{tm}); err != nil {
			t.Fatal(err)
		}
	}
	scan := func(t *testing.T, stage string) {
		t.Helper()
		var raw []byte
		for _, suffix := range []string{"", "-wal", "-journal"} {
			b, err := os.ReadFile(tdb.Path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		if !bytes.Contains(raw, []byte("Control Name 07")) {
			t.Fatalf("%s: control name not found in the raw files: the scan is broken", stage)
		}
		for i, p := range plain {
			// Any 16-byte window would already be a leak; check a few.
			for _, off := range []int{0, 100, 256, 496} {
				if bytes.Contains(raw, p[off:off+16]) {
					t.Fatalf("%s: bytes %d..%d of template %d found in plaintext in the database files", stage, off, off+16, i)
				}
			}
		}
	}
	scan(t, "open (WAL)")
	if err := tdb.Close(); err != nil {
		t.Fatal(err)
	}
	scan(t, "closed (checkpointed)")

	// A copy of the database without the key opens nothing.
	other, err := api.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Open(tdb.Path, storage.Options{Key: other}); !errors.Is(err, storage.ErrWrongKey) {
		t.Fatalf("Open with another key = %v, want ErrWrongKey", err)
	}
}

// TestTemplateBoundToAttendee moves a sealed blob to another attendee's row:
// it must not open.
func TestTemplateBoundToAttendee(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	for i, id := range []string{"a1", "a2"} {
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: id, Name: id}, []api.Template{template(byte(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rawDB(t, tdb.Path).Exec(`UPDATE templates SET sealed = (SELECT sealed FROM templates WHERE attendee_id = 'a1') WHERE attendee_id = 'a2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.AllTemplates(ctx); !errors.Is(err, storage.ErrWrongKey) {
		t.Fatalf("AllTemplates with a moved blob = %v, want ErrWrongKey", err)
	}
}

// TestCaptureConsent: an attendee's capture consent survives the database
// file being closed and reopened, whichever way it was written, follows
// later changes both ways, and every reader returns it.
func TestCaptureConsent(t *testing.T) {
	ctx := context.Background()
	upsert := func(t *testing.T, tdb *testDB, consent bool, _ int64) {
		t.Helper()
		if err := tdb.UpsertAttendee(ctx, storage.Attendee{ID: "a1", Name: "Ann Lee", CaptureConsent: consent},
			[]api.Template{template(1)}); err != nil {
			t.Fatal(err)
		}
	}
	delta := func(t *testing.T, tdb *testDB, consent bool, cursor int64) {
		t.Helper()
		up := storage.GalleryUpsert{Attendee: storage.Attendee{ID: "a1", Name: "Ann Lee", CaptureConsent: consent},
			Templates: []api.Template{template(1)}}
		if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{up}, nil, cursor); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		write    func(*testing.T, *testDB, bool, int64)
		consents []bool // written in turn; the last one counts
	}{
		{"UpsertConsented", upsert, []bool{true}},
		{"UpsertNotConsented", upsert, []bool{false}},
		{"DeltaConsented", delta, []bool{true}},
		{"DeltaNotConsented", delta, []bool{false}},
		{"DeltaWithdrawn", delta, []bool{true, false}},
		{"DeltaGivenLater", delta, []bool{false, true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tdb := MustOpenDB(t)
			for i, c := range tt.consents {
				tt.write(t, tdb, c, int64(i+1))
			}
			want := tt.consents[len(tt.consents)-1]
			tdb.Reopen(t)
			a, err := tdb.FindAttendee(ctx, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if a.CaptureConsent != want {
				t.Errorf("FindAttendee: capture consent %v, want %v", a.CaptureConsent, want)
			}
			list, err := tdb.ListAttendees(ctx)
			if err != nil || len(list) != 1 || list[0].CaptureConsent != want {
				t.Errorf("ListAttendees = %+v, %v; want a1 with capture consent %v", list, err, want)
			}
			found, err := tdb.SearchAttendees(ctx, "ann", 5)
			if err != nil || len(found) != 1 || found[0].CaptureConsent != want {
				t.Errorf("SearchAttendees = %+v, %v; want a1 with capture consent %v", found, err, want)
			}
			var raw int
			if err := rawDB(t, tdb.Path).QueryRow(`SELECT capture_consent FROM attendees WHERE id = 'a1'`).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if raw != map[bool]int{false: 0, true: 1}[want] {
				t.Errorf("stored capture_consent %d, want %v", raw, want)
			}
		})
	}
}
