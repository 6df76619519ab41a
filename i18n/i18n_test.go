package i18n

import (
	"regexp"
	"slices"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// verbs are the printf verbs of a message, in order: translations must take
// the same arguments as the English text.
var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

func verbs(s string) []string { return verbRE.FindAllString(s, -1) }

// forms are the plural forms a message defines, by CLDR name.
func forms(m *goi18n.Message) map[string]string {
	out := map[string]string{}
	for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			out[name] = s
		}
	}
	return out
}

// TestCatalogueComplete fails when a key is missing in any language (or
// only there), a message is empty, a translation takes other arguments than
// the English text, or a plural message lacks a form the language's CLDR
// rule uses.
func TestCatalogueComplete(t *testing.T) {
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"en", "ja", "ko"}; !slices.Equal(c.langs, want) {
		t.Fatalf("languages %v, want %v", c.langs, want)
	}
	en := c.ids[Default]
	for _, lang := range c.langs {
		usesOne := plural.Cardinal.MatchPlural(language.Make(lang), 1, 0, 0, 0, 0) == plural.One
		msgs := c.ids[lang]
		for id, enMsg := range en {
			m, ok := msgs[id]
			if !ok {
				t.Errorf("%s: key %q missing", lang, id)
				continue
			}
			f := forms(m)
			if f["other"] == "" {
				t.Errorf("%s: %q has no text (no \"other\" form)", lang, id)
			}
			if usesOne && forms(enMsg)["one"] != "" && f["one"] == "" {
				t.Errorf("%s: %q lacks the plural form \"one\"", lang, id)
			}
			for name, s := range f {
				// A form other than "other" may leave the number out.
				if got, want := verbs(s), verbs(enMsg.Other); !slices.Equal(got, want) && (name == "other" || len(got) > 0) {
					t.Errorf("%s: %q (%s) has verbs %v, English has %v", lang, id, name, got, want)
				}
			}
		}
		for id := range msgs {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: key %q is not in the %s catalogue", lang, id, Default)
			}
		}
	}
}

func TestPrinter(t *testing.T) {
	en, ja, ko := MustNew("en"), MustNew("ja"), MustNew("ko")
	day := time.Date(2026, 12, 5, 9, 7, 0, 0, time.UTC)
	for _, tc := range []struct{ name, got, want string }{
		{"plural one", en.T("sync.offline", 1), "Offline — 1 check-in queued"},
		{"plural other", en.T("sync.offline", 3), "Offline — 3 check-ins queued"},
		{"grouping en", en.T("sync.offline", 7700), "Offline — 7,700 check-ins queued"},
		{"grouping ja", ja.T("sync.offline", 7700), "オフライン — 7,700 件のチェックインが送信待ち"},
		{"string arg", ko.T("welcome.title", "김민지"), "환영합니다, 김민지 님!"},
		{"no args", ja.T("confirm.yes"), "はい"},
		{"one without number", en.T("settings.invalid", 1), "Fix the marked setting first"},
		{"missing key", ja.T("no.such.key"), "no.such.key"},
		{"date en", en.Date(day), "5 Dec 2026"},
		{"date ja", ja.Date(day), "2026年12月5日"},
		{"datetime ko", ko.DateTime(day), "2026년 12월 5일 09:07"},
		{"number ko", ko.Number(1234567), "1,234,567"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if _, err := New("fr"); err == nil {
		t.Error(`New("fr"): no error for a language without a catalogue`)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"ja-JP,ja;q=0.9,en-US;q=0.8"}, "ja"},
		{[]string{"ko-KR"}, "ko"},
		{[]string{"en-GB,en;q=0.9"}, "en"},
		{[]string{"fr-FR, ko;q=0.3"}, "ko"},
		{[]string{"fr-FR"}, ""},
		{[]string{"", "garbage;;q=x", "ja"}, "ja"},
		{[]string{"ko", "ja"}, "ko"},
		{nil, ""},
	} {
		if got := Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
}

func TestFromLocale(t *testing.T) {
	for in, want := range map[string]string{
		"ja_JP.UTF-8": "ja", "ko_KR.utf8": "ko", "en_US.UTF-8": "en", "de_DE@euro": "",
		"C": "", "POSIX": "", "": "", "C.UTF-8": "",
	} {
		if got := FromLocale(in); got != want {
			t.Errorf("FromLocale(%q) = %q, want %q", in, got, want)
		}
	}
}
