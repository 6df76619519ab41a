package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

// kioskCall is one kiosk endpoint with a body it may send.
type kioskCall struct {
	method, path string
	body         any
}

var kioskCalls = []kioskCall{
	{"GET", "/v1/gallery?since=0", nil},
	{"POST", "/v1/checkins", api.CheckInBatch{}},
	{"POST", "/v1/identify", map[string]any{}},
	{"POST", "/v1/enrol", map[string]any{}},
	{"GET", "/v1/settings", nil},
	{"POST", "/v1/heartbeat", api.Heartbeat{}},
}

// kioskStatus calls an endpoint as kiosk k and returns the status and, for
// a problem answer, its code.
func kioskStatus(t *testing.T, k *kiosk, c kioskCall) (int, string) {
	t.Helper()
	req := newJSONRequest(t, c.method, k.base+c.path, c.body)
	req.Header.Set("Authorization", "Bearer "+k.Token)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var p api.Problem
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s %s: problem %s: %v", c.method, c.path, b, err)
		}
	}
	return resp.StatusCode, p.Code
}

// Closing an event by hand: every kiosk endpoint answers 410 event_closed
// (a revoked kiosk stays 401 token_revoked), registration shows a closed
// page without the form, no pairing code is made, the data stays.
func TestCloseEvent(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Hall")
	revoked := pair(t, s, a, s.Event.ID, "Old")
	a.json(t, "POST", "/v1/admin/kiosks/"+revoked.KioskID+"/revoke", nil, 200, nil)
	ann := addAttendee(t, s, s.Event.ID, "Ann Open", "ann")
	regPath := "/register/" + s.Event.ID

	for _, c := range kioskCalls {
		if st, code := kioskStatus(t, k, c); st == http.StatusGone || code == api.CodeEventClosed {
			t.Fatalf("open event: %s %s = %d %s", c.method, c.path, st, code)
		}
	}
	if resp, body := do(t, httpc, "GET", s.URL()+regPath, nil, ""); resp.StatusCode != 200 || !strings.Contains(body, `name="photo"`) {
		t.Fatalf("open registration page = %d", resp.StatusCode)
	}

	var ev api.Event
	a.json(t, "POST", "/v1/admin/events/"+s.Event.ID+"/close", nil, 200, &ev)
	if ev.ClosedAt == nil || !ev.ClosedAt.Equal(s.Clock.Now()) || ev.PurgedAt != nil {
		t.Fatalf("closed event = %+v", ev)
	}

	for _, c := range kioskCalls {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			if st, code := kioskStatus(t, k, c); st != http.StatusGone || code != api.CodeEventClosed {
				t.Errorf("= %d %q, want 410 %q", st, code, api.CodeEventClosed)
			}
			if st, code := kioskStatus(t, revoked, c); st != http.StatusUnauthorized || code != "token_revoked" {
				t.Errorf("revoked kiosk = %d %q, want 401 token_revoked", st, code)
			}
		})
	}

	closedText := "Registration for DevDay is closed"
	for _, p := range []string{regPath, "/e/" + s.Event.ID + "/register"} {
		resp, body := do(t, httpc, "GET", s.URL()+p, nil, "")
		if resp.StatusCode != http.StatusGone || !strings.Contains(body, closedText) || strings.Contains(body, "<form") {
			t.Errorf("GET %s of a closed event = %d:\n%s", p, resp.StatusCode, body)
		}
	}
	resp, body := do(t, httpc, "GET", s.URL()+regPath+"?lang=ja", nil, "")
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "DevDay の参加登録は終了しました") {
		t.Errorf("closed page in Japanese = %d:\n%s", resp.StatusCode, body)
	}
	fields := map[string]string{"name": "Late Comer", "email": "late@example.org", "consent": "yes"}
	resp, body = postRegistration(t, s, regPath, fields, "me.png", photo(t, 200, 9))
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, closedText) {
		t.Errorf("POST registration to a closed event = %d:\n%s", resp.StatusCode, body)
	}
	if _, total, err := s.DB.ListAttendees(context.Background(), store.AttendeeFilter{EventID: s.Event.ID, Limit: 10}); err != nil || total != 1 {
		t.Errorf("attendees after the refused registration: %d %v", total, err)
	}
	if resp, body := importCSV(t, s, a, a.csrf, "Late Comer,late2@example.org\n"); resp.StatusCode != http.StatusGone || !strings.Contains(body, "This event is closed.") {
		t.Errorf("CSV import into a closed event = %d:\n%.500s", resp.StatusCode, body)
	}
	var p api.Problem
	a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID}, http.StatusGone, &p)
	if p.Code != api.CodeEventClosed {
		t.Errorf("pairing code for a closed event: %+v", p)
	}
	// The data stays until the purge; closing again keeps the first time.
	if got, err := s.DB.FindAttendeeByID(context.Background(), ann.ID); err != nil || got.Name != "Ann Open" {
		t.Errorf("attendee of the closed event: %+v %v", got, err)
	}
	s.Clock.Add(time.Hour)
	var again api.Event
	a.json(t, "POST", "/v1/admin/events/"+s.Event.ID+"/close", nil, 200, &again)
	if !again.ClosedAt.Equal(*ev.ClosedAt) {
		t.Errorf("closing again moved the close from %v to %v", ev.ClosedAt, again.ClosedAt)
	}
	a.json(t, "POST", "/v1/admin/events/"+uuid.NewString()+"/close", nil, 404, nil)
}

