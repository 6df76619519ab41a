package api

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSealTemplate(t *testing.T) {
	key, _ := NewKey()
	other, _ := NewKey()
	tpl := Template{Model: "m", Version: 1, Data: bytes.Repeat([]byte{7, 200}, 256)}
	s, err := SealTemplate(key, "a1", tpl)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Sealed, tpl.Data[:16]) {
		t.Fatal("sealed bytes contain the plaintext")
	}
	got, err := OpenTemplate(key, "a1", s)
	if err != nil || !bytes.Equal(got.Data, tpl.Data) {
		t.Fatalf("open = %v, %v", got, err)
	}
	tampered := s
	tampered.Sealed = bytes.Clone(s.Sealed)
	tampered.Sealed[20] ^= 1
	tests := []struct {
		name     string
		key      []byte
		attendee string
		s        SealedTemplate
	}{
		{"wrong key", other, "a1", s},
		{"moved to another attendee", key, "a2", s},
		{"tampered", key, "a1", tampered},
		{"truncated", key, "a1", SealedTemplate{Model: "m", Version: 1, Sealed: s.Sealed[:10]}},
		{"other model label", key, "a1", SealedTemplate{Model: "x", Version: 1, Sealed: s.Sealed}},
		{"short key", key[:16], "a1", s},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := OpenTemplate(tc.key, tc.attendee, tc.s); !errors.Is(err, ErrSealed) {
				t.Fatalf("err = %v, want ErrSealed", err)
			}
		})
	}
}

func FuzzOpenTemplate(f *testing.F) {
	key := bytes.Repeat([]byte{1}, KeySize)
	s, _ := SealTemplate(key, "a", Template{Model: "m", Version: 1, Data: make([]byte, 512)})
	f.Add(s.Sealed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Must never panic; anything but the genuine blob must fail.
		got, err := OpenTemplate(key, "a", SealedTemplate{Model: "m", Version: 1, Sealed: b})
		if err == nil && len(got.Data) > MaxTemplateBytes {
			t.Fatal("oversized template accepted")
		}
	})
}

// Each purpose has its own key: a template sealed under an event key does
// not open with that key used directly as the AES-GCM key, and the short
// code hash is not an HMAC under it. Before, one key did both jobs.
func TestSubkeysSeparatePurposes(t *testing.T) {
	key, _ := NewKey()
	tpl := Template{Model: "m", Version: 1, Data: bytes.Repeat([]byte{9}, 512)}
	s, err := SealTemplate(key, "a1", tpl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(key, s.Sealed, templateAAD("a1", "m", 1)); err == nil {
		t.Error("the template opens with the event key itself")
	}
	if _, err := Open(key, s.Sealed[1:], templateAAD("a1", "m", 1)); err == nil {
		t.Error("the template opens with the event key itself after the version byte")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("facecheck-short-code\x00" + NormalizeShortCode("K7QF-2M9X")))
	if HashShortCode(key, "K7QF-2M9X") == hex.EncodeToString(m.Sum(nil)) {
		t.Error("the short-code hash is an HMAC under the event key itself")
	}
	if HashShortCode(key, "k7qf 2m9x") != HashShortCode(key, "K7QF-2M9X") {
		t.Error("the hash depends on how the code is typed")
	}
}

// Templates sealed before subkeys (format v1: nonce || ciphertext under the
// event key) still open, including one whose nonce starts with the v2 byte.
func TestOpenTemplateV1(t *testing.T) {
	key, _ := NewKey()
	data := bytes.Repeat([]byte{3, 4}, 256)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	seen2 := false
	for i := 0; i < 2000 && !seen2 || i < 20; i++ {
		v1, err := Seal(key, buf.Bytes(), templateAAD("a1", "m", 1))
		if err != nil {
			t.Fatal(err)
		}
		seen2 = seen2 || v1[0] == sealV2
		got, err := OpenTemplate(key, "a1", SealedTemplate{Model: "m", Version: 1, Sealed: v1})
		if err != nil || !bytes.Equal(got.Data, data) {
			t.Fatalf("v1 blob (first byte %#x): %v", v1[0], err)
		}
	}
	if !seen2 {
		t.Fatal("no v1 nonce starting with the v2 byte in 2000 tries")
	}
}

// ResealTemplate moves a template from one event key to another: the new
// key opens it to the same bytes, the old one does not, and it stays bound
// to its attendee; a template that does not open with the old key is
// refused.
func TestResealTemplate(t *testing.T) {
	old, _ := NewKey()
	key, _ := NewKey()
	tpl := Template{Model: "m", Version: 1, Data: bytes.Repeat([]byte{3, 90}, 256)}
	s, err := SealTemplate(old, "a1", tpl)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ResealTemplate(old, key, "a1", s)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenTemplate(key, "a1", r); err != nil || !bytes.Equal(got.Data, tpl.Data) || got.Model != "m" || got.Version != 1 {
		t.Fatalf("new key opens %+v, %v", got, err)
	}
	for _, c := range []struct {
		name     string
		key      []byte
		attendee string
	}{{"old key", old, "a1"}, {"another attendee", key, "a2"}} {
		if _, err := OpenTemplate(c.key, c.attendee, r); !errors.Is(err, ErrSealed) {
			t.Errorf("%s opens the resealed template: %v", c.name, err)
		}
	}
	if _, err := ResealTemplate(key, old, "a1", s); !errors.Is(err, ErrSealed) {
		t.Errorf("resealing with the wrong old key: %v", err)
	}
}
