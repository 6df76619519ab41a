package server_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/api"
)

// The dashboard's revoke (admin API) rotates the event key over HTTP:
// pairing says version 1; after the revoke the other kiosk's gallery and
// settings answers carry version 2 and GET /v1/key gives it the new key
// (not cached), which opens the feed's templates while the old key opens
// none; the revoked kiosk gets 401 token_revoked everywhere, /v1/key too.
func TestRevokeRotatesKeyOverHTTP(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	addAttendee(t, s, s.Event.ID, "Ana Lima", "ana")
	gone, door := pair(t, s, a, s.Event.ID, "gone"), pair(t, s, a, s.Event.ID, "door")
	if gone.KeyVersion != 1 || door.KeyVersion != 1 {
		t.Fatalf("pairing answers key versions %d and %d, want 1", gone.KeyVersion, door.KeyVersion)
	}
	header := func(path string) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, door.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+door.Token)
		resp, _ := send(t, httpc, req)
		return resp.Header.Get(api.HeaderKeyVersion)
	}
	if v := header("/v1/gallery?since=0"); v != "1" {
		t.Fatalf("gallery key version %q before the revoke", v)
	}
	// The event page says what a revoke does before anyone clicks it.
	if resp, body := do(t, a.c, "GET", a.base+"/admin/events/"+s.Event.ID, nil, ""); resp.StatusCode != 200 ||
		!strings.Contains(body, `id="revoke-note"`) || !strings.Contains(body, "check-ins it has not sent (Queued) are lost") {
		t.Errorf("event page: %d, no revoke note", resp.StatusCode)
	}
	a.json(t, "POST", "/v1/admin/kiosks/"+gone.KioskID+"/revoke", nil, 200, nil)
	for _, path := range []string{"/v1/gallery?since=0", "/v1/settings"} {
		if v := header(path); v != "2" {
			t.Errorf("%s: key version %q after the revoke, want 2", path, v)
		}
	}
	req, err := http.NewRequest(http.MethodGet, door.base+"/v1/key", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+door.Token)
	resp, body := send(t, httpc, req)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /v1/key: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	var k api.EventKey
	door.json(t, "GET", "/v1/key", nil, 200, &k)
	if k.KeyVersion != 2 || k.EventID != s.Event.ID || len(k.TemplateKey) != api.KeySize || bytes.Equal(k.TemplateKey, door.TemplateKey) {
		t.Fatalf("GET /v1/key = version %d, event %s, %d-byte key (changed %v); body %s", k.KeyVersion, k.EventID, len(k.TemplateKey),
			!bytes.Equal(k.TemplateKey, door.TemplateKey), body)
	}
	recs, _ := readFeed(t, door, 0)
	for _, r := range recs {
		if _, err := api.OpenTemplate(k.TemplateKey, r.AttendeeID, r.Templates[0]); err != nil {
			t.Errorf("%s: the new key does not open the template: %v", r.Name, err)
		}
		if _, err := api.OpenTemplate(gone.TemplateKey, r.AttendeeID, r.Templates[0]); !errors.Is(err, api.ErrSealed) {
			t.Errorf("%s: the revoked kiosk's key opens the template", r.Name)
		}
	}
	var p api.Problem
	gone.json(t, "GET", "/v1/key", nil, 401, &p)
	if p.Code != api.CodeTokenRevoked {
		t.Errorf("revoked kiosk: problem code %q, want %q", p.Code, api.CodeTokenRevoked)
	}
}