// The admin API takes an end date and a retention on create and in the
// settings, within bounds, and refuses a change that would purge at once.
func TestEventLifecycleAPI(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	now := s.Clock.Now()
	end := now.Add(72 * time.Hour)
	days := func(n int) *int { return &n }

	var ev api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Summit", EndsAt: &end, RetentionDays: days(7)}, 201, &ev)
	if ev.EndsAt == nil || !ev.EndsAt.Equal(end) || ev.RetentionDays != 7 || ev.PurgeAt == nil || !ev.PurgeAt.Equal(end.Add(7*24*time.Hour)) {
		t.Fatalf("created = %+v", ev)
	}
	var plain api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Plain"}, 201, &plain)
	if plain.EndsAt != nil || plain.RetentionDays != store.DefaultRetentionDays || plain.PurgeAt != nil {
		t.Fatalf("created without lifecycle = %+v", plain)
	}

	past := now.Add(-48 * time.Hour)
	tests := []struct {
		name   string
		in     api.EventSettingsUpdate
		status int
		code   string
	}{
		{"retention", api.EventSettingsUpdate{RetentionDays: days(90)}, 200, ""},
		{"end and retention", api.EventSettingsUpdate{EndsAt: &end, RetentionDays: days(0)}, 200, ""},
		{"negative retention", api.EventSettingsUpdate{RetentionDays: days(-1)}, 422, "invalid_retention"},
		{"retention over ten years", api.EventSettingsUpdate{RetentionDays: days(store.MaxRetentionDays + 1)}, 422, "invalid_retention"},
		{"purge at once", api.EventSettingsUpdate{EndsAt: &past, RetentionDays: days(1)}, 422, "purge_in_past"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.status == 200 {
				var got api.Event
				a.json(t, "PUT", "/v1/admin/events/"+ev.ID+"/settings", tc.in, 200, &got)
				if tc.in.RetentionDays != nil && got.RetentionDays != *tc.in.RetentionDays {
					t.Errorf("retention = %d", got.RetentionDays)
				}
				if tc.in.EndsAt != nil && !got.EndsAt.Equal(*tc.in.EndsAt) {
					t.Errorf("end = %v", got.EndsAt)
				}
				return
			}
			var p api.Problem
			a.json(t, "PUT", "/v1/admin/events/"+ev.ID+"/settings", tc.in, tc.status, &p)
			if p.Code != tc.code {
				t.Errorf("code %q, want %q", p.Code, tc.code)
			}
		})
	}
	var p api.Problem
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Bad", RetentionDays: days(-3)}, 422, &p)
	if p.Code != "invalid_retention" {
		t.Errorf("create with a negative retention: %+v", p)
	}
}

