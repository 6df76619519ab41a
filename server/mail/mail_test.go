package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/i18n"
)

func TestNew(t *testing.T) {
	for _, c := range []struct {
		url, from string
		addr      string // Addr(), "" when New must fail
		sender    string
	}{
		{"smtp://u:p@mail.example.org", "DevDay <a@example.org>", "mail.example.org:587 (STARTTLS)", "a@example.org"},
		{"smtp://mail.example.org:25", "a@example.org", "mail.example.org:25 (STARTTLS)", "a@example.org"},
		{"smtp://127.0.0.1:25", "a@example.org", "127.0.0.1:25 (STARTTLS if offered)", "a@example.org"},
		{"smtp://localhost", "a@example.org", "localhost:587 (STARTTLS if offered)", "a@example.org"},
		{"smtps://checkin%40example.org:p@mail.example.org", "", "mail.example.org:465 (TLS)", "checkin@example.org"},
		{"smtps://[::1]:1465", "a@example.org", "[::1]:1465 (TLS)", "a@example.org"},
		{"smtp://u:p@mail.example.org", "", "", ""}, // no sender
		{"smtp://u:p@mail.example.org", "not an address", "", ""},
		{"smtp://u:p@mail.example.org/path", "a@b.org", "", ""},
		{"smtp://u:p@mail.example.org?x=1", "a@b.org", "", ""},
		{"smtp://u:p@mail.example.org:99999", "a@b.org", "", ""},
		{"http://mail.example.org", "a@b.org", "", ""},
		{"mail.example.org", "a@b.org", "", ""},
	} {
		s, err := New(Config{URL: c.url, From: c.from})
		if c.addr == "" {
			if err == nil {
				t.Errorf("%s from %q: accepted", c.url, c.from)
			} else if strings.Contains(err.Error(), ":p@") {
				t.Errorf("%s: the error shows the password: %v", c.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got := s.Addr(); got != c.addr {
			t.Errorf("%s: Addr %q, want %q", c.url, got, c.addr)
		}
		if s.from.Address != c.sender {
			t.Errorf("%s: sender %q, want %q", c.url, s.from.Address, c.sender)
		}
	}
	if _, err := New(Config{URL: "smtp://h", From: "a@b.org", CAFile: "/nonexistent/ca.pem"}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ada.lovelace@example.org": "a…@example.org",
		"山田@example.jp":            "山…@example.jp",
		"x":                        "…",
		"@example.org":             "…",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCompose writes the e-mail in every language and checks what the
// attendee reads: the language's subject and texts, the links, the code,
// the QR code referred to by the HTML.
func TestCompose(t *testing.T) {
	r := Registration{To: "a@example.org", Name: "<Ada & Co>", EventName: "DevDay", ShortCode: "K7QF-2M9X",
		ConfirmURL: "https://c.example/register/e/confirm?t=abc&lang=x", ConfirmExpires: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC),
		WithdrawURL: "https://c.example/register/e/me/a?t=def", ResendURL: "https://c.example/register/e/resend"}
	for _, lang := range append(i18n.Languages(), "xx") {
		r.Lang = lang
		p := i18n.MustNew(lang)
		m, err := Compose(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := p.T("mail.subject.confirm", "DevDay"); m.Subject != want {
			t.Errorf("%s: subject %q, want %q", lang, m.Subject, want)
		}
		for _, want := range []string{p.T("mail.greeting", "<Ada & Co>"), "K7QF-2M9X", r.ConfirmURL, r.WithdrawURL, r.ResendURL} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s: text lacks %q:\n%s", lang, want, m.Text)
			}
		}
		if !strings.Contains(m.HTML, "&lt;Ada &amp; Co&gt;") || strings.Contains(m.HTML, "<Ada") {
			t.Errorf("%s: the name is not escaped in the HTML", lang)
		}
		if !strings.Contains(m.HTML, `href="https://c.example/register/e/confirm?t=abc&amp;lang=x"`) || !strings.Contains(m.HTML, `src="cid:`+QRCID+`"`) {
			t.Errorf("%s: HTML links or image:\n%s", lang, m.HTML)
		}
		if len(m.Inline) != 1 || m.Inline[0].CID != QRCID || !strings.HasPrefix(string(m.Inline[0].Data), "\x89PNG") {
			t.Errorf("%s: inline %+v", lang, m.Inline)
		}
	}
	r.ConfirmURL, r.Lang = "", "ko"
	m, err := Compose(r)
	if err != nil {
		t.Fatal(err)
	}
	p := i18n.MustNew("ko")
	if m.Subject != p.T("mail.subject.registered", "DevDay") || strings.Contains(m.Text, p.T("mail.confirm.action")) {
		t.Errorf("without confirmation: subject %q, text:\n%s", m.Subject, m.Text)
	}
}

// TestBuild: the go-mail message carries the sender, the recipient, both
// alternatives and the inline image.
func TestBuild(t *testing.T) {
	s, err := New(Config{URL: "smtps://mail.example.org", From: "DevDay <checkin@example.org>"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compose(Registration{To: "a@example.org", Lang: "ja", Name: "山田", EventName: "東京", ShortCode: "K7QF-2M9X",
		WithdrawURL: "https://c.example/w", ResendURL: "https://c.example/r"})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.build(m)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	for _, want := range []string{"From: \"DevDay\" <checkin@example.org>", "To: <a@example.org>", "multipart/alternative",
		"text/plain; charset=UTF-8", "text/html; charset=UTF-8", "Content-Id: <qr@facecheck>", "Auto-Submitted: auto-generated", "Message-ID: <"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%.1500s", want, raw)
		}
	}
	if from := msg.GetFromString(); len(from) != 1 || !strings.Contains(from[0], "checkin@example.org") {
		t.Errorf("from %q", from)
	}
}

// BenchmarkCompose is the cost of writing one registration e-mail (two
// templates and the QR code PNG), paid by the mail loop, not the request.
func BenchmarkCompose(b *testing.B) {
	r := Registration{To: "a@example.org", Lang: "ja", Name: "山田 花子", EventName: "東京", ShortCode: "K7QF-2M9X",
		ConfirmURL: "https://c.example/register/e/confirm?t=abc", ConfirmExpires: time.Now(),
		WithdrawURL: "https://c.example/w", ResendURL: "https://c.example/r"}
	for b.Loop() {
		if _, err := Compose(r); err != nil {
			b.Fatal(err)
		}
	}
}
