package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/server/store"
)

// galleryHas reports whether a full gallery feed of the event has the
// attendee.
func galleryHas(t *testing.T, db *store.DB, eventID, id string) bool {
	t.Helper()
	found := false
	if _, _, err := db.StreamGallery(context.Background(), eventID, 0, func(r api.GalleryRecord) error {
		found = found || r.AttendeeID == id
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

func TestConfirmAttendee(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		ev, err := db.CreateEvent(ctx, "Confirm")
		if err != nil {
			t.Fatal(err)
		}
		if on, err := db.EventConfirmsEmail(ctx, ev.ID); err != nil || !on {
			t.Fatalf("a new event confirms e-mail: %v %v, want on", on, err)
		}
		reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Pending", Email: "p@example.org",
			Consent: true, Templates: []api.Template{tpl(3)}, Pending: true})
		if err != nil {
			t.Fatal(err)
		}
		id := reg.Attendee.ID
		if galleryHas(t, db, ev.ID, id) {
			t.Fatal("a pending attendee is in the gallery feed")
		}
		var queued []byte
		l, err := db.IssueLinks(ctx, id, time.Hour, func(l store.Links) ([]byte, error) {
			queued, err = json.Marshal(l)
			return queued, err
		})
		if err != nil || l.ConfirmToken == "" || l.ManageToken == "" || !l.ConfirmExpires.Equal(now.Add(time.Hour)) {
			t.Fatalf("links %+v, %v", l, err)
		}
		if _, err := db.CheckManageToken(ctx, id, reg.ManageToken); !errors.Is(err, store.ErrInvalidCredentials) {
			t.Errorf("the withdraw token of before the e-mail: %v, want invalid", err)
		}
		if _, err := db.CheckManageToken(ctx, id, l.ManageToken); err != nil {
			t.Errorf("the e-mail's withdraw token: %v", err)
		}
		due, err := db.DueMail(ctx, 10)
		if err != nil || len(due) != 1 || string(due[0].Payload) != string(queued) || due[0].AttendeeID != id {
			t.Fatalf("outbox %+v, %v", due, err)
		}
		if _, err := db.PendingByConfirmToken(ctx, "nope"); !errors.Is(err, store.ErrInvalidCredentials) {
			t.Errorf("unknown token: %v", err)
		}
		if a, err := db.PendingByConfirmToken(ctx, l.ConfirmToken); err != nil || a.ID != id {
			t.Fatalf("pending by token: %v %v", a, err)
		}
		if _, err := db.ConfirmAttendee(ctx, l.ConfirmToken); err != nil {
			t.Fatal(err)
		}
		if !galleryHas(t, db, ev.ID, id) {
			t.Error("a confirmed attendee is not in the gallery feed")
		}
		if _, err := db.ConfirmAttendee(ctx, l.ConfirmToken); !errors.Is(err, store.ErrInvalidCredentials) {
			t.Errorf("second use: %v, want invalid", err)
		}

		// An expired link: refused, and the address is free again.
		reg2, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Late", Email: "late@example.org",
			Consent: true, Templates: []api.Template{tpl(4)}, Pending: true})
		if err != nil {
			t.Fatal(err)
		}
		l2, err := db.IssueLinks(ctx, reg2.Attendee.ID, time.Hour, func(store.Links) ([]byte, error) { return []byte("{}"), nil })
		if err != nil {
			t.Fatal(err)
		}
		if released, err := db.ReleaseExpiredPending(ctx, ev.ID, "late@example.org"); err != nil || released {
			t.Fatalf("released a registration before its link expired: %v %v", released, err)
		}
		now = now.Add(time.Hour)
		if _, err := db.ConfirmAttendee(ctx, l2.ConfirmToken); !errors.Is(err, store.ErrExpired) {
			t.Errorf("expired token: %v, want expired", err)
		}
		if released, err := db.ReleaseExpiredPending(ctx, ev.ID, "LATE@example.org"); err != nil || !released {
			t.Fatalf("release expired: %v %v", released, err)
		}
		if q, err := db.MailQueue(ctx); err != nil || len(q) != 1 {
			t.Errorf("the released attendee's mail stays queued: %+v %v", q, err)
		}
		if _, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Late", Email: "late@example.org",
			Consent: true, Templates: []api.Template{tpl(5)}}); err != nil {
			t.Errorf("registering the released address: %v", err)
		}
		if err := db.SetEventConfirmsEmail(ctx, ev.ID, false); err != nil {
			t.Fatal(err)
		}
		if on, err := db.EventConfirmsEmail(ctx, ev.ID); err != nil || on {
			t.Errorf("after turning it off: %v %v", on, err)
		}
	})
}

// TestMailOutboxSealed: the outbox holds the links' tokens only sealed,
// and an erased attendee's queued e-mail goes with them.
func TestMailOutboxSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "facecheck.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ev, err := db.CreateEvent(ctx, "Outbox")
	if err != nil {
		t.Fatal(err)
	}
	const email = "sealed-outbox@example.org"
	reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Sealed", Email: email,
		Consent: true, Templates: []api.Template{tpl(6)}, Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.IssueLinks(ctx, reg.Attendee.ID, time.Hour, func(l store.Links) ([]byte, error) {
		return json.Marshal(map[string]string{"to": email, "manage": l.ManageToken, "confirm": l.ConfirmToken})
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string][]byte{"withdraw token": []byte(l.ManageToken), "confirmation token": []byte(l.ConfirmToken)}
	if found := erasuretest.Traces(t, dir, tokens); len(found) > 0 {
		t.Errorf("tokens in clear in the data folder: %v", found)
	}
	if found := erasuretest.Traces(t, dir, map[string][]byte{"e-mail": []byte(email)}); len(found) == 0 {
		t.Fatal("the scan cannot see the attendee's address")
	}
	if err := db.DropAttendeeMail(ctx, reg.Attendee.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAttendee(ctx, reg.Attendee.ID); err != nil {
		t.Fatal(err)
	}
	if q, err := db.MailQueue(ctx); err != nil || len(q) != 0 {
		t.Errorf("outbox after erasure: %+v %v", q, err)
	}
	if found := erasuretest.Traces(t, dir, map[string][]byte{"e-mail": []byte(email)}); len(found) > 0 {
		t.Errorf("after erasure: %v", found)
	}
}

// TestEventEndDropsMail: deleting or purging an event drops its queued
// e-mail (sealed addresses and links) with its attendees, and no other.
func TestEventEndDropsMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		ctx := context.Background()
		db := open(t)
		queue := func(name string) *store.Event {
			ev, err := db.CreateEvent(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: name, Email: name + "@example.org",
				Consent: true, Templates: []api.Template{tpl(7)}, Pending: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.IssueLinks(ctx, reg.Attendee.ID, time.Hour, func(store.Links) ([]byte, error) { return []byte("{}"), nil }); err != nil {
				t.Fatal(err)
			}
			return ev
		}
		deleted, purged, kept := queue("deleted"), queue("purged"), queue("kept")
		if err := db.DeleteEvent(ctx, deleted.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PurgeEvent(ctx, purged.ID, "test"); err != nil {
			t.Fatal(err)
		}
		q, err := db.MailQueue(ctx)
		if err != nil || len(q) != 1 || q[0].EventID != kept.ID {
			t.Errorf("outbox after deleting and purging: %+v %v, want the kept event's e-mail only", q, err)
		}
	})
}
