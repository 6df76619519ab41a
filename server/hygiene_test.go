package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// No directory listing under /static/, and no cache keeps admin answers,
// pairing answers (token and event key) or an attendee's confirmation page.
func TestHygieneHeadersAndListing(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	tests := []struct {
		name, path string
		c          *http.Client
		status     int
		noStore    bool
	}{
		{"static listing", "/static/", httpc, 404, false},
		{"a static file", "/static/style.css", httpc, 200, false},
		{"log-in page", "/admin/login", httpc, 200, true},
		{"dashboard", "/admin/", a.c, 200, true},
		{"admin JSON", "/v1/admin/events", a.c, 200, true},
		{"metrics", "/metrics", a.c, 200, true},
		{"confirmation page", "/register/" + s.Event.ID + "/me/" + uuid.NewString() + "?t=x", httpc, 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.c, "GET", s.URL()+tt.path, nil, "")
			if resp.StatusCode != tt.status {
				t.Errorf("GET %s = %d, want %d: %.200s", tt.path, resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Cache-Control") == "no-store"; got != tt.noStore {
				t.Errorf("GET %s: Cache-Control %q, want no-store %v", tt.path, resp.Header.Get("Cache-Control"), tt.noStore)
			}
			for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("GET %s: %s %q, want %q", tt.path, h, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("GET %s: Content-Security-Policy %q", tt.path, csp)
			}
			if strings.Contains(body, `href="style.css"`) {
				t.Errorf("GET %s lists a directory", tt.path)
			}
		})
	}
	// The pairing answer, failed or not.
	var pc api.PairingCode
	a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID}, 201, &pc)
	for _, code := range []string{"WRONG-CODE", pc.Code} {
		req := newJSONRequest(t, "POST", s.URL()+"/v1/pair", api.PairRequest{Code: code, DeviceName: "K", AppVersion: "1"})
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("pairing answer %d: Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

// Names are stored in NFC, and format characters (bidi overrides,
// zero-width spaces) that make a name display as something else are
// refused on every way in: the registration form, a kiosk enrolment, the
// CSV import and an event's name. "Zoë \u202eevil\u202c" was stored before.
func TestNamesNormalisedAndFormatCharactersRefused(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	bad := []string{"Zoë \u202eevil\u202c", "Ad\u200bmin", "\u2066Eve\u2069", "Ann\u00ad", "\ufeffBob"}
	for i, name := range bad {
		resp, body := postRegistration(t, s, "/register/"+s.Event.ID, map[string]string{
			"name": name, "email": uuid.NewString() + "@example.com", "consent": "yes"}, "p.png", photo(t, 200, byte(i)))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("registration %q = %d, want 422: %.200s", name, resp.StatusCode, body)
		}
		id := uuid.NewString()
		st, err := api.SealTemplate(k.TemplateKey, id, templateFrom([]byte(name)))
		if err != nil {
			t.Fatal(err)
		}
		var p api.Problem
		k.json(t, "POST", "/v1/enrol", api.EnrolRequest{ID: id, Name: name, Consent: true, Template: st}, 422, &p)
		a.json(t, "POST", "/v1/admin/events", map[string]string{"name": name}, 422, &p)
	}
	_, page := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	_, body := importCSV(t, s, a, csrfRE.FindStringSubmatch(page)[1], "name,email\nZoë \u202eevil\u202c,zoe@example.com\n")
	if !strings.Contains(body, "0 imported, 1 with errors.") {
		t.Errorf("CSV import of a bidi name: %.2000s", body)
	}

	// Persian needs ZWNJ between letters; a decomposed ë becomes one rune.
	for i, tt := range []struct{ in, want string }{
		{"Zoe\u0308 Lee", "Zoë Lee"},
		{"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
	} {
		email := uuid.NewString() + "@example.com"
		if resp, body := postRegistration(t, s, "/register/"+s.Event.ID, map[string]string{
			"name": tt.in, "email": email, "consent": "yes"}, "p.png", photo(t, 200, byte(100+i))); resp.StatusCode != 303 {
			t.Fatalf("registration %q = %d: %.300s", tt.in, resp.StatusCode, body)
		}
		as, _, err := s.DB.ListAttendees(context.Background(), store.AttendeeFilter{EventID: s.Event.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, at := range as {
			found = found || at.Name == tt.want
		}
		if !found {
			t.Errorf("%q not stored as %q", tt.in, tt.want)
		}
	}
}
