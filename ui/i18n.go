package ui

import (
	"encoding/json"
	"fmt"

	"github.com/facecheck/facecheck/assets"
)

// fallbackLang is used for keys missing in the chosen language.
const fallbackLang = "en"

// Translator looks up UI strings by key in one language, falling back to
// English and then to the key itself, so a missing string shows up as its
// key instead of an empty label.
type Translator struct {
	lang     string
	strings  map[string]string
	fallback map[string]string
}

// NewTranslator loads the strings of lang from assets. It returns an error
// for a language without a translation file or with a malformed one.
func NewTranslator(lang string) (*Translator, error) {
	fb, err := loadStrings(fallbackLang)
	if err != nil {
		return nil, err
	}
	t := &Translator{lang: lang, strings: fb, fallback: fb}
	if lang != fallbackLang {
		if t.strings, err = loadStrings(lang); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func loadStrings(lang string) (map[string]string, error) {
	b, err := assets.Translation(lang)
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("ui: translation %q: %w", lang, err)
	}
	return m, nil
}

// Lang is the language code.
func (t *Translator) Lang() string { return t.lang }

// T returns the string for key, formatted with args when given.
func (t *Translator) T(key string, args ...any) string {
	s, ok := t.strings[key]
	if !ok {
		if s, ok = t.fallback[key]; !ok {
			s = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Languages are the selectable languages: code and native name.
func Languages() [][2]string {
	var out [][2]string
	for _, code := range assets.Languages() {
		name := code
		if t, err := NewTranslator(code); err == nil {
			name = t.T("lang.name")
		}
		out = append(out, [2]string{code, name})
	}
	return out
}
