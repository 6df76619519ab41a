package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/server/store"
)

// Erasure holds on the server's SQLite: after an attendee is deleted, no
// file of the data folder holds their sealed template, name or e-mail,
// while the server is running (WAL, shared memory) and after it stops.
// Before secure_delete and the TRUNCATE checkpoint all three were there.
func TestErasureLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "facecheck.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := db.CreateEvent(ctx, "Erasure")
	if err != nil {
		t.Fatal(err)
	}
	tag := uuid.NewString()[:8]
	name, email := "Erasable Person "+tag, "erase-"+tag+"@example.com"
	var others []string
	// Neighbours on the same pages, so the attendee's rows are not alone.
	for i := range 20 {
		tpl := api.Template{Model: "m", Version: 1, Data: bytes.Repeat([]byte{byte(i + 1)}, 512)}
		r, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Neighbour", Consent: true, Source: store.SourceWeb, Templates: []api.Template{tpl}})
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, r.Attendee.ID)
	}
	data := make([]byte, 512)
	for i := range data {
		data[i] = byte(i * 7)
	}
	reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: name, Email: email, Consent: true,
		Source: store.SourceWeb, Templates: []api.Template{{Model: "m", Version: 1, Data: data}}})
	if err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	if _, _, err := db.StreamGallery(ctx, ev.ID, 0, func(r api.GalleryRecord) error {
		if r.AttendeeID == reg.Attendee.ID {
			sealed = r.Templates[0].Sealed
		}
		return nil
	}); err != nil || len(sealed) < 64 {
		t.Fatalf("sealed template: %d bytes, %v", len(sealed), err)
	}
	needles := map[string][]byte{
		"sealed template": sealed[len(sealed)-48:], // past the nonce: the ciphertext and tag
		"name":            []byte(name),
		"e-mail":          []byte(email),
	}
	// The check can fail: before the erasure every trace is on disk.
	if found := erasuretest.Traces(t, dir, needles); len(found) < 3 {
		t.Fatalf("before the erasure only %v found: the scan cannot see the data", found)
	}

	if err := db.DeleteAttendee(ctx, reg.Attendee.ID); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("while running, after the erasure: %v", found)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after closing: %v", found)
	}
	// The neighbours are intact.
	db, err = store.Open(ctx, filepath.Join(dir, "facecheck.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range others {
		if a, err := db.FindAttendeeByID(ctx, id); err != nil || a.DeletedAt != nil {
			t.Fatalf("neighbour %s: %+v %v", id, a, err)
		}
	}
}

// Deleting an event erases every attendee of it from the data folder, its
// tombstones included, and leaves other events alone.
func TestDeleteEventLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "facecheck.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gone, err := db.CreateEvent(ctx, "Gone")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := db.CreateEvent(ctx, "Kept")
	if err != nil {
		t.Fatal(err)
	}
	tag := uuid.NewString()[:8]
	needles := map[string][]byte{}
	var keptID string
	for i, ev := range []*store.Event{gone, gone, kept} {
		name, email := fmt.Sprintf("Person %d %s", i, tag), fmt.Sprintf("p%d-%s@example.com", i, tag)
		data := bytes.Repeat([]byte{byte(i*40 + 1), byte(i*40 + 2)}, 256)
		r, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: name, Email: email, Consent: true,
			Source: store.SourceWeb, Templates: []api.Template{{Model: "m", Version: 1, Data: data}}})
		if err != nil {
			t.Fatal(err)
		}
		if ev == kept {
			keptID = r.Attendee.ID
			continue
		}
		needles["name "+name] = []byte(name)
		needles["e-mail "+email] = []byte(email)
		needles["attendee id "+r.Attendee.ID] = []byte(r.Attendee.ID)
	}
	// A tombstone of the event too: its id must go as well.
	if err := db.DeleteAttendee(ctx, firstKey(needles, "attendee id ")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteEvent(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after deleting the event: %v", found)
	}
	if _, err := db.FindEventByID(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted event: %v, want ErrNotFound", err)
	}
	if err := db.DeleteEvent(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
	if a, err := db.FindAttendeeByID(ctx, keptID); err != nil || a.DeletedAt != nil {
		t.Errorf("the other event's attendee: %+v %v", a, err)
	}
}

func firstKey(m map[string][]byte, prefix string) string {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return strings.TrimPrefix(k, prefix)
		}
	}
	return ""
}
