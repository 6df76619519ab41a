// Package i18n is the one message catalogue of the kiosk and the server:
// go-i18n bundles loaded from the embedded assets/i18n/*.json files (one per
// language, the same key in every file), CLDR plural rules, and locale
// formatting of numbers and dates. It imports neither Fyne nor gocv, so the
// kiosk's screens, its headless runner and the server's pages all use it.
//
// Messages are printf formats ("Welcome, %s!"). A message with plural forms
// ({"one": "…", "other": "…"}) picks its form by the first integer argument
// under the language's CLDR rule; arguments are formatted by
// golang.org/x/text/message, so numbers get the locale's digit grouping.
package i18n

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/facecheck/facecheck/assets"
)

// Default is the language used when nothing else matches, and the one every
// other catalogue is checked against.
const Default = "en"

// catalogue is the bundle of every language in assets/i18n, parsed once.
type catalogue struct {
	bundle  *goi18n.Bundle
	langs   []string
	tags    []language.Tag
	matcher language.Matcher
	ids     map[string]map[string]*goi18n.Message // lang → id → message
}

var load = sync.OnceValues(func() (*catalogue, error) {
	c := &catalogue{bundle: goi18n.NewBundle(language.English), ids: map[string]map[string]*goi18n.Message{}}
	codes := assets.Languages()
	// The default language first: the matcher falls back to the first tag.
	sort.SliceStable(codes, func(i, j int) bool { return codes[i] == Default && codes[j] != Default })
	for _, code := range codes {
		b, err := assets.Translation(code)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		f, err := c.bundle.ParseMessageFileBytes(b, code+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: catalogue %s: %w", code, err)
		}
		m := map[string]*goi18n.Message{}
		for _, msg := range f.Messages {
			m[msg.ID] = msg
		}
		c.ids[code] = m
		c.langs = append(c.langs, code)
		c.tags = append(c.tags, f.Tag)
	}
	if _, ok := c.ids[Default]; !ok {
		return nil, fmt.Errorf("i18n: no %s catalogue in assets/i18n", Default)
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
})

// Languages lists the language codes with a catalogue, the default first.
func Languages() []string {
	c, err := load()
	if err != nil {
		return []string{Default}
	}
	return append([]string(nil), c.langs...)
}

// Supported reports whether lang has a catalogue.
func Supported(lang string) bool {
	c, err := load()
	if err != nil {
		return lang == Default
	}
	_, ok := c.ids[lang]
	return ok
}

// Match returns the supported language that best fits the preferences,
// each an Accept-Language header value or a language tag ("ja-JP",
// "ko;q=0.8, en"); earlier arguments win. It returns "" when none of them
// names a supported language, so a caller can fall through to its own
// default.
func Match(prefs ...string) string {
	c, err := load()
	if err != nil {
		return ""
	}
	for _, p := range prefs {
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 512 {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, i, conf := c.matcher.Match(tags...)
		if conf != language.No {
			return c.langs[i]
		}
	}
	return ""
}

// FromLocale maps a POSIX locale ("ja_JP.UTF-8", "ko_KR", "C") to a
// supported language, or "" for C/POSIX and unsupported languages.
func FromLocale(locale string) string {
	locale, _, _ = strings.Cut(locale, ".")
	locale, _, _ = strings.Cut(locale, "@")
	if locale == "" || locale == "C" || locale == "POSIX" {
		return ""
	}
	return Match(strings.ReplaceAll(locale, "_", "-"))
}

// Printer renders the messages of one language.
type Printer struct {
	lang string
	loc  *goi18n.Localizer
	msgs map[string]*goi18n.Message
	num  *message.Printer
}

// New returns the printer for lang, or an error for a language without a
// catalogue (or a broken catalogue).
func New(lang string) (*Printer, error) {
	c, err := load()
	if err != nil {
		return nil, err
	}
	msgs, ok := c.ids[lang]
	if !ok {
		return nil, fmt.Errorf("i18n: no catalogue for language %q (have %s)", lang, strings.Join(c.langs, ", "))
	}
	tag := language.Make(lang)
	return &Printer{lang: lang, loc: goi18n.NewLocalizer(c.bundle, lang, Default), msgs: msgs, num: message.NewPrinter(tag)}, nil
}

// MustNew is New for languages known to exist (Default, or one that
// Supported accepted); it falls back to Default rather than failing.
func MustNew(lang string) *Printer {
	if p, err := New(lang); err == nil {
		return p
	}
	p, err := New(Default)
	if err != nil {
		panic(err) // the embedded catalogue is broken: a build defect
	}
	return p
}

// Lang is the printer's language code.
func (p *Printer) Lang() string { return p.lang }

// Has reports whether key is in this language's catalogue itself (not
// through the fallback to the default language).
func (p *Printer) Has(key string) bool { _, ok := p.msgs[key]; return ok }

// T returns the message for key formatted with args. A key missing in the
// language falls back to the default language, then to the key itself, so
// a missing string shows up as its key rather than as an empty label.
func (p *Printer) T(key string, args ...any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: key, TemplateParser: template.IdentityParser{}}
	if n, ok := firstCount(args); ok {
		cfg.PluralCount = n
	}
	s, err := p.loc.Localize(cfg)
	if s == "" && err != nil {
		s = key
	}
	if len(args) == 0 || !strings.Contains(s, "%") {
		return s // a plural form may leave out the number ("one setting")
	}
	return p.num.Sprintf(s, args...)
}

// firstCount is the first integer argument: the count a plural message
// agrees with.
func firstCount(args []any) (int64, bool) {
	for _, a := range args {
		switch n := a.(type) {
		case int:
			return int64(n), true
		case int64:
			return n, true
		case int32:
			return int64(n), true
		case uint:
			return int64(n), true
		case uint64:
			return int64(n), true
		}
	}
	return 0, false
}

// Number formats n with the locale's digit grouping ("7,700").
func (p *Printer) Number(n any) string { return p.num.Sprint(n) }

// Date formats t as a date in the locale ("5 Dec 2026", "2026年12月5日").
func (p *Printer) Date(t time.Time) string { return t.Format(p.T("format.date")) }

// DateTime formats t as date and time of day in the locale.
func (p *Printer) DateTime(t time.Time) string { return t.Format(p.T("format.datetime")) }

// Messages returns the messages whose key starts with prefix, for a
// page's scripts: key → text, or key → plural forms ("one", "other", …)
// for a plural message. Keys missing in the language come from the
// default language.
func (p *Printer) Messages(prefix string) map[string]any {
	c, err := load()
	if err != nil {
		return nil
	}
	out := map[string]any{}
	for _, lang := range []string{Default, p.lang} {
		for id, m := range c.ids[lang] {
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			forms := map[string]string{}
			for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
				if s != "" {
					forms[name] = s
				}
			}
			if len(forms) == 1 {
				out[id] = m.Other
			} else {
				out[id] = forms
			}
		}
	}
	return out
}
