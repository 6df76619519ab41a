package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func runMain(t *testing.T, dir string, args ...string) (*Main, string) {
	t.Helper()
	m := NewMain()
	var out bytes.Buffer
	m.Stdout = &out
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.ParseFlags(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--data", dir}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, out.String()
}

// logIn posts the log-in form and returns the status: 303 for a session.
func logIn(t *testing.T, base, user, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the log-in page:\n%s", page)
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf_token": {string(csrf[1])}}
	resp, err = c.Post(base+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMain_Run(t *testing.T) {
	dir := t.TempDir()
	m, out := runMain(t, dir)
	// The generated password goes to a private file, never to the terminal.
	pwFile := filepath.Join(dir, AdminPasswordFile)
	if !strings.Contains(out, `created admin "admin"; its password is in `+pwFile) || !strings.Contains(out, "/register/") {
		t.Fatalf("first start printed:\n%s", out)
	}
	fi, err := os.Stat(pwFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))
	if len(password) < 16 || strings.Contains(out, password) {
		t.Fatalf("password %q (printed: %v)", password, strings.Contains(out, password))
	}
	if st := logIn(t, m.Server.URL(), "admin", password); st != http.StatusSeeOther {
		t.Fatalf("log-in with the file's password = %d", st)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(m.Server.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	fi, err = os.Stat(filepath.Join(dir, "server.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server key: %v %v", fi, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start reuses the key and the database and creates nothing.
	t.Setenv("FACECHECK_ADMIN_PASSWORD", "ignored-now")
	m, out = runMain(t, dir)
	defer m.Close()
	if strings.Contains(out, "created") {
		t.Fatalf("second start printed:\n%s", out)
	}
}

// A lost password is reset from the command line, reading the new one from
// stdin; the old one stops working.
func TestAdminResetPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FACECHECK_ADMIN_PASSWORD", "the first password")
	m, _ := runMain(t, dir)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		stdin string
		code  int
		out   string
	}{
		{[]string{"reset-password", "--data", dir}, "short\n", 1, "at least 8 characters"},
		{[]string{"reset-password", "--data", dir, "--user", "nobody"}, "a long new password\n", 1, `there is no admin "nobody"`},
		{[]string{"frobnicate"}, "", 2, "usage"},
		{[]string{"reset-password", "--data", dir}, "a long new password\r\n", 0, `password of admin "admin" reset`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := runAdmin(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.out) {
			t.Errorf("%v: exit %d, want %d with %q; printed %s%s", tt.args, code, tt.code, tt.out, stdout.String(), stderr.String())
		}
	}
	m, _ = runMain(t, dir)
	defer m.Close()
	if st := logIn(t, m.Server.URL(), "admin", "the first password"); st != http.StatusUnauthorized {
		t.Errorf("old password = %d, want 401", st)
	}
	if st := logIn(t, m.Server.URL(), "admin", "a long new password"); st != http.StatusSeeOther {
		t.Errorf("new password = %d, want 303", st)
	}
}

func TestMain_ParseFlags(t *testing.T) {
	t.Setenv("FACECHECK_ADMIN_PASSWORD", "from-the-env")
	m := NewMain()
	if err := m.ParseFlags(context.Background(), nil); err != nil || m.AdminPassword != "from-the-env" {
		t.Fatalf("password = %q, %v", m.AdminPassword, err)
	}
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"extra"}, {"--nope"}} {
		m := NewMain()
		m.Stdout = io.Discard
		if err := m.ParseFlags(context.Background(), args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
