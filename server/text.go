package server

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normText is how every name and free-text field is stored: trimmed and in
// Unicode NFC, so "Zoë" typed on a phone (composed) and pasted from a CSV
// (decomposed) is one name, for the duplicate checks and the kiosk search.
func normText(s string) string {
	return norm.NFC.String(strings.TrimSpace(s))
}

// invisibleFormat reports whether r at position i of rs is a format
// character (Unicode Cf: bidi overrides, zero-width spaces, soft hyphens,
// tags) that would let a name display as something other than what it is,
// in the dashboard, a CSV export or the kiosk. ZWNJ and ZWJ between two
// letters stay allowed: Persian and Indic names need them there.
func invisibleFormat(rs []rune, i int) bool {
	r := rs[i]
	if !unicode.Is(unicode.Cf, r) {
		return false
	}
	if (r == '\u200c' || r == '\u200d') && i > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i-1]) && unicode.IsLetter(rs[i+1]) {
		return false
	}
	return true
}

// hasInvisibleFormat reports whether s holds a character invisibleFormat refuses.
func hasInvisibleFormat(s string) bool {
	rs := []rune(s)
	for i := range rs {
		if invisibleFormat(rs, i) {
			return true
		}
	}
	return false
}
