package main

// The pages in English, Japanese and Korean in Chromium: a browser per
// language (its UI language and Accept-Language set, as a visitor's own
// browser would be), the registration page on a 390 px phone and a
// 1280×800 screen, a real registration, the dashboard and event page.
// Screenshots go to $FACECHECK_ARTIFACTS/TestBrowserLanguages/ (else a
// temp dir): look at them for tofu and clipped text.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/facecheck/facecheck/i18n"
)

// viewports are a phone (390 px wide, CSS pixels) and a kiosk-sized screen.
var viewports = []struct {
	name string
	w, h int64
}{{"phone390", 390, 844}, {"1280x800", 1280, 800}}

// asciiWord is a run of Latin letters: English a reader would need.
var asciiWord = regexp.MustCompile(`[A-Za-z][A-Za-z'’-]+`)

// allowedLatin are the Latin words a Japanese or Korean page may show:
// the product name, file formats, units, the event's and people's own
// names, the switcher's "English".
var allowedLatin = []string{"facecheck", "JPEG", "PNG", "MB", "QR", "English", "Browser", "test", "event",
	"Colin", "Powell", "colin", "example", "com", "docs", "accuracy", "md", "name", "email", "info", "CSV", "PIN", "min", "smtp"}

// assertNoEnglish fails when the page's visible text (what a person reads:
// innerText, placeholders, button labels) holds a Latin word outside
// allowedLatin or any English catalogue text longer than one word.
func assertNoEnglish(t *testing.T, b *browser, lang, page string) {
	t.Helper()
	// Data is not language: short codes, links, the admin's user name.
	text := b.evalString(b.ctx, `(function () {
		var c = document.body.cloneNode(true);
		c.querySelectorAll("#short-code, a[href^='/register/'], .bar span").forEach(function (e) { e.remove(); });
		document.body.appendChild(c); var s = c.innerText; c.remove();
		return s + "\n" + Array.from(document.querySelectorAll("[placeholder]")).map(function (e) { return e.placeholder; }).join("\n");
	})()`)
	var bad []string
	for _, w := range asciiWord.FindAllString(text, -1) {
		if !slices.Contains(allowedLatin, w) {
			bad = append(bad, w)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s %s page shows English words %q in:\n%s", lang, page, bad, text)
	}
	en := i18n.MustNew("en")
	for _, key := range []string{"web.register.intro", "web.register.submit", "web.registered.keep", "web.admin.new_event", "web.register.take_photo"} {
		if s := en.T(key); strings.Contains(s, " ") && strings.Contains(text, s) {
			t.Errorf("%s %s page shows the English %q", lang, page, s)
		}
	}
}

// assertNotClipped fails when the page is wider than the viewport (text
// cut off or a horizontal scroll on a phone) or an element's text
// overflows its box.
func assertNotClipped(t *testing.T, b *browser, what string) {
	t.Helper()
	if sw, w := b.evalInt(b.ctx, `document.documentElement.scrollWidth`), b.evalInt(b.ctx, `window.innerWidth`); sw > w {
		t.Errorf("%s: page is %d px wide in a %d px viewport", what, sw, w)
	}
	var over []string
	b.eval(b.ctx, `Array.from(document.querySelectorAll("h1,h2,p,label,button,th,td,legend,a")).filter(function (e) {
		var s = getComputedStyle(e); return s.overflow !== "visible" && e.scrollWidth > e.clientWidth + 1;
	}).map(function (e) { return e.tagName + ": " + e.textContent.slice(0, 40); })`, &over)
	if len(over) > 0 {
		t.Errorf("%s: text overflows %q", what, over)
	}
}

func TestBrowserLanguages(t *testing.T) {
	srv := startBrowserServer(t)
	people := map[string]struct{ name, email, photo string }{
		"en": {"Amelie Mauresmo", "amelie@example.com", firstImage(t, srv.faces, "amelie_mauresmo")},
		"ja": {"佐藤 花子", "hanako@example.com", "images/colin_powell/lfw_Colin_Powell_0001.jpg"},
		"ko": {"김민지", "minji@example.com", firstImage(t, srv.faces, "bill_clinton")},
	}
	for _, lang := range i18n.Languages() {
		t.Run(lang, func(t *testing.T) {
			b := startBrowser(t, "--lang="+lang, "--accept-lang="+lang)
			ctx := b.ctx
			p := i18n.MustNew(lang)
			for _, vp := range viewports {
				b.do("viewport", chromedp.EmulateViewport(vp.w, vp.h))
				b.navigate(ctx, srv.registerURL)
				if got := b.evalString(ctx, `document.documentElement.lang`); got != lang {
					t.Fatalf("page language %q, want %q (Accept-Language %s)", got, lang, lang)
				}
				if h1, want := b.evalString(ctx, `document.querySelector("h1").textContent`), p.T("web.register.title", "Browser test event"); h1 != want {
					t.Errorf("heading %q, want %q", h1, want)
				}
				b.screenshot(ctx, fmt.Sprintf("register-%s-%s", lang, vp.name))
				assertNotClipped(t, b, "register "+vp.name)
				if lang != "en" {
					assertNoEnglish(t, b, lang, "registration")
				}
			}

			// A validation error, then a real registration, on the phone.
			b.do("viewport", chromedp.EmulateViewport(390, 844))
			who := people[lang]
			b.navigate(ctx, srv.registerURL)
			b.evalString(ctx, fmt.Sprintf(`document.getElementById("name").value = %q; document.getElementById("email").value = %q; ""`, who.name, who.email))
			b.setUploadFiles(ctx, "#photo", filepath.Join(srv.faces, who.photo))
			b.evalString(ctx, `document.getElementById("consent").required = false; ""`) // let the server say it
			b.click(ctx, "#submit")
			b.waitFor(ctx, `document.getElementById("error") !== null && document.readyState === "complete" && document.documentElement.clientWidth > 0`)
			if got, want := b.evalString(ctx, `document.getElementById("error").textContent`), p.T("web.err.consent"); got != want {
				t.Errorf("consent error %q, want %q", got, want)
			}
			b.screenshot(ctx, fmt.Sprintf("register-error-%s-phone390", lang))
			b.setUploadFiles(ctx, "#photo", filepath.Join(srv.faces, who.photo))
			b.click(ctx, "#consent")
			b.click(ctx, "#submit")
			b.assertConfirmation(ctx, who.name)
			if h1, want := b.evalString(ctx, `document.querySelector("h1").textContent`), p.T("web.registered.heading", who.name); h1 != want {
				t.Errorf("confirmation heading %q, want %q", h1, want)
			}
			b.screenshot(ctx, fmt.Sprintf("registered-%s-phone390", lang))
			assertNotClipped(t, b, "registered phone390")
			if lang != "en" {
				assertNoEnglish(t, b, lang, "confirmation")
			}

			// The dashboard and the event page on a 1280×800 screen.
			b.do("viewport", chromedp.EmulateViewport(1280, 800))
			b.navigate(ctx, srv.url+"/admin/")
			b.waitFor(ctx, `document.getElementById("login") !== null`)
			b.sendKeys(ctx, "#username", "admin")
			b.sendKeys(ctx, "#password", srv.password)
			b.click(ctx, "#login")
			b.waitFor(ctx, `location.pathname === "/admin/" && document.getElementById("events") !== null`)
			b.screenshot(ctx, "dashboard-"+lang)
			assertNotClipped(t, b, "dashboard")
			if lang != "en" {
				assertNoEnglish(t, b, lang, "dashboard")
			}
			b.click(ctx, `#events a[href^="/admin/events/"]`)
			b.waitFor(ctx, `document.getElementById("live") !== null && document.getElementById("calibration").dataset.ready === "1"`)
			b.screenshot(ctx, "event-"+lang)
			assertCalibrationPanel(t, b, lang)

			// The switcher: one click to English, remembered on the next page.
			if lang != "en" {
				b.navigate(ctx, srv.registerURL)
				b.click(ctx, `#langs a[hreflang="en"]`)
				b.waitFor(ctx, `document.documentElement.lang === "en" && document.readyState === "complete"`)
				b.navigate(ctx, srv.registerURL)
				if got := b.evalString(ctx, `document.documentElement.lang`); got != "en" {
					t.Errorf("after choosing English the page is in %q", got)
				}
			}
		})
	}
}
