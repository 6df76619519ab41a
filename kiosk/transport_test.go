package kiosk_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/kiosk"
)

// The kiosk refuses a plain http:// server address except to this machine
// (127.0.0.0/8, ::1, localhost): the pairing answer carries the token and
// the event key. The refusal has its own error code, translated in every
// language.
func TestPairRefusesPlainHTTP(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	for _, tc := range []struct {
		url  string
		code string // ErrorCode of the pairing's failure
	}{
		{"http://192.0.2.10:8443", kiosk.EINSECURE},
		{"http://checkin.example.org", kiosk.EINSECURE},
		{"http://10.0.0.5", kiosk.EINSECURE},
		{"http://[2001:db8::1]:8443", kiosk.EINSECURE},
		{"http://localhost.example.org:1", kiosk.EINSECURE},
		{"ftp://127.0.0.1", kiosk.EINVALID},
		// Loopback passes the check: nothing listens on port 1.
		{"http://127.0.0.1:1", kiosk.EOFFLINE},
		{"http://127.9.9.9:1", kiosk.EOFFLINE},
		{"http://[::1]:1", kiosk.EOFFLINE},
		{"http://localhost:1", kiosk.EOFFLINE},
	} {
		t.Run(tc.url, func(t *testing.T) {
			k := newKiosk(t)
			_, err := k.Sync.Pair(ctx, tc.url, "ABCDE-12345", "door")
			if got := kiosk.ErrorCode(err); got != tc.code {
				t.Fatalf("Pair(%s) = %v (code %s), want code %s", tc.url, err, got, tc.code)
			}
			if tc.code == kiosk.EINSECURE && !errors.Is(err, kiosk.ErrInsecureURL) {
				t.Errorf("not ErrInsecureURL: %v", err)
			}
		})
	}
	for _, lang := range i18n.Languages() {
		p := i18n.MustNew(lang)
		for _, code := range []string{kiosk.EINSECURE, kiosk.ECERTIFICATE} {
			if !p.Has("error.code." + code) {
				t.Errorf("%s: no message for error code %s", lang, code)
			}
		}
		for _, st := range []string{kiosk.SyncRevoked, kiosk.SyncEventClosed} {
			if !p.Has("sync."+st) || !p.Has("server."+st) {
				t.Errorf("%s: no message for sync state %s", lang, st)
			}
		}
	}
}

// A pairing file that points at a plain http:// server on another machine
// (written by hand, or by a kiosk before this check) is refused on load.
func TestLoadPairingRefusesPlainHTTP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosk.pairing.json")
	p := kiosk.Pairing{ServerURL: "http://127.0.0.1:8443", KioskID: "k", Token: "fck_x", EventID: "e", TemplateKey: bytes.Repeat([]byte{1}, api.KeySize)}
	if err := kiosk.SavePairing(path, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.LoadPairing(path); err != nil {
		t.Fatalf("loopback pairing refused: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte("127.0.0.1"), []byte("192.0.2.7"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.LoadPairing(path); !errors.Is(err, kiosk.ErrInsecureURL) {
		t.Fatalf("LoadPairing of a plain http:// pairing to another machine = %v", err)
	}
}

// A server whose certificate a private CA signed: with that CA given
// (--ca) the kiosk pairs and syncs over https://127.0.0.1; without it the
// pairing fails at once with a certificate error (its own code, not
// "offline").
func TestPrivateCA(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{4}, api.KeySize), "127.0.0.1:0")
	u, err := url.Parse(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake of "without"
	ts.StartTLS()
	t.Cleanup(ts.Close)
	if !strings.HasPrefix(ts.URL, "https://127.0.0.1:") {
		t.Fatalf("TLS server at %s", ts.URL)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("with --ca", func(t *testing.T) {
		k := newKiosk(t, func(c *kiosk.SyncConfig) { c.CAFile = ca })
		if _, err := k.Sync.Pair(ctx, ts.URL, rs.pairingCode(t), "door"); err != nil {
			t.Fatal(err)
		}
		rs.addAttendee(t, "Tls Person", randomTemplate(t, rand.New(rand.NewPCG(1, 2))))
		if _, err := k.Sync.SyncOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if st := k.Sync.Status(); st.State != api.SyncOnline || st.Gallery != 1 {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("without", func(t *testing.T) {
		k := newKiosk(t)
		_, err := k.Sync.Pair(ctx, ts.URL, rs.pairingCode(t), "door")
		if !errors.Is(err, kiosk.ErrCertificate) || kiosk.ErrorCode(err) != kiosk.ECERTIFICATE || errors.Is(err, kiosk.ErrOffline) {
			t.Fatalf("Pair without the CA = %v (code %s); want a certificate error", err, kiosk.ErrorCode(err))
		}
	})
	t.Run("bad --ca", func(t *testing.T) {
		for _, path := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
			cfg := kiosk.DefaultSyncConfig()
			cfg.PairingPath, cfg.CAFile = filepath.Join(dir, "p.json"), path
			if _, err := kiosk.NewSyncer(newKiosk(t).DB, nil, cfg); err == nil || !strings.Contains(err.Error(), "--ca") {
				t.Errorf("--ca %s: %v", filepath.Base(path), err)
			}
		}
	})
}