// lifecycleServer is a server on a SQLite file in dir (the purge's erasure
// is checked on the files), with the test clock.
func lifecycleServer(t *testing.T, dir string) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "facecheck.db"), bytes.Repeat([]byte{42}, api.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db.Now = clk.Now
	b, err := server.RunBootstrap(ctx, db, testUser, testPassword, "DevDay")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := server.NewServer(cfg, db, testEncoder{}, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	s.Now = clk.Now
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &testServer{Server: s, DB: db, Clock: clk, Event: b.Event}
}

var meRE = regexp.MustCompile(`/register/[^/]+/me/([0-9a-f-]+)`)

// Past its end and retention an event is purged by the server's loop on
// the injected clock: attendees, templates, tombstones and check-ins go,
// an audit entry (actor system) says what, kiosks get 410, and no file of
// the data folder holds a name, an e-mail or a sealed template any more.
func TestPurgeAfterRetention(t *testing.T) {
	dir := t.TempDir()
	s := lifecycleServer(t, dir)
	a := login(t, s)
	ctx := context.Background()
	end := s.Clock.Now().Add(48 * time.Hour)
	retention := 3
	var ev, other api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Purged Conf", EndsAt: &end, RetentionDays: &retention}, 201, &ev)
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Later Conf", EndsAt: ptrTime(end.Add(90 * 24 * time.Hour))}, 201, &other)
	k := pair(t, s, a, ev.ID, "Hall")

	tag := uuid.NewString()[:8]
	needles := map[string][]byte{}
	var ids []string
	for i, name := range []string{"Purgeable Ann " + tag, "Purgeable Bob " + tag, "Withdrawn Cy " + tag} {
		email := strings.ToLower(strings.Fields(name)[1]) + "-" + tag + "@example.org"
		resp, body := postRegistration(t, s, "/register/"+ev.ID, map[string]string{"name": name, "email": email, "consent": "yes"},
			"me.png", photo(t, 200, byte(40+i)))
		m := meRE.FindStringSubmatch(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("register %s = %d %s:\n%.300s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		ids = append(ids, m[1])
		needles["name "+name] = []byte(name)
		needles["e-mail "+email] = []byte(email)
	}
	recs, _ := readFeed(t, k, 0)
	for _, r := range recs {
		for _, tp := range r.Templates {
			needles["sealed template of "+r.AttendeeID] = tp.Sealed[len(tp.Sealed)-48:]
		}
	}
	if len(recs) != 3 {
		t.Fatalf("gallery has %d records, want 3", len(recs))
	}
	var res api.CheckInBatchResult
	k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{newCheckIn(ids[0], s.Clock.Now())}}, 200, &res)
	keep := addAttendee(t, s, other.ID, "Kept Kim", "kim")
	if found := erasuretest.Traces(t, dir, needles); len(found) < len(needles) {
		t.Fatalf("before the purge only %v found: the scan cannot see the data", found)
	}
	a.json(t, "DELETE", "/v1/admin/attendees/"+ids[2], nil, 204, nil) // a tombstone

	steps := []struct {
		name      string
		advance   time.Duration
		wantPurge bool
	}{
		{"at the end", 48 * time.Hour, false},
		{"a minute before the retention ends", 3*24*time.Hour - time.Minute, false},
		{"when it ends", time.Minute, true},
		{"a month later", 30 * 24 * time.Hour, false}, // nothing left to purge
	}
	for _, st := range steps {
		s.Clock.Add(st.advance)
		purged, err := s.PurgeNow(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := slices.Contains(purged, ev.ID); got != st.wantPurge || len(purged) > 1 {
			t.Fatalf("%s: purged %v, want the event purged: %v", st.name, purged, st.wantPurge)
		}
	}

	audit, err := s.DB.ListAudit(ctx, 200)
	if err != nil {
		t.Fatal(err)
	}
	var entries []store.AuditEntry
	for _, e := range audit {
		if e.Action == "event.purge" {
			entries = append(entries, e)
		}
	}
	wantAt := end.Add(3 * 24 * time.Hour)
	if len(entries) != 1 || entries[0].Actor != "system" || entries[0].Target != ev.ID || !entries[0].At.Equal(wantAt) ||
		!strings.Contains(entries[0].Detail, "2 attendees, 1 tombstones, 2 templates, 1 check-ins") {
		t.Fatalf("purge audit entries = %+v", entries)
	}
	for _, id := range ids {
		if _, err := s.DB.FindAttendeeByID(ctx, id); err == nil {
			t.Errorf("attendee %s survived the purge", id)
		}
	}
	if got, err := s.DB.FindAttendeeByID(ctx, keep.ID); err != nil || got.Name != "Kept Kim" {
		t.Errorf("the other event's attendee: %+v %v", got, err)
	}
	a = login(t, s) // the clock moved past the session's end
	var after api.Event
	a.json(t, "GET", "/v1/admin/events/"+ev.ID, nil, 200, &after)
	if after.PurgedAt == nil || !after.PurgedAt.Equal(wantAt) || after.ClosedAt == nil {
		t.Errorf("event after the purge = %+v", after)
	}
	if st, code := kioskStatus(t, k, kioskCalls[0]); st != http.StatusGone || code != api.CodeEventClosed {
		t.Errorf("kiosk of the purged event: %d %q", st, code)
	}
	if found := erasuretest.Traces(t, dir, needles); len(found) > 0 {
		t.Errorf("after the purge the data folder still holds %v", found)
	}
	if _, body := do(t, a.c, "GET", s.URL()+"/metrics", nil, ""); !strings.Contains(body, `facecheck_event_purges_total{result="ok"} 1`+"\n") {
		t.Errorf("metrics do not count the purge:\n%s", body)
	}
	resp, body := do(t, a.c, "GET", s.URL()+"/admin/events/"+ev.ID, nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="closed-banner"`) || strings.Contains(body, `id="close-event"`) ||
		!strings.Contains(body, `id="delete-event"`) {
		t.Errorf("event page of a purged event = %d:\n%s", resp.StatusCode, body)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// The dashboard: an event is created with its last day and retention; the
// event page sets them, and its Close and Delete buttons lead to a
// confirmation page whose form (with the CSRF token) does it.
func TestDashboardCloseAndDelete(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		return do(t, a.c, "POST", s.URL()+path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	}
	last := s.Clock.Now().AddDate(0, 0, 10).In(time.Local).Format("2006-01-02")
	resp, body := post("/admin/events", url.Values{"csrf_token": {a.csrf}, "name": {"Expo"}, "ends_on": {last}, "retention_days": {"14"}})
	m := regexp.MustCompile(`/admin/events/([0-9a-f-]+)$`).FindStringSubmatch(resp.Request.URL.Path)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create = %d %s", resp.StatusCode, resp.Request.URL)
	}
	id := m[1]
	var ev api.Event
	a.json(t, "GET", "/v1/admin/events/"+id, nil, 200, &ev)
	lastDay, _ := time.ParseInLocation("2006-01-02", last, time.Local)
	if ev.EndsAt == nil || !ev.EndsAt.Equal(lastDay.AddDate(0, 0, 1)) || ev.RetentionDays != 14 {
		t.Fatalf("created from the form: ends %v, retention %d", ev.EndsAt, ev.RetentionDays)
	}
	for _, want := range []string{`id="lifecycle-form"`, `value="` + last + `"`, `id="retention-days"`, `id="close-event"`, `id="delete-event"`} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %s", want)
		}
	}

	forms := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"retention", url.Values{"ends_on": {last}, "retention_days": {"60"}}, 200, `value="60"`},
		{"bad retention", url.Values{"ends_on": {last}, "retention_days": {"-2"}}, 422, "Keep the data for 0 to 3650 days."},
		{"not a date", url.Values{"ends_on": {"next friday"}, "retention_days": {"30"}}, 422, "The last day must be a date."},
		{"purge at once", url.Values{"ends_on": {"2020-01-01"}, "retention_days": {"1"}}, 422, "would be purged at once"},
	}
	for _, tc := range forms {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", a.csrf)
			resp, body := post("/admin/events/"+id+"/lifecycle", tc.form)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("= %d, want %d with %q:\n%.2000s", resp.StatusCode, tc.status, tc.want, body)
			}
		})
	}

	// Close: the button opens the confirmation page; without the token
	// nothing happens; with it the event is closed.
	resp, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+id+"/close", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-close"`) || !strings.Contains(body, `value="`+a.csrf+`"`) ||
		!strings.Contains(body, "Close Expo?") || !strings.Contains(body, `action="/admin/events/`+id+`/close"`) {
		t.Fatalf("close confirmation = %d:\n%s", resp.StatusCode, body)
	}
	if resp, _ := post("/admin/events/"+id+"/close", url.Values{"csrf_token": {"forged"}}); resp.StatusCode != 403 {
		t.Errorf("close with a wrong CSRF token = %d, want 403", resp.StatusCode)
	}
	a.json(t, "GET", "/v1/admin/events/"+id, nil, 200, &ev)
	if ev.ClosedAt != nil {
		t.Fatal("closed without the CSRF token")
	}
	resp, body = post("/admin/events/"+id+"/close", url.Values{"csrf_token": {a.csrf}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="closed-banner"`) || strings.Contains(body, `id="close-event"`) ||
		strings.Contains(body, `/pairing-codes"`) || strings.Contains(body, `id="import-csv"`) {
		t.Fatalf("after closing = %d (a closed event offers no Close, pairing code or import):\n%s", resp.StatusCode, body)
	}
	a.json(t, "GET", "/v1/admin/events/"+id, nil, 200, &ev)
	if ev.ClosedAt == nil {
		t.Fatal("not closed")
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/", nil, "")
	if !strings.Contains(body, `<span class="tag">closed</span>`) {
		t.Error("the list of events does not mark the event closed")
	}

	// Delete: the same, and the event is gone.
	resp, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+id+"/delete", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-delete"`) || !strings.Contains(body, "Delete Expo and everything recorded for it") {
		t.Fatalf("delete confirmation = %d:\n%s", resp.StatusCode, body)
	}
	if resp, _ := post("/admin/events/"+id+"/delete", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("delete without a CSRF token = %d, want 403", resp.StatusCode)
	}
	resp, body = post("/admin/events/"+id+"/delete", url.Values{"csrf_token": {a.csrf}})
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/admin/" || strings.Contains(body, "Expo") {
		t.Fatalf("after deleting = %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	a.json(t, "GET", "/v1/admin/events/"+id, nil, 404, nil)
	if resp, _ := do(t, a.c, "GET", s.URL()+"/admin/events/"+id+"/delete", nil, ""); resp.StatusCode != 404 {
		t.Errorf("confirmation page of a deleted event = %d", resp.StatusCode)
	}
}
