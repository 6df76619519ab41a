package ui

import (
	"os"

	"github.com/facecheck/facecheck/i18n"
)

// Translator looks up UI strings by key in one language of the shared
// catalogue (package i18n), falling back to English and then to the key
// itself, so a missing string shows up as its key instead of an empty
// label. T formats printf-style, picks plural forms by the first integer
// argument and groups digits per locale.
type Translator struct {
	*i18n.Printer
}

// NewTranslator returns the translator for lang. It returns an error for a
// language without a catalogue.
func NewTranslator(lang string) (*Translator, error) {
	p, err := i18n.New(lang)
	if err != nil {
		return nil, err
	}
	return &Translator{p}, nil
}

// Languages are the selectable languages: code and native name.
func Languages() [][2]string {
	var out [][2]string
	for _, code := range i18n.Languages() {
		out = append(out, [2]string{code, i18n.MustNew(code).T("lang.name")})
	}
	return out
}

// SystemLanguage is the supported language of the system locale (LC_ALL,
// LC_MESSAGES, LANG, as gettext reads them), "" when it names none.
func SystemLanguage() string {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(env); v != "" {
			return i18n.FromLocale(v)
		}
	}
	return ""
}

// StartLanguage is the kiosk's language at start: stored (the event's
// default or an admin's choice) when set, else the system locale's, else
// English.
func StartLanguage(stored string) string {
	if i18n.Supported(stored) {
		return stored
	}
	if l := SystemLanguage(); l != "" {
		return l
	}
	return i18n.Default
}
