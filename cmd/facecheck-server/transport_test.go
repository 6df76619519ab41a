package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The server key can live outside the data folder (--key-file or
// FACECHECK_SERVER_KEY_FILE), so a copy of the folder holds no key; a key
// file other users can read is refused.
func TestKeyFile(t *testing.T) {
	data, secrets := t.TempDir(), t.TempDir()
	keyFile := filepath.Join(secrets, "facecheck.key")
	m, _ := runMain(t, data, "--key-file", keyFile)
	m.Close()
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(data, "server.key")); err == nil {
		t.Fatal("a key was written into the data folder too")
	}
	// The environment variable names the same file; the database opens.
	t.Setenv("FACECHECK_SERVER_KEY_FILE", keyFile)
	m, _ = runMain(t, data)
	m.Close()

	if err := os.Chmod(keyFile, 0o640); err != nil {
		t.Fatal(err)
	}
	m = NewMain()
	m.Stdout = io.Discard
	if err := m.ParseFlags(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", data}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable key file: %v, want a refusal naming chmod 600", err)
	}
}

// Plain HTTP is refused on an address other machines reach, unless
// --insecure-http says TLS ends at a proxy; loopback needs nothing.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"--addr", "127.0.0.1:0"}, true},
		{[]string{"--addr", "[::1]:0"}, true},
		{[]string{"--addr", "localhost:8080"}, true},
		{[]string{"--addr", ":8080"}, false},
		{[]string{"--addr", "0.0.0.0:8080"}, false},
		{[]string{"--addr", "192.0.2.7:8080"}, false},
		{[]string{"--addr", ":8080", "--insecure-http"}, true},
		{[]string{"--addr", ":8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, true},
		{[]string{"--addr", ":443", "--acme-host", "checkin.example.org"}, true},
		{[]string{"--addr", ":443", "--acme-host", "checkin.example.org", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, false},
		{[]string{"--addr", "127.0.0.1:0", "--public-url", "https://checkin.example.org"}, true},
		{[]string{"--addr", "127.0.0.1:0", "--public-url", "https://checkin.example.org/sub?x=1"}, false},
		{[]string{"--addr", "127.0.0.1:0", "--public-url", "ftp://checkin.example.org"}, false},
	}
	for _, tt := range tests {
		m := NewMain()
		m.Stdout = io.Discard
		err := m.ParseFlags(context.Background(), append(tt.args, "--data", t.TempDir()))
		if (err == nil) != tt.ok {
			t.Errorf("%v: %v, want ok %v", tt.args, err, tt.ok)
		}
		if err != nil && strings.Contains(strings.Join(tt.args, " "), ":8080") && !strings.Contains(err.Error(), "--insecure-http") {
			t.Errorf("%v: %v does not say how to proceed", tt.args, err)
		}
	}
}

// The start-up line gives the registration page at --public-url.
func TestPublicURLStartupLine(t *testing.T) {
	m, out := runMain(t, t.TempDir(), "--public-url", "https://checkin.example.org/")
	defer m.Close()
	if !strings.Contains(out, "registration page https://checkin.example.org/register/") || !strings.Contains(out, "public address https://checkin.example.org") {
		t.Fatalf("start-up printed:\n%s", out)
	}
}
