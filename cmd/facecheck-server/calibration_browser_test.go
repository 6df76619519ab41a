package main

import (
	"fmt"
	"slices"
	"testing"
)

// assertCalibrationPanel changes the event's target through the event
// page's form (so the panel's history has lines) and checks the
// calibration panel as it reads in lang: the figures drawn by the page's
// script, the notes and the history in the language (ja and ko: no
// English word besides the admin's user name), and a full-page
// screenshot (event-calibration-LANG) to look at.
func assertCalibrationPanel(t *testing.T, b *browser, lang string) {
	t.Helper()
	ctx := b.ctx
	target := map[string]string{"en": "0.0001", "ja": "1e-05", "ko": "0.001"}[lang]
	b.evalString(ctx, fmt.Sprintf(`window.beforeTarget = true; document.getElementById("calib-target-select").value = %q; ""`, target))
	b.click(ctx, `#calib-target-form button`)
	b.waitFor(ctx, `window.beforeTarget === undefined && document.readyState === "complete" && document.getElementById("calibration") !== null && document.getElementById("calibration").dataset.ready === "1"`)
	if got := b.evalString(ctx, `document.getElementById("calib-target-select").value`); got != target {
		t.Errorf("%s: target %s after setting %s", lang, got, target)
	}
	if n := b.evalInt(ctx, `document.querySelectorAll("#calib-history li").length`); n < 1 {
		t.Errorf("%s: no history lines after a target change", lang)
	}
	if note := b.evalString(ctx, `document.getElementById("calib-note").textContent`); note == "" {
		t.Errorf("%s: no calibration note (too few attendees to calibrate)", lang)
	}
	b.screenshot(ctx, "event-calibration-"+lang)
	assertNotClipped(t, b, "event page")
	if lang == "en" {
		return
	}
	text := b.evalString(ctx, `(function () {
		var c = document.getElementById("calibration");
		var s = c.innerText;
		c.querySelectorAll("svg title").forEach(function (e) { s += "\n" + e.textContent; });
		return s;
	})()`)
	var bad []string
	for _, w := range asciiWord.FindAllString(text, -1) {
		if !slices.Contains(allowedLatin, w) && w != "admin" {
			bad = append(bad, w)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s calibration panel shows English words %q in:\n%s", lang, bad, text)
	}
	t.Logf("%s calibration panel:\n%s", lang, text)
}
