package server_test

import (
	"bytes"
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// TestCheckInCaptures: a check-in's capture becomes the attendee's second
// template only when the event allows it, the attendee consented and the
// method is evidence enough; a newer capture replaces the older one, kiosks
// get it from the gallery feed, and a dropped capture never costs the
// check-in.
func TestCheckInCaptures(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk 1")
	ctx := context.Background()
	create := func(name string, captureConsent bool) *store.Attendee {
		t.Helper()
		reg, err := s.DB.CreateAttendee(ctx, store.AttendeeCreate{EventID: s.Event.ID, Name: name, Consent: true,
			CaptureConsent: captureConsent, Templates: []api.Template{templateFrom([]byte(name))}})
		if err != nil {
			t.Fatal(err)
		}
		return reg.Attendee
	}
	yes, no := create("Yoko", true), create("Noah", false)
	capture := func(attendeeID string, seed string) *api.SealedTemplate {
		t.Helper()
		st, err := api.SealTemplate(k.TemplateKey, attendeeID, templateFrom([]byte(seed)))
		if err != nil {
			t.Fatal(err)
		}
		return &st
	}
	checkIn := func(attendeeID, method string, c *api.SealedTemplate) api.CheckInResult {
		t.Helper()
		ci := newCheckIn(attendeeID, s.Clock.Now())
		ci.Method, ci.Capture = method, c
		var res api.CheckInBatchResult
		k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{ci}}, 200, &res)
		if len(res.Results) != 1 || res.Results[0].Status != api.StatusAccepted {
			t.Fatalf("check-in not accepted: %+v", res.Results)
		}
		return res.Results[0]
	}
	templates := func(id string) int {
		t.Helper()
		at, err := s.DB.FindAttendeeByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return at.Templates
	}

	// The event has not allowed captures yet.
	if r := checkIn(yes.ID, api.MethodFace, capture(yes.ID, "yoko live")); r.Captured || templates(yes.ID) != 1 {
		t.Fatalf("kept a capture the event does not allow: %+v, %d templates", r, templates(yes.ID))
	}
	if _, err := s.DB.UpdateEventSettings(ctx, s.Event.ID, nil, map[string]string{api.SettingCaptureTemplates: "true"}); err != nil {
		t.Fatal(err)
	}
	_, end := readFeed(t, k, 0)
	for _, tc := range []struct {
		name      string
		attendee  string
		method    string
		capture   *api.SealedTemplate
		kept      bool
		templates int
	}{
		{"no capture consent", no.ID, api.MethodFace, capture(no.ID, "noah live"), false, 1},
		{"confirmed by yes only", yes.ID, api.MethodConfirm, capture(yes.ID, "yoko live"), false, 1},
		{"sealed for someone else", yes.ID, api.MethodFace, capture(no.ID, "yoko live"), false, 1},
		{"face match, consented", yes.ID, api.MethodFace, capture(yes.ID, "yoko live"), true, 2},
		{"a newer capture replaces it", yes.ID, api.MethodQR, capture(yes.ID, "yoko live 2"), true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkIn(tc.attendee, tc.method, tc.capture)
			if r.Captured != tc.kept || templates(tc.attendee) != tc.templates {
				t.Fatalf("captured %v with %d templates, want %v with %d", r.Captured, templates(tc.attendee), tc.kept, tc.templates)
			}
		})
	}
	// Kiosks fetch Yoko again, with the registration template and the
	// latest capture; Noah is not resent.
	recs, _ := readFeed(t, k, end.Cursor)
	if len(recs) != 1 || recs[0].AttendeeID != yes.ID || len(recs[0].Templates) != 2 {
		t.Fatalf("feed after captures: %+v", recs)
	}
	want := templateFrom([]byte("yoko live 2")).Data
	found := false
	for _, st := range recs[0].Templates {
		tpl, err := api.OpenTemplate(k.TemplateKey, yes.ID, st)
		if err != nil {
			t.Fatal(err)
		}
		found = found || bytes.Equal(tpl.Data, want)
	}
	if !found {
		t.Fatal("the feed does not carry the latest capture")
	}
	// Deleting the attendee deletes the capture with everything else.
	if err := s.DB.DeleteAttendee(ctx, yes.ID); err != nil {
		t.Fatal(err)
	}
	if n := templates(yes.ID); n != 0 {
		t.Fatalf("%d templates left after deletion", n)
	}
}

