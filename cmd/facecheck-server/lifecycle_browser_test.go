package main

// The event's lifecycle in Chromium, in English and Japanese: an event is
// created on the dashboard with its last day and retention, its page shows
// the end-of-event section with Close and Delete, each behind a
// confirmation page; a closed event's registration page says so without a
// form. Screenshots (the page, and the section alone) go to
// $FACECHECK_ARTIFACTS/TestBrowserEventLifecycle/.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facecheck/facecheck/i18n"
)

func TestBrowserEventLifecycle(t *testing.T) {
	srv := startBrowserServer(t)
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			p := i18n.MustNew(lang)
			b := startBrowser(t, "--lang="+lang, "--accept-lang="+lang)
			ctx := b.ctx
			b.do("viewport", chromedp.EmulateViewport(1280, 800))
			b.navigate(ctx, srv.url+"/admin/")
			b.waitFor(ctx, `document.getElementById("login") !== null`)
			b.sendKeys(ctx, "#username", "admin")
			b.sendKeys(ctx, "#password", srv.password)
			b.click(ctx, "#login")
			b.waitFor(ctx, `location.pathname === "/admin/" && document.getElementById("new-ends-on") !== null`)

			// A new event with its last day and retention, from the dashboard.
			name := map[string]string{"en": "Lifecycle test", "ja": "終了テスト"}[lang]
			last := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
			b.evalString(ctx, fmt.Sprintf(`document.querySelector("input[name=name]").value = %q;
				document.getElementById("new-ends-on").value = %q;
				document.getElementById("new-retention").value = "45"; ""`, name, last))
			b.click(ctx, `form[action="/admin/events"] button`)
			b.waitFor(ctx, `location.pathname.startsWith("/admin/events/") && document.getElementById("lifecycle") !== null`)
			eventPath := b.evalString(ctx, `location.pathname`)
			if v := b.evalString(ctx, `document.getElementById("ends-on").value`); v != last {
				t.Errorf("last day on the event page %q, want %q", v, last)
			}
			if v := b.evalString(ctx, `document.getElementById("retention-days").value`); v != "45" {
				t.Errorf("retention on the event page %q, want 45", v)
			}
			for id, key := range map[string]string{"close-event": "web.admin.close_event", "delete-event": "web.admin.delete_event"} {
				if got := b.evalString(ctx, fmt.Sprintf(`document.getElementById(%q).textContent`, id)); got != p.T(key) {
					t.Errorf("#%s says %q, want %q", id, got, p.T(key))
				}
			}
			b.screenshot(ctx, "event-"+lang)
			b.elementShot("#lifecycle", "lifecycle-section-"+lang)
			assertSectionTranslated(t, b, lang, "#lifecycle")

			// Close: the confirmation page; Cancel goes back with the event open.
			b.click(ctx, "#close-event")
			b.waitFor(ctx, `document.getElementById("confirm-close") !== null`)
			b.screenshot(ctx, "close-confirm-"+lang)
			assertSectionTranslated(t, b, lang, "main")
			b.click(ctx, "#cancel")
			b.waitFor(ctx, `location.pathname === `+jsString(eventPath)+` && document.getElementById("close-event") !== null`)
			if b.evalBool(ctx, `document.getElementById("closed-banner") !== null`) {
				t.Fatal("Cancel closed the event")
			}
			b.click(ctx, "#close-event")
			b.waitFor(ctx, `document.getElementById("confirm-close") !== null`)
			b.click(ctx, "#confirm-close")
			b.waitFor(ctx, `location.pathname === `+jsString(eventPath)+` && document.getElementById("closed-banner") !== null`)
			if b.evalBool(ctx, `document.getElementById("close-event") !== null`) {
				t.Error("a closed event still offers Close")
			}
			b.elementShot("main", "event-closed-"+lang)

			// Its registration page says it is closed, without a form.
			regURL := srv.url + "/register/" + strings.TrimPrefix(eventPath, "/admin/events/")
			b.navigate(ctx, regURL)
			b.waitFor(ctx, `document.getElementById("message") !== null`)
			if got, want := b.evalString(ctx, `document.getElementById("message").textContent`), p.T("web.register.closed", name); got != want {
				t.Errorf("closed registration page says %q, want %q", got, want)
			}
			if n := b.evalInt(ctx, `document.querySelectorAll("form").length`); n != 0 {
				t.Errorf("closed registration page has %d forms", n)
			}
			b.screenshot(ctx, "register-closed-"+lang)

			// Delete: the confirmation page, then back to the list without it.
			b.navigate(ctx, srv.url+eventPath)
			b.waitFor(ctx, `document.getElementById("delete-event") !== null`)
			b.click(ctx, "#delete-event")
			b.waitFor(ctx, `document.getElementById("confirm-delete") !== null`)
			b.screenshot(ctx, "delete-confirm-"+lang)
			b.click(ctx, "#confirm-delete")
			b.waitFor(ctx, `location.pathname === "/admin/" && document.getElementById("events") !== null`)
			if txt := b.evalString(ctx, `document.getElementById("events").textContent`); strings.Contains(txt, name) {
				t.Errorf("the deleted event is still listed: %q", txt)
			}
		})
	}
}

// elementShot saves a PNG of one element (a section of a long page).
func (b *browser) elementShot(sel, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.nshot++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.nshot, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot %s", path)
}

// assertSectionTranslated fails when the element's visible text holds a
// Latin word outside allowedLatin on a page that is not in English.
func assertSectionTranslated(t *testing.T, b *browser, lang, sel string) {
	t.Helper()
	if lang == "en" {
		return
	}
	// The admin's user name (the bar) is data, not language.
	text := b.evalString(b.ctx, fmt.Sprintf(`(function () {
		var c = document.querySelector(%q).cloneNode(true);
		c.querySelectorAll(".bar span").forEach(function (e) { e.remove(); });
		document.body.appendChild(c); var s = c.innerText; c.remove(); return s;
	})()`, sel))
	var bad []string
	for _, w := range asciiWord.FindAllString(text, -1) {
		if !slices.Contains(allowedLatin, w) {
			bad = append(bad, w)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %s shows English words %q in:\n%s", lang, sel, bad, text)
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }
