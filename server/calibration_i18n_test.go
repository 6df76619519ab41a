package server_test

import (
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

// getCalibrationIn is the calibration report as the event page of a
// browser in lang reads it.
func getCalibrationIn(t *testing.T, a *admin, eventID, lang string) server.Calibration {
	t.Helper()
	req := newJSONRequest(t, "GET", a.base+"/admin/events/"+eventID+"/calibration", nil)
	req.Header.Set("Accept-Language", lang)
	var c server.Calibration
	call(t, a.c, req, 200, &c)
	return c
}

// latinWord is a run of Latin letters: English in a Japanese or Korean text.
var latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)

// TestCalibrationLanguages: the calibration panel's notes, its false-reject
// note and its history of threshold changes (who, when, what) come in the
// reader's language, with the locale's dates and digit grouping; a
// change recorded before the history was worded shows its label and the
// detail as stored. The form's errors are in the reader's language too.
func TestCalibrationLanguages(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = time.Hour })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	var g calGallery
	g.add(t, s, 20, 1) // calibrated, but a small gallery: the note says it errs strict
	if th := settings(t, k); th.CalibratedAt.IsZero() {
		t.Fatalf("not calibrated: %+v", th)
	}
	base := "/admin/events/" + s.Event.ID + "/calibration"
	postForm(t, a, base+"/target", url.Values{"target_fpir": {"1e-4"}}, 200)
	postForm(t, a, base+"/pin", url.Values{"accept": {"0.3"}}, 200)
	pinned := settings(t, k)
	implied := getCalibration(t, a, s.Event.ID).ImpliedFPIR
	if implied == nil || *implied <= 0 || *implied >= 0.5 {
		t.Fatalf("pinned: implied rate %v", implied)
	}
	// A change audited before the history was worded.
	if err := s.DB.AddAudit(t.Context(), store.AuditEntry{Actor: "admin", Action: "thresholds.target", Target: s.Event.ID,
		Detail: "target 1 in 1,000 → 1 in 100,000"}); err != nil {
		t.Fatal(err)
	}
	postForm(t, a, base+"/unpin", url.Values{}, 200) // recalibrates: the history has every line above

	for _, lang := range i18n.Languages() {
		t.Run(lang, func(t *testing.T) {
			p := i18n.MustNew(lang)
			c := getCalibrationIn(t, a, s.Event.ID, lang)
			oneIn := func(n int) string { return p.T("web.calib.one_in", n) }
			if want := p.T("web.calib.note_small", 20, server.SmallGalleryAttendees); c.Note != want {
				t.Errorf("note %q, want %q", c.Note, want)
			}
			if want := p.T("web.calib.frr_none"); c.FRR.Note != want {
				t.Errorf("false-reject note %q, want %q", c.FRR.Note, want)
			}
			wantTexts := map[string]string{
				"target":  p.T("web.calib.hist_target", oneIn(1000), oneIn(10000)),
				"pin":     p.T("web.calib.hist_pin_implied", 0.3, float64(pinned.Confirm), oneIn(int(math.Round(1 / *implied)))),
				"unpin":   p.T("web.calib.hist_unpin", 0.3, float64(pinned.Confirm)),
				"old":     p.T("web.calib.action_target") + ": target 1 in 1,000 → 1 in 100,000",
				"recalib": p.T("web.calib.hist_calibrate", 20, 0.0, 0.0, 0.0, 0.0, oneIn(10000)),
			}
			got := map[string]bool{}
			for _, it := range c.History {
				if want := p.DateTime(it.At.Local()); it.When != want {
					t.Errorf("%s at %v: when %q, want %q", it.Action, it.At, it.When, want)
				}
				if it.Actor == "calibration" && it.Who != p.T("web.calib.actor_auto") || it.Actor == "admin" && it.Who != "admin" {
					t.Errorf("%s by %s: who %q", it.Action, it.Actor, it.Who)
				}
				for name, want := range wantTexts {
					if it.Text == want {
						got[name] = true
					}
				}
				// A recalibration's figures depend on the gallery: its wording up to the first figure.
				if it.Action == "thresholds.calibrate" && strings.HasPrefix(it.Text, strings.SplitN(wantTexts["recalib"], "0.000", 2)[0]) {
					got["recalib"] = true
				}
				if lang != "en" {
					if w := latinWord.FindAllString(it.Text, -1); len(w) > 0 && !strings.Contains(it.Text, "target 1 in 1,000") {
						t.Errorf("%s history line in English: %q (%q)", lang, it.Text, w)
					}
				}
			}
			for name := range wantTexts {
				if !got[name] {
					t.Errorf("no %s line %q in the history:\n%+v", name, wantTexts[name], c.History)
				}
			}
			if lang != "en" {
				for _, s := range []string{c.Note, c.FRR.Note} {
					if w := latinWord.FindAllString(s, -1); len(w) > 0 {
						t.Errorf("%s note in English: %q (%q)", lang, s, w)
					}
				}
			}

			// A refused target: the error page in the reader's language.
			form := url.Values{"target_fpir": {"0.5"}, "csrf_token": {a.csrf}}
			req, err := http.NewRequest("POST", a.base+base+"/target", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", lang)
			resp, err := a.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			body := string(b)
			if want := p.T("web.err.invalid_target"); resp.StatusCode != 422 || !strings.Contains(body, want) {
				t.Errorf("refused target: %d, want 422 with %q:\n%s", resp.StatusCode, want, body)
			}
		})
	}
}