// TestRegistrationCaptureConsent: the optional second consent is offered
// only when the event keeps captures, and is stored when ticked.
func TestRegistrationCaptureConsent(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	path := "/register/" + s.Event.ID
	if _, body := do(t, httpc, "GET", s.URL()+path, nil, ""); strings.Contains(body, `name="capture_consent"`) {
		t.Fatal("capture consent offered by an event that keeps no captures")
	}
	if _, err := s.DB.UpdateEventSettings(ctx, s.Event.ID, nil, map[string]string{api.SettingCaptureTemplates: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, body := do(t, httpc, "GET", s.URL()+path, nil, ""); !strings.Contains(body, `name="capture_consent"`) {
		t.Fatal("capture consent not offered")
	}
	for _, tc := range []struct {
		email, tick string
		want        bool
	}{{"ann@example.org", "yes", true}, {"bob@example.org", "", false}} {
		fields := map[string]string{"name": "Someone", "email": tc.email, "consent": "yes", "capture_consent": tc.tick}
		if resp, body := postRegistration(t, s, path, fields, "selfie.png", photo(t, 200, 1)); resp.StatusCode != 303 {
			t.Fatalf("registration = %d %s", resp.StatusCode, body)
		}
		as, _, err := s.DB.ListAttendees(ctx, store.AttendeeFilter{EventID: s.Event.ID, Query: tc.email, Limit: 1})
		if err != nil || len(as) != 1 {
			t.Fatalf("attendee %s: %v %v", tc.email, as, err)
		}
		if as[0].CaptureConsent != tc.want {
			t.Errorf("%s: capture consent %v, want %v", tc.email, as[0].CaptureConsent, tc.want)
		}
	}
}

// TestGalleryFeedCaptureConsent: the gallery feed tells kiosks which
// attendees consented to captures, however they registered (registration
// page or walk-up enrolment at a kiosk), so a kiosk sends no capture of
// anyone else; a tombstone carries no consent. (An attendee cannot change
// the capture consent after registering, only withdraw altogether.)
func TestGalleryFeedCaptureConsent(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk 1")
	ctx := context.Background()
	if _, err := s.DB.UpdateEventSettings(ctx, s.Event.ID, nil, map[string]string{api.SettingCaptureTemplates: "true"}); err != nil {
		t.Fatal(err)
	}
	web := func(t *testing.T, name string, consent bool) string {
		t.Helper()
		email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"
		fields := map[string]string{"name": name, "email": email, "consent": "yes"}
		if consent {
			fields["capture_consent"] = "yes"
		}
		if resp, body := postRegistration(t, s, "/register/"+s.Event.ID, fields, "selfie.png", photo(t, 200, byte(len(name)))); resp.StatusCode != 303 {
			t.Fatalf("registration = %d %s", resp.StatusCode, body)
		}
		as, _, err := s.DB.ListAttendees(ctx, store.AttendeeFilter{EventID: s.Event.ID, Query: email, Limit: 1})
		if err != nil || len(as) != 1 {
			t.Fatalf("attendee %s: %v %v", email, as, err)
		}
		return as[0].ID
	}
	walkUp := func(t *testing.T, name string, consent bool) string {
		t.Helper()
		id := uuid.NewString()
		st, err := api.SealTemplate(k.TemplateKey, id, templateFrom([]byte(name)))
		if err != nil {
			t.Fatal(err)
		}
		req := api.EnrolRequest{ID: id, Name: name, Email: strings.ReplaceAll(name, " ", "") + "@example.org", Consent: true,
			CaptureConsent: consent, Template: st}
		var res api.EnrolResponse
		k.json(t, "POST", "/v1/enrol", req, 201, &res)
		return res.AttendeeID
	}
	tests := []struct {
		name     string
		register func(*testing.T, string, bool) string
		consent  bool
	}{
		{"Web Yes", web, true},
		{"Web No", web, false},
		{"Walk Up Yes", walkUp, true},
		{"Walk Up No", walkUp, false},
	}
	want := map[string]bool{}
	for _, tc := range tests {
		want[tc.register(t, tc.name, tc.consent)] = tc.consent
	}
	recs, end := readFeed(t, k, 0)
	if len(recs) != len(tests) {
		t.Fatalf("feed has %d records, want %d", len(recs), len(tests))
	}
	for _, r := range recs {
		w, ok := want[r.AttendeeID]
		if !ok {
			t.Fatalf("unexpected attendee %s (%s) in the feed", r.AttendeeID, r.Name)
		}
		if r.Op != api.OpUpsert || r.CaptureConsent != w {
			t.Errorf("%s: op %s, capture consent %v; want upsert, %v", r.Name, r.Op, r.CaptureConsent, w)
		}
	}

	// Withdrawing: the tombstone carries nothing, the consent included.
	var gone string
	for id, c := range want {
		if c {
			gone = id
			break
		}
	}
	if err := s.DB.DeleteAttendee(ctx, gone); err != nil {
		t.Fatal(err)
	}
	recs, _ = readFeed(t, k, end.Cursor)
	if len(recs) != 1 || recs[0].AttendeeID != gone || recs[0].Op != api.OpDelete || recs[0].CaptureConsent {
		t.Fatalf("feed after the deletion: %+v", recs)
	}
}

// TestEventPageCaptureToggle: the admin turns captures on and off from the
// event page; other event settings survive, the change is audited, and the
// registration page follows.
func TestEventPageCaptureToggle(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	ctx := context.Background()
	if _, err := s.DB.UpdateEventSettings(ctx, s.Event.ID, nil, map[string]string{"fuse_frames": "5"}); err != nil {
		t.Fatal(err)
	}
	page := func() string {
		t.Helper()
		_, body := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
		return body
	}
	if !strings.Contains(page(), `id="capture-toggle">`) {
		t.Fatal("capture toggle missing or on by default")
	}
	for _, on := range []bool{true, false} {
		form := url.Values{}
		if on {
			form.Set("capture", "on")
		}
		postForm(t, a, "/admin/events/"+s.Event.ID+"/capture", form, 200)
		ev, err := s.DB.FindEventByID(ctx, s.Event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Settings[api.SettingCaptureTemplates]; got != strconv.FormatBool(on) || ev.Settings["fuse_frames"] != "5" {
			t.Fatalf("settings after turning captures %v: %v", on, ev.Settings)
		}
		_, reg := do(t, httpc, "GET", s.URL()+"/register/"+s.Event.ID, nil, "")
		if strings.Contains(reg, `name="capture_consent"`) != on {
			t.Fatalf("registration page offers capture consent: %v, want %v", !on, on)
		}
		if strings.Contains(page(), `id="capture-toggle" checked>`) != on {
			t.Fatalf("toggle shows %v", !on)
		}
	}
}
