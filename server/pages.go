package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/facecheck/facecheck/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds the parsed HTML templates, one set per page, each with the
// shared layout.
type pages struct {
	t map[string]*template.Template
}

// templateFuncs are placeholders for parsing; render binds them to the
// request's language (pageFuncs) on a clone of the page.
var templateFuncs = pageFuncs(i18n.MustNew(i18n.Default), nil)

// langLink is one entry of the language switcher.
type langLink struct {
	Code, Name, Href string
	Current          bool
}

// pageFuncs are the template functions in the language of p: t (a
// catalogue message), num, time, clock, timep, lang, langs (the switcher)
// and jsmsgs (the web.js.* messages for the pages' scripts).
func pageFuncs(p *i18n.Printer, r *http.Request) template.FuncMap {
	return template.FuncMap{
		"t":     p.T,
		"tv":    func(key string, args []any) string { return p.T(key, args...) },
		"num":   p.Number,
		"time":  func(t time.Time) string { return p.DateTime(t.Local()) },
		"clock": func(t time.Time) string { return t.Local().Format("15:04:05") },
		"timep": func(t *time.Time) string {
			if t == nil {
				return p.T("web.admin.never")
			}
			return p.DateTime(t.Local())
		},
		"lang":   p.Lang,
		"langs":  func() []langLink { return langLinks(p.Lang(), r) },
		"jsmsgs": func() map[string]any { return p.Messages("web.js.") },
	}
}

// langLinks link the page itself in every language (?lang=, kept in a
// cookie by pageLang), keeping the rest of the query (the registration
// page's token).
func langLinks(current string, r *http.Request) []langLink {
	var out []langLink
	for _, code := range i18n.Languages() {
		l := langLink{Code: code, Name: i18n.MustNew(code).T("lang.name"), Current: code == current}
		if r != nil {
			q := r.URL.Query()
			q.Set("lang", code)
			l.Href = r.URL.Path + "?" + q.Encode()
		}
		out = append(out, l)
	}
	return out
}

// langCookie remembers the language a visitor chose with the switcher.
const langCookie = "facecheck_lang"

// eventLanguager is a page that belongs to an event, whose default
// language applies when the visitor's own preferences do not decide.
type eventLanguager interface{ eventLanguage() string }

// pageLang picks a page's language: the switcher's ?lang= (then
// remembered in a cookie), the cookie, the browser's Accept-Language, the
// event's default language (settingLanguage), English.
func (s *Server) pageLang(w http.ResponseWriter, r *http.Request, eventDefault string) string {
	if q := r.URL.Query().Get("lang"); q != "" && i18n.Supported(q) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && i18n.Supported(c.Value) {
		return c.Value
	}
	if l := i18n.Match(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	if i18n.Supported(eventDefault) {
		return eventDefault
	}
	return i18n.Default
}

// settingLanguage is the event setting that holds its default language:
// the same key as the kiosk's language setting, so paired kiosks get it as
// their server default.
const settingLanguage = "process.language"

// printer is the catalogue in the request's language (no event default).
func (s *Server) printer(w http.ResponseWriter, r *http.Request) *i18n.Printer {
	return i18n.MustNew(s.pageLang(w, r, ""))
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, n := range names {
		name := n[len("templates/"):]
		if name == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := s.pages.t[page]
	if !ok {
		s.renderInternal(w, r, fmt.Errorf("no page %q", page))
		return
	}
	var evLang string
	if el, ok := data.(eventLanguager); ok {
		evLang = el.eventLanguage()
	}
	p := i18n.MustNew(s.pageLang(w, r, evLang))
	t, err := t.Clone()
	if err != nil {
		s.renderInternal(w, r, fmt.Errorf("clone %s: %w", page, err))
		return
	}
	t.Funcs(pageFuncs(p, r))
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.renderInternal(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.logger.Debug("write page", "page", page, "err", err)
	}
}

// messagePage is a page with a title and one message: errors, "deleted".
// Title and Message are catalogue keys (text that is not a key shows as
// it is); Args fill the message's verbs.
type messagePage struct {
	Title   string
	Message string
	Args    []any
	Status  int
	// EventLang is the event's default language, when the page has one.
	EventLang string
	// Link, when set, is shown under the message as LinkText (a key).
	Link, LinkText string
}

func (p messagePage) eventLanguage() string { return p.EventLang }

// statusTitle is the catalogue key of an error page's title.
func statusTitle(status int) string {
	switch status {
	case 400, 403, 404, 429, 500:
		return fmt.Sprintf("web.status.%d", status)
	}
	return "web.status.other"
}

// renderError answers a browser with a friendly error page; msg is a
// catalogue key.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "message.html", messagePage{Title: statusTitle(status), Message: msg, Status: status})
}

// renderInternal logs err and answers a browser with a bare error page.
func (s *Server) renderInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	p := s.printer(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "<!doctype html><html lang=\"%s\"><meta charset=\"utf-8\"><title>%s</title><p>%s</p>",
		p.Lang(), template.HTMLEscapeString(p.T("web.status.500")), template.HTMLEscapeString(p.T("web.err.internal")))
}

// renderErr answers err as a page: an *Error with its status and message,
// anything else as internal.
func (s *Server) renderErr(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problemOf(err)
	if internal {
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, p.Status, "message.html", messagePage{Title: statusTitle(p.Status), Message: errMessage(&Error{Code: p.Code, Detail: p.Detail}), Status: p.Status})
}

// errMessage is what a page shows for e: the catalogue's web.err.<code>
// when there is one, else the error's own (English) text.
func errMessage(e *Error) string {
	if i18n.MustNew(i18n.Default).Has("web.err." + e.Code) {
		return "web.err." + e.Code
	}
	return e.Detail
}
