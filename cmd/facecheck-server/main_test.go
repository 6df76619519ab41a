package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
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

func TestMain_Run(t *testing.T) {
	dir := t.TempDir()
	m, out := runMain(t, dir)
	if !strings.Contains(out, `created admin "admin" with password`) || !strings.Contains(out, "/register/") {
		t.Fatalf("first start printed:\n%s", out)
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
	fi, err := os.Stat(filepath.Join(dir, "server.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server key: %v %v", fi, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start reuses the key and the database and creates nothing.
	m, out = runMain(t, dir, "--admin-password", "ignored-now")
	defer m.Close()
	if strings.Contains(out, "created") {
		t.Fatalf("second start printed:\n%s", out)
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
