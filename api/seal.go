package api

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// KeySize is the AES-256 key length.
const KeySize = 32

// MaxTemplateBytes bounds a decompressed template so a hostile payload cannot
// expand without limit.
const MaxTemplateBytes = 4096

// ErrSealed is returned when sealed data cannot be opened: wrong key, wrong
// attendee, tampered or truncated bytes.
var ErrSealed = errors.New("sealed data cannot be opened")

// NewKey returns a fresh random AES-256 key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrSealed, len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal encrypts plaintext with AES-256-GCM; aad (e.g. an attendee id) is
// authenticated but not encrypted, so a sealed blob moved to another record
// fails to open. The result is nonce || ciphertext.
func Seal(key, plaintext, aad []byte) ([]byte, error) {
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plaintext, aad), nil
}

// Open reverses Seal.
func Open(key, sealed, aad []byte) ([]byte, error) {
	a, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrSealed, len(sealed))
	}
	n := a.NonceSize()
	out, err := a.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}

// An event key is never used directly since format v2: HKDF-SHA256 derives
// one subkey per purpose, so the AES-GCM key that seals templates and short
// codes is not the HMAC key that hashes short codes for the kiosks.
const (
	purposeSeal      = "facecheck v2 seal"
	purposeShortCode = "facecheck v2 short-code hmac"
	// sealV2 leads a blob sealed under the sealing subkey. Blobs without it
	// (format v1, written before subkeys) are nonce || ciphertext under the
	// event key itself, and still open.
	sealV2 = 0x02
)

// subkey derives the purpose's key from an event key.
func subkey(key []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, key, nil, purpose, KeySize)
	if err != nil {
		// Only a length beyond 255 hash blocks fails; KeySize is one.
		panic(fmt.Sprintf("hkdf: %v", err))
	}
	return k
}

// SealEventData seals plaintext under the sealing subkey of an event key
// (format v2); aad binds it to its record.
func SealEventData(key, plaintext, aad []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrSealed, len(key), KeySize)
	}
	s, err := Seal(subkey(key, purposeSeal), plaintext, aad)
	if err != nil {
		return nil, err
	}
	return append([]byte{sealV2}, s...), nil
}

// OpenEventData reverses SealEventData, and opens format v1 blobs sealed
// under the event key itself. A v1 nonce may start with the v2 byte by
// chance, so a v2 failure falls back to v1: GCM rejects the wrong guess.
func OpenEventData(key, sealed, aad []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrSealed, len(key), KeySize)
	}
	if len(sealed) > 0 && sealed[0] == sealV2 {
		if out, err := Open(subkey(key, purposeSeal), sealed[1:], aad); err == nil {
			return out, nil
		}
	}
	return Open(key, sealed, aad)
}

// SealTemplate gzips and seals t.Data for the attendee id.
func SealTemplate(key []byte, attendeeID string, t Template) (SealedTemplate, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(t.Data); err != nil {
		return SealedTemplate{}, err
	}
	if err := zw.Close(); err != nil {
		return SealedTemplate{}, err
	}
	s, err := SealEventData(key, buf.Bytes(), templateAAD(attendeeID, t.Model, t.Version))
	if err != nil {
		return SealedTemplate{}, fmt.Errorf("seal template: %w", err)
	}
	return SealedTemplate{Model: t.Model, Version: t.Version, Sealed: s}, nil
}

// OpenTemplate reverses SealTemplate. It fails with ErrSealed on a wrong key,
// a template moved to another attendee, tampering, or a payload that
// decompresses beyond MaxTemplateBytes.
func OpenTemplate(key []byte, attendeeID string, s SealedTemplate) (Template, error) {
	z, err := OpenEventData(key, s.Sealed, templateAAD(attendeeID, s.Model, s.Version))
	if err != nil {
		return Template{}, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return Template{}, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, MaxTemplateBytes+1))
	if err != nil {
		return Template{}, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	if len(data) > MaxTemplateBytes {
		return Template{}, fmt.Errorf("%w: template larger than %d bytes", ErrSealed, MaxTemplateBytes)
	}
	return Template{Model: s.Model, Version: s.Version, Data: data}, nil
}

// ResealTemplate seals s, sealed for attendeeID under the event key old,
// again under key, as when an event's key is rotated. The compressed
// template is not unpacked: only the seal changes. ErrSealed when s does
// not open with old.
func ResealTemplate(old, key []byte, attendeeID string, s SealedTemplate) (SealedTemplate, error) {
	aad := templateAAD(attendeeID, s.Model, s.Version)
	z, err := OpenEventData(old, s.Sealed, aad)
	if err != nil {
		return SealedTemplate{}, err
	}
	sealed, err := SealEventData(key, z, aad)
	if err != nil {
		return SealedTemplate{}, fmt.Errorf("reseal template: %w", err)
	}
	return SealedTemplate{Model: s.Model, Version: s.Version, Sealed: sealed}, nil
}

func templateAAD(attendeeID, model string, version int) []byte {
	return fmt.Appendf(nil, "facecheck-template\x00%s\x00%s\x00%d", attendeeID, model, version)
}
