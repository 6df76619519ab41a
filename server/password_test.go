package server_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An admin changes their password on the dashboard: the current one is
// asked again, the new one must be long enough and typed twice, and every
// other session (someone who knew the old password) ends.
func TestAdminChangesPassword(t *testing.T) {
	s := newTestServer(t)
	a, other := login(t, s), login(t, s)
	resp, page := do(t, a.c, "GET", s.URL()+"/admin/password", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(page, `name="current"`) {
		t.Fatalf("password page = %d %.300s", resp.StatusCode, page)
	}
	const next = "a brand new passphrase"
	tests := []struct {
		name                   string
		current, next, confirm string
		status                 int
	}{
		{"wrong current password", "not it", next, next, http.StatusUnauthorized},
		{"too short", testPassword, "short", "short", http.StatusUnprocessableEntity},
		{"typed differently", testPassword, next, next + "!", http.StatusUnprocessableEntity},
		{"same as before", testPassword, testPassword, testPassword, http.StatusUnprocessableEntity},
		{"changed", testPassword, next, next, http.StatusOK},
	}
	for _, tt := range tests {
		form := url.Values{"csrf_token": {a.csrf}, "current": {tt.current}, "new": {tt.next}, "confirm": {tt.confirm}}
		resp, body := do(t, a.c, "POST", s.URL()+"/admin/password", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d: %.300s", tt.name, resp.StatusCode, tt.status, body)
		}
	}
	// Without the CSRF token nothing changes.
	form := url.Values{"current": {next}, "new": {"yet another passphrase"}, "confirm": {"yet another passphrase"}}
	if resp, _ := do(t, a.c, "POST", s.URL()+"/admin/password", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d, want 403", resp.StatusCode)
	}
	a.json(t, "GET", "/v1/admin/session", nil, 200, nil)
	other.json(t, "GET", "/v1/admin/session", nil, 401, nil)
	if st := postLogin(t, s, testUser, testPassword); st != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", st)
	}
	if st := postLogin(t, s, testUser, next); st != http.StatusSeeOther {
		t.Errorf("new password: %d, want 303", st)
	}
}

// postLogin logs in on a fresh client and returns the status.
func postLogin(t *testing.T, s *testServer, user, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, page := do(t, c, "GET", s.URL()+"/admin/login", nil, "")
	form := url.Values{"username": {user}, "password": {password}, "csrf_token": {csrfRE.FindStringSubmatch(page)[1]}}
	resp, _ := do(t, c, "POST", s.URL()+"/admin/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	return resp.StatusCode
}
