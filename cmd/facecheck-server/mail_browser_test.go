package main

// The confirmation e-mail seen as a Japanese attendee sees it: the server
// started with --smtp against a real SMTP server on 127.0.0.1, a
// registration in Japanese, the e-mail's HTML shown in Chromium (its QR
// code inlined as the mail client would), then the confirmation page its
// link opens, on a phone and a 1280×800 screen, and the page after
// confirming. Screenshots go to $FACECHECK_ARTIFACTS/TestBrowserConfirmEmail/.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/internal/smtptest"
	"github.com/facecheck/facecheck/internal/testenv"
)

func TestBrowserConfirmEmail(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not installed: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	testenv.Models(t)
	faces := testenv.Faces(t)
	smtpd := smtptest.Start(t, false)
	const public = "https://checkin.example.test"
	t.Setenv("FACECHECK_SMTP", smtpd.URL("smtp")) // the password stays out of the command line
	t.Setenv("FACECHECK_ADMIN_PASSWORD", "browser-test-password")
	m, out := runMain(t, t.TempDir(), "--event", "東京テック会議", "--engines", "1",
		"--smtp-from", "東京テック会議 <checkin@example.test>", "--smtp-ca", smtpd.CAFile, "--public-url", public)
	t.Cleanup(func() { m.Close() })
	if !strings.Contains(out, "registration e-mails go out through 127.0.0.1:") || strings.Contains(out, smtptest.Password) {
		t.Fatalf("start-up lines:\n%s", out)
	}
	reg := regexp.MustCompile(`/register/\S+`).FindString(out)
	if reg == "" {
		t.Fatalf("no registration URL in:\n%s", out)
	}
	srv := &browserServer{m: m, url: m.Server.URL(), registerURL: m.Server.URL() + reg + "?lang=ja", faces: faces,
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	resp := srv.postRegistration(t, "佐藤 花子", "hanako@example.com", "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/sent") {
		t.Fatalf("registration: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	mail := smtptest.Parse(t, smtpd.Wait(t, 1)[0].Data)
	p := i18n.MustNew("ja")
	if want := p.T("mail.subject.confirm", "東京テック会議"); mail.Subject != want {
		t.Errorf("subject %q, want %q", mail.Subject, want)
	}
	html := string(mail.Part(t, "text/html").Body)
	qr := mail.Part(t, "image/png").Body
	link := regexp.MustCompile(`href="(` + regexp.QuoteMeta(public) + `/register/[^"]+/confirm\?[^"]+)"`).FindStringSubmatch(html)
	if link == nil {
		t.Fatalf("no confirmation link in:\n%s", html)
	}
	confirm, err := url.Parse(strings.ReplaceAll(link[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t, "--lang=ja", "--accept-lang=ja")
	ctx := b.ctx
	// The e-mail as a mail client shows it: the cid: image inlined.
	mailFile := filepath.Join(t.TempDir(), "mail.html")
	shown := strings.ReplaceAll(html, "cid:qr@facecheck", "data:image/png;base64,"+base64.StdEncoding.EncodeToString(qr))
	if err := os.WriteFile(mailFile, []byte(shown), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, vp := range viewports {
		b.do("viewport", chromedp.EmulateViewport(vp.w, vp.h))
		b.navigate(ctx, "file://"+mailFile)
		if !b.evalBool(ctx, `document.getElementById("qr").naturalWidth > 0`) {
			t.Error("the e-mail's QR code does not show")
		}
		b.screenshot(ctx, "mail-ja-"+vp.name)
		assertNotClipped(t, b, "mail "+vp.name)
	}
	for _, vp := range viewports {
		b.do("viewport", chromedp.EmulateViewport(vp.w, vp.h))
		b.navigate(ctx, srv.url+confirm.RequestURI())
		if got := b.evalString(ctx, `document.documentElement.lang`); got != "ja" {
			t.Fatalf("confirmation page in %q", got)
		}
		if got, want := b.evalString(ctx, `document.querySelector("h1").textContent`), p.T("web.confirm.heading", "佐藤 花子"); got != want {
			t.Errorf("heading %q, want %q", got, want)
		}
		b.screenshot(ctx, fmt.Sprintf("confirm-ja-%s", vp.name))
		assertNotClipped(t, b, "confirm "+vp.name)
		assertNoEnglish(t, b, "ja", "confirmation")
	}
	b.click(ctx, "#confirm-button")
	b.waitFor(ctx, `document.getElementById("message") !== null && document.readyState === "complete"`)
	if got, want := b.evalString(ctx, `document.getElementById("message").textContent`), p.T("web.confirmed.message", "佐藤 花子", "東京テック会議"); got != want {
		t.Errorf("after confirming: %q, want %q", got, want)
	}
	b.screenshot(ctx, "confirmed-ja-1280x800")
	assertNoEnglish(t, b, "ja", "confirmed")
}
