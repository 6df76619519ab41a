package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NormalizeShortCode returns a short code as typed or scanned in canonical
// form: upper case, separators dropped, and the Crockford base32 look-alikes
// O, I and L read as 0, 1 and 1.
func NormalizeShortCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == 'O':
			b.WriteRune('0')
		case r == 'I' || r == 'L':
			b.WriteRune('1')
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HashShortCode is GalleryRecord.CodeHash: hex HMAC-SHA256 of the normalised
// short code under the short-code subkey of the event's template key
// (seal.go), so a kiosk checks a typed or scanned code offline and a
// gallery copied without the key reveals no codes.
func HashShortCode(key []byte, code string) string {
	m := hmac.New(sha256.New, subkey(key, purposeShortCode))
	m.Write([]byte("facecheck-short-code\x00"))
	m.Write([]byte(NormalizeShortCode(code)))
	return hex.EncodeToString(m.Sum(nil))
}
