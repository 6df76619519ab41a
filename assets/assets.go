// Package assets holds the embedded files: the message catalogues of kiosk
// and server (i18n/<lang>.json in go-i18n's JSON format, read through
// package i18n) and, when one is bundled, a CJK-capable font. It imports
// nothing but the standard library so every package may use it.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed i18n/*.json
var i18nFS embed.FS

//go:embed fonts
var fontFS embed.FS

// Languages lists the language codes with a translation file, sorted.
func Languages() []string {
	entries, err := fs.ReadDir(i18nFS, "i18n")
	if err != nil {
		return nil
	}
	var langs []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			langs = append(langs, name)
		}
	}
	sort.Strings(langs)
	return langs
}

// Translation returns the go-i18n JSON catalogue (key → message, or key →
// plural forms) for lang, or an error
// when there is no file for it.
func Translation(lang string) ([]byte, error) {
	b, err := i18nFS.ReadFile(path.Join("i18n", lang+".json"))
	if err != nil {
		return nil, fmt.Errorf("assets: translation %q: %w", lang, err)
	}
	return b, nil
}

// Font returns the bundled CJK-capable font (a single .ttf or .otf; Fyne
// cannot load .ttc collections) and its file name, or ok=false when none is
// bundled. See fonts/README.md.
func Font() (name string, data []byte, ok bool) {
	entries, err := fs.ReadDir(fontFS, "fonts")
	if err != nil {
		return "", nil, false
	}
	for _, e := range entries {
		n := strings.ToLower(e.Name())
		if strings.HasSuffix(n, ".ttf") || strings.HasSuffix(n, ".otf") {
			b, err := fontFS.ReadFile(path.Join("fonts", e.Name()))
			if err != nil {
				return "", nil, false
			}
			return e.Name(), b, true
		}
	}
	return "", nil, false
}
