package storage_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/storage"
)

// WipeEventData (a revoked kiosk, a closed event) leaves none of the
// event's people in the kiosk's files: no name, no sealed template, no
// check-in, no queued enrolment's name or e-mail, no audit entry naming
// someone; it says what it erased, and one audit entry records it.
func TestWipeEventDataLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	const name, walkUp, email = "Wipeable Attendee", "Walkup Wipeable", "walkup.wipe@example.org"
	ups := []storage.GalleryUpsert{
		{Attendee: storage.Attendee{ID: "a1", Name: name, CodeHash: strings.Repeat("c", 64)}, Templates: []api.Template{template(9)}},
		{Attendee: storage.Attendee{ID: "a2", Name: "Other Person"}, Templates: []api.Template{template(10)}},
	}
	if err := tdb.ApplyGalleryDelta(ctx, ups, nil, 7); err != nil {
		t.Fatal(err)
	}
	const checkInID = "0b6f4c1e-8a5d-4b8e-9c1f-2f0e1d3c4b5a"
	for i, id := range []string{checkInID, "1c7a5d2f-9b6e-4c9f-8d20-3a1f2e4d5c6b"} {
		if _, err := tdb.RecordCheckIn(ctx, api.CheckIn{ID: id, AttendeeID: "a" + string(rune('1'+i)), Method: api.MethodFace, Score: 0.8, Margin: 0.2}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := tdb.PendingOutbox(ctx, 10, tdb.Clock.Now())
	if err != nil || len(items) != 2 {
		t.Fatalf("outbox: %d, %v", len(items), err)
	}
	if err := tdb.MarkSent(ctx, items[1].Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := tdb.QueueEnrolment(ctx, api.EnrolRequest{ID: "enrol-wipe", Name: walkUp, Email: email, Consent: true,
		Template: api.SealedTemplate{Model: "m", Version: 1, Sealed: []byte("sealed-walkup-template-bytes")}}); err != nil {
		t.Fatal(err)
	}
	if err := tdb.Audit(ctx, "staff", "checkin.manual", "check-in of "+name+" by hand"); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, tdb.Path)
	var sealed []byte
	if err := raw.QueryRow(`SELECT sealed FROM templates WHERE attendee_id = 'a1'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	needles := map[string][]byte{
		"name": []byte(name), "sealed template": sealed[len(sealed)-48:], "check-in": []byte(checkInID),
		"walk-up name": []byte(walkUp), "walk-up e-mail": []byte(email), "walk-up template": []byte(base64.StdEncoding.EncodeToString([]byte("sealed-walkup-template-bytes"))[:24]),
	}
	dir := filepath.Dir(tdb.Path)
	if found := erasuretest.Traces(t, dir, needles); len(found) < len(needles) {
		t.Fatalf("before the wipe only %v found: the scan cannot see the data", found)
	}

	w, err := tdb.WipeEventData(ctx, "sync", "kiosk revoked")
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Wiped{Attendees: 2, CheckIns: 2, UnsentCheckIns: 1, UnsentEnrolments: 1, AuditEntries: 2}
	if w != want {
		t.Errorf("wiped %+v, want %+v", w, want)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after the wipe: %v", found)
	}
	tdb.Reopen(t)
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after reopening: %v", found)
	}
	for what, got := range map[string]func() (int, error){
		"attendees": func() (int, error) { return tdb.CountAttendees(ctx) },
		"outbox":    func() (int, error) { return tdb.OutboxLen(ctx) },
		"cursor":    func() (int, error) { c, err := tdb.GetCursor(ctx); return int(c), err },
	} {
		if n, err := got(); err != nil || n != 0 {
			t.Errorf("%s after the wipe: %d, %v", what, n, err)
		}
	}
	log, err := tdb.ListAudit(ctx, 10)
	if err != nil || len(log) != 1 || log[0].Action != "event.wiped" || !strings.Contains(log[0].Detail, "1 never sent") {
		t.Fatalf("audit after the wipe: %+v, %v", log, err)
	}
}

// ResealOutbox rewrites queued payloads in one transaction: nil keeps an
// item, an error changes nothing.
func TestResealOutbox(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	for _, id := range []string{"2d8b6e3a-0c7f-4da0-9e31-4b2a3f5e6d7c", "3e9c7f4b-1d80-4eb1-8f42-5c3b4a6f7e8d"} {
		if _, err := tdb.RecordCheckIn(ctx, api.CheckIn{ID: id, AttendeeID: "a", Method: api.MethodFace, Score: 0.8, Margin: 0.2}); err != nil {
			t.Fatal(err)
		}
	}
	mark := func(kind string, p json.RawMessage) (json.RawMessage, error) {
		var c api.CheckIn
		if err := json.Unmarshal(p, &c); err != nil {
			return nil, err
		}
		if c.ID == "3e9c7f4b-1d80-4eb1-8f42-5c3b4a6f7e8d" {
			return nil, nil
		}
		c.Method = api.MethodCode
		return json.Marshal(c)
	}
	if _, err := tdb.ResealOutbox(ctx, func(string, json.RawMessage) (json.RawMessage, error) { return json.RawMessage("{"), nil }); err == nil {
		t.Fatal("a payload that is not JSON was stored")
	}
	n, err := tdb.ResealOutbox(ctx, mark)
	if err != nil || n != 1 {
		t.Fatalf("ResealOutbox = %d, %v; want 1", n, err)
	}
	items, err := tdb.PendingOutbox(ctx, 10, tdb.Clock.Now())
	if err != nil || len(items) != 2 {
		t.Fatalf("outbox: %d, %v", len(items), err)
	}
	for _, it := range items {
		var c api.CheckIn
		if err := json.Unmarshal(it.Payload, &c); err != nil {
			t.Fatal(err)
		}
		want := api.MethodFace
		if c.ID == "2d8b6e3a-0c7f-4da0-9e31-4b2a3f5e6d7c" {
			want = api.MethodCode
		}
		if c.Method != want {
			t.Errorf("%s: method %s, want %s", c.ID, c.Method, want)
		}
	}
}

// A second wipe with nothing left writes no entry and keeps the first
// one's record.
func TestWipeEventDataTwice(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	if err := tdb.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{{Attendee: storage.Attendee{ID: "a1", Name: "Once"},
		Templates: []api.Template{template(3)}}}, nil, 2); err != nil {
		t.Fatal(err)
	}
	for i, want := range []storage.Wiped{{Attendees: 1}, {}} {
		w, err := tdb.WipeEventData(ctx, "sync", "event closed")
		if err != nil || w != want {
			t.Fatalf("wipe %d: %+v, %v; want %+v", i+1, w, err, want)
		}
	}
	log, err := tdb.ListAudit(ctx, 10)
	if err != nil || len(log) != 1 || !strings.Contains(log[0].Detail, "erased 1 people") {
		t.Fatalf("audit: %+v, %v", log, err)
	}
}
