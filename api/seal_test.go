package api

import (
	"bytes"
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
