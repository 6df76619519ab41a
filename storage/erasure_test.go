package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/storage"
)

// A tombstone from the server erases the attendee from the kiosk's files:
// neither their name nor their sealed template is left in the database,
// its WAL or shared memory, whether the tombstone comes in a gallery delta
// or is applied on its own. Without the TRUNCATE checkpoint the WAL kept
// both.
func TestTombstoneLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	for _, via := range []string{"delta", "delete"} {
		t.Run(via, func(t *testing.T) {
			tdb := MustOpenDB(t)
			var ups []storage.GalleryUpsert
			for i := range 20 {
				ups = append(ups, storage.GalleryUpsert{Attendee: storage.Attendee{ID: "n" + string(rune('a'+i)), Name: "Neighbour"},
					Templates: []api.Template{template(byte(i))}})
			}
			const name = "Erasable Kioskperson"
			ups = append(ups, storage.GalleryUpsert{Attendee: storage.Attendee{ID: "gone", Name: name}, Templates: []api.Template{template(200)}})
			if err := tdb.ApplyGalleryDelta(ctx, ups, nil, 1); err != nil {
				t.Fatal(err)
			}
			raw := rawDB(t, tdb.Path)
			var sealed []byte
			if err := raw.QueryRow(`SELECT sealed FROM templates WHERE attendee_id = 'gone'`).Scan(&sealed); err != nil || len(sealed) < 64 {
				t.Fatalf("sealed template: %d bytes, %v", len(sealed), err)
			}
			raw.Close()
			needles := map[string][]byte{"name": []byte(name), "sealed template": sealed[len(sealed)-48:]}
			dir := filepath.Dir(tdb.Path)
			if found := erasuretest.Traces(t, dir, needles); len(found) < 2 {
				t.Fatalf("before the tombstone only %v found: the scan cannot see the data", found)
			}
			var err error
			if via == "delta" {
				err = tdb.ApplyGalleryDelta(ctx, nil, []string{"gone"}, 2)
			} else {
				err = tdb.DeleteAttendee(ctx, "gone")
			}
			if err != nil {
				t.Fatal(err)
			}
			if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
				t.Errorf("after the tombstone: %v", found)
			}
			tdb.Reopen(t)
			if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
				t.Errorf("after reopening: %v", found)
			}
			if as, err := tdb.ListAttendees(ctx); err != nil || len(as) != 20 {
				t.Errorf("%d attendees left, want the 20 neighbours (%v)", len(as), err)
			}
		})
	}
}
