package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"
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

var templateFuncs = template.FuncMap{
	"time":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"clock": func(t time.Time) string { return t.Local().Format("15:04:05") },
	"timep": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
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
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.renderInternal(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		s.logger.Debug("write page", "page", page, "err", err)
	}
}

// messagePage is a page with a title and one message: errors, "deleted".
type messagePage struct {
	Title   string
	Message string
	Status  int
}

// renderError answers a browser with a friendly error page.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "message.html", messagePage{Title: http.StatusText(status), Message: msg, Status: status})
}

// renderInternal logs err and answers a browser with a bare error page.
func (s *Server) renderInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, "<!doctype html><title>Error</title><p>Something went wrong on our side. Please try again.</p>")
}

// renderErr answers err as a page: an *Error with its status and message,
// anything else as internal.
func (s *Server) renderErr(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problemOf(err)
	if internal {
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, p.Status, "message.html", messagePage{Title: p.Title, Message: p.Detail, Status: p.Status})
}
