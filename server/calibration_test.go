package server_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

// unitTemplate is a random unit vector quantised like the engine does
// (largest component ±127), on the wire as value+128.
func unitTemplate(seed uint64) api.Template {
	r := rand.New(rand.NewPCG(seed, 7))
	v := make([]float64, server.TemplateDim)
	var maxAbs float64
	for i := range v {
		v[i] = r.NormFloat64()
		maxAbs = math.Max(maxAbs, math.Abs(v[i]))
	}
	b := make([]byte, server.TemplateDim)
	for i, x := range v {
		b[i] = byte(int(math.Round(x*127/maxAbs)) + 128)
	}
	return api.Template{Model: testModel, Version: 1, Data: b}
}

// calGallery adds attendees with random templates to the event and
// returns them with their templates.
type calGallery struct {
	ids    []string
	bytes  [][]byte   // first template of each
	people [][][]byte // all templates of each
}

func (g *calGallery) add(t *testing.T, s *testServer, n int, seed uint64, extra ...api.Template) {
	t.Helper()
	for i := range n {
		tp := unitTemplate(seed + uint64(i))
		reg, err := s.DB.CreateAttendee(context.Background(), store.AttendeeCreate{
			EventID: s.Event.ID, Name: fmt.Sprintf("Person %d", seed+uint64(i)), Consent: true,
			Templates: append([]api.Template{tp}, extra...),
		})
		if err != nil {
			t.Fatal(err)
		}
		all := [][]byte{tp.Data}
		for _, x := range extra {
			all = append(all, x.Data)
		}
		extra = nil
		g.ids = append(g.ids, reg.Attendee.ID)
		g.bytes = append(g.bytes, tp.Data)
		g.people = append(g.people, all)
	}
}

// expected is what calibration should give for the gallery's templates.
func (g *calGallery) expected(target float64) (accept, confirm float64, tail calibrate.Tail) {
	tail = calibrate.Fit(calibrate.ImpostorsBytes(g.people, 0, 0))
	accept, confirm = calibrate.Thresholds(tail, target, len(g.bytes))
	return accept, confirm, tail
}

func getCalibration(t *testing.T, a *admin, eventID string) server.Calibration {
	t.Helper()
	var c server.Calibration
	a.json(t, "GET", "/admin/events/"+eventID+"/calibration", nil, 200, &c)
	return c
}

func settings(t *testing.T, k *kiosk) api.Thresholds {
	t.Helper()
	var st api.EventSettings
	k.json(t, "GET", "/v1/settings", nil, 200, &st)
	return st.Thresholds
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// postForm posts a dashboard form with the session's CSRF token and
// follows the redirect back to the event page.
func postForm(t *testing.T, a *admin, path string, form url.Values, want int) string {
	t.Helper()
	form.Set("csrf_token", a.csrf)
	resp, body := do(t, a.c, "POST", a.base+path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	return body
}

func TestCalibrationRecompute(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = time.Minute })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	var g calGallery

	// Too few attendees: the defaults stay, and the panel says why.
	g.add(t, s, 3, 1)
	th := settings(t, k)
	d := store.DefaultThresholds
	if th.Accept != d.Accept || th.Confirm != d.Confirm || !th.CalibratedAt.IsZero() || th.Pinned || th.GallerySize != 3 {
		t.Fatalf("3 attendees: %+v, want defaults", th)
	}
	c := getCalibration(t, a, s.Event.ID)
	if c.Status != server.CalibrationTooFew || !strings.Contains(c.Note, fmt.Sprintf("at least %d", server.MinCalibrationAttendees)) || c.Pairs != 3 || c.CalibratedAccept != nil {
		t.Fatalf("too few: %+v", c)
	}

	// The gallery grows: within the debounce interval the old thresholds
	// stay (reported as stale), after it they are recalibrated.
	g.add(t, s, 57, 100)
	if th := settings(t, k); th.Accept != d.Accept {
		t.Fatalf("recalibrated within the debounce interval: %+v", th)
	}
	if c := getCalibration(t, a, s.Event.ID); !c.Stale || c.Pairs != 3 {
		t.Fatalf("debounced report: stale %v, pairs %d", c.Stale, c.Pairs)
	}
	s.Clock.Add(61 * time.Second)
	th = settings(t, k)
	wantA, wantC, tail := g.expected(server.DefaultTargetFPIR)
	if th.Pinned || th.CalibratedAt.IsZero() || th.GallerySize != 60 || th.TargetFPIR != server.DefaultTargetFPIR ||
		!near(float64(th.Accept), wantA, 1e-6) || !near(float64(th.Confirm), wantC, 1e-6) || th.Confirm > th.Accept {
		t.Fatalf("calibrated %+v, want accept %.4f confirm %.4f", th, wantA, wantC)
	}
	// Random 512-d unit vectors: cos ~ N(0, 1/sqrt(512)) = N(0, 0.044);
	// 1e-3 per check-in over 60 attendees is ~1.7e-5 per comparison, ~4 sd.
	if th.Accept < 0.1 || th.Accept > 0.3 {
		t.Errorf("accept %.3f outside the plausible range for random templates", th.Accept)
	}
	t.Logf("60 random attendees: accept %.3f, confirm %.3f", th.Accept, th.Confirm)
	c = getCalibration(t, a, s.Event.ID)
	if c.Status != server.CalibrationCalibrated || c.Note != "" || c.Stale || c.Pairs != 60*59/2 || c.Sampled || c.Attendees != 60 {
		t.Fatalf("report: %+v", c)
	}
	// The implied rate of the calibrated accept threshold is the target.
	if c.ImpliedFPIR == nil || !near(*c.ImpliedFPIR, server.DefaultTargetFPIR, 2e-5) {
		t.Errorf("implied FPIR %v, want %v", c.ImpliedFPIR, server.DefaultTargetFPIR)
	}
	if r := calibrate.RateAt(tail, float64(th.Accept), 60); !near(*c.ImpliedFPIR, r, 1e-12) {
		t.Errorf("implied FPIR %v, RateAt %v", *c.ImpliedFPIR, r)
	}
	total := 0
	for _, n := range c.Histogram.Counts {
		total += n
	}
	if total != c.Pairs || c.Histogram.Width <= 0 || c.Histogram.Start > -0.1 ||
		c.Histogram.Start+float64(len(c.Histogram.Counts))*c.Histogram.Width < float64(th.Accept) {
		t.Errorf("histogram %+v does not hold all pairs and the accept line", c.Histogram)
	}
	if c.FRR.Estimable || !strings.Contains(c.FRR.Note, "not estimable") {
		t.Errorf("FRR without multi-template attendees: %+v", c.FRR)
	}
	if len(c.History) == 0 || c.History[0].Action != "thresholds.calibrate" || c.History[0].Actor != "calibration" {
		t.Errorf("history %+v", c.History)
	}

	// Identify decides with the calibrated thresholds: a probe equal to an
	// attendee's template is accepted.
	sealed, err := api.SealTemplate(k.TemplateKey, api.ProbeID, api.Template{Model: testModel, Version: 1, Data: g.bytes[5]})
	if err != nil {
		t.Fatal(err)
	}
	var id api.IdentifyResponse
	k.json(t, "POST", "/v1/identify", api.IdentifyRequest{Template: sealed}, 200, &id)
	if id.Decision != api.DecisionAccept || id.AttendeeID != g.ids[5] {
		t.Errorf("identify: %+v", id)
	}

	// Deleting attendees down to 4 returns to the defaults.
	for _, id := range g.ids[4:] {
		if err := s.DB.DeleteAttendee(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	s.Clock.Add(61 * time.Second)
	if th := settings(t, k); th.Accept != d.Accept || !th.CalibratedAt.IsZero() || th.GallerySize != 4 {
		t.Errorf("after deletes: %+v", th)
	}
}

// TestCalibrationNoDebounce: with CalibrateEvery 0 every change is taken
// into account at the next request, and an attendee with two templates
// makes the false-reject rate estimable.
func TestCalibrationNoDebounce(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = 0; c.CalibrationMaxPairs = 100 })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	var g calGallery
	// The second template of the first attendee is their first plus noise.
	second := unitTemplate(1000)
	second.Data = append([]byte(nil), second.Data...)
	first := unitTemplate(1000)
	for i := range first.Data {
		if i%4 == 0 {
			first.Data[i] = 128
		}
	}
	g.add(t, s, 30, 1000, first)
	th1 := settings(t, k)
	g.add(t, s, 10, 5000)
	th2 := settings(t, k)
	if th1.GallerySize != 30 || th2.GallerySize != 40 || th1.Accept == th2.Accept {
		t.Fatalf("not recalibrated on each change: %+v then %+v", th1, th2)
	}
	c := getCalibration(t, a, s.Event.ID)
	if !c.Sampled || c.Pairs != 100 {
		t.Errorf("large gallery not sampled: pairs %d sampled %v", c.Pairs, c.Sampled)
	}
	if !c.FRR.Estimable || c.FRR.Attendees != 1 || c.FRR.Pairs != 1 || c.FRR.AtAccept == nil || *c.FRR.AtAccept != 0 ||
		len(c.Histogram.Genuine) != len(c.Histogram.Counts) {
		t.Errorf("FRR from a two-template attendee: %+v", c.FRR)
	}
}

// TestCalibrationCountsCaptures: an attendee's second template (a kept
// check-in capture) is one more chance for an impostor, so calibration
// scores each pair by the best of an attendee's templates. Here the second
// template of the last attendee is close to another attendee's face: that
// pair now scores as a near match, and the accept threshold rises above
// what the first templates alone give.
func TestCalibrationCountsCaptures(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = 0 })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	var g calGallery
	g.add(t, s, 59, 300)
	lookalike := unitTemplate(300) // attendee 0's face, a little changed
	lookalike.Data = append([]byte(nil), lookalike.Data...)
	for i := 0; i < len(lookalike.Data); i += 8 {
		lookalike.Data[i] = 128
	}
	g.add(t, s, 1, 9000, lookalike)
	th := settings(t, k)
	wantA, _, _ := g.expected(server.DefaultTargetFPIR)
	firstsOnly, _ := calibrate.Thresholds(calibrate.Fit(calibrate.ImpostorsBytes(calibrate.Singles(g.bytes), 0, 0)), server.DefaultTargetFPIR, 60)
	if th.GallerySize != 60 || !near(float64(th.Accept), wantA, 1e-6) {
		t.Fatalf("calibrated %+v, want accept %.4f (best of each attendee's templates)", th, wantA)
	}
	if !(wantA > firstsOnly+1e-3) {
		t.Errorf("accept %.4f with the capture counted, %.4f without: the look-alike capture should raise it", wantA, firstsOnly)
	}
}

func TestCalibrationPinAndTarget(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = time.Hour })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	var g calGallery
	g.add(t, s, 40, 1)
	base := "/admin/events/" + s.Event.ID + "/calibration"
	calibrated := settings(t, k)
	if calibrated.CalibratedAt.IsZero() {
		t.Fatalf("not calibrated: %+v", calibrated)
	}
	// The event page shows the panel with its forms.
	_, page := do(t, a.c, "GET", a.base+"/admin/events/"+s.Event.ID, nil, "")
	for _, want := range []string{`id="calib-hist"`, `action="` + base + `/pin"`, `<option value="0.001" selected>1 in 1,000 check-ins</option>`,
		`<option value="1e-05">1 in 100,000 check-ins</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("event page lacks %s", want)
		}
	}

	// Without the CSRF token a pin is refused.
	resp, _ := do(t, a.c, "POST", a.base+base+"/pin", strings.NewReader("accept=0.3"), "application/x-www-form-urlencoded")
	if resp.StatusCode != 403 {
		t.Fatalf("pin without CSRF: %d", resp.StatusCode)
	}
	postForm(t, a, base+"/pin", url.Values{"accept": {"2"}}, 422)

	// Pin: kiosks get the raw threshold, the panel the rate it implies.
	postForm(t, a, base+"/pin", url.Values{"accept": {"0.3"}}, 200)
	th := settings(t, k)
	if !th.Pinned || th.Accept != 0.3 || th.Confirm >= 0.3 || th.Confirm <= 0 {
		t.Fatalf("pinned: %+v", th)
	}
	_, _, tail := g.expected(1e-3)
	c := getCalibration(t, a, s.Event.ID)
	want := calibrate.RateAt(tail, float64(float32(0.3)), 40)
	if c.Status != server.CalibrationPinned || c.ImpliedFPIR == nil || !near(*c.ImpliedFPIR, want, 1e-12) || want >= 1e-3 {
		t.Fatalf("pinned report: status %s implied %v, want %v", c.Status, c.ImpliedFPIR, want)
	}
	if c.CalibratedAccept == nil || !near(*c.CalibratedAccept, float64(calibrated.Accept), 1e-6) {
		t.Errorf("calibrated accept while pinned: %v", c.CalibratedAccept)
	}
	if c.History[0].Action != "thresholds.pin" || !strings.Contains(c.History[0].Text, "implied false accepts: 1 in") {
		t.Errorf("pin not audited: %+v", c.History)
	}
	// A pin survives gallery changes.
	g.add(t, s, 5, 500)
	s.Clock.Add(2 * time.Hour)
	if th := settings(t, k); !th.Pinned || th.Accept != 0.3 {
		t.Fatalf("pin lost on recalibration: %+v", th)
	}
	// An explicit confirm is kept.
	postForm(t, a, base+"/pin", url.Values{"accept": {"0.25"}, "confirm": {"0.2"}}, 200)
	if th := settings(t, k); th.Accept != 0.25 || th.Confirm != 0.2 {
		t.Fatalf("pinned with confirm: %+v", th)
	}

	// Unpin: calibration for the current gallery again.
	postForm(t, a, base+"/unpin", url.Values{}, 200)
	th = settings(t, k)
	wantA, _, _ := g.expected(1e-3)
	if th.Pinned || !near(float64(th.Accept), wantA, 1e-6) || th.GallerySize != 45 {
		t.Fatalf("unpinned: %+v, want accept %.4f", th, wantA)
	}

	// A stricter target raises the thresholds.
	postForm(t, a, base+"/target", url.Values{"target_fpir": {"1e-4"}}, 200)
	th2 := settings(t, k)
	wantA, wantC, _ := g.expected(1e-4)
	if th2.TargetFPIR != 1e-4 || th2.Accept <= th.Accept || !near(float64(th2.Accept), wantA, 1e-6) || !near(float64(th2.Confirm), wantC, 1e-6) {
		t.Fatalf("target 1e-4: %+v (before %+v)", th2, th)
	}
	postForm(t, a, base+"/target", url.Values{"target_fpir": {"0.5"}}, 422)
	c = getCalibration(t, a, s.Event.ID)
	if c.TargetFPIR != 1e-4 || c.History[0].Action != "thresholds.calibrate" || c.History[1].Action != "thresholds.target" {
		t.Errorf("after target: %v %+v", c.TargetFPIR, c.History)
	}
	_, page = do(t, a.c, "GET", a.base+"/admin/events/"+s.Event.ID, nil, "")
	if !strings.Contains(page, `<option value="0.0001" selected>`) {
		t.Error("target selector does not show the new target")
	}
}

// TestSettingsAfterRegistrations: attendees registering through the web
// page get the event calibrated, and kiosks receive it with the settings.
func TestSettingsAfterRegistrations(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.CalibrateEvery = 0 })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	if th := settings(t, k); !th.CalibratedAt.IsZero() {
		t.Fatalf("empty event calibrated: %+v", th)
	}
	n := server.MinCalibrationAttendees
	for i := range n {
		fields := map[string]string{"name": fmt.Sprintf("Guest %d", i), "email": fmt.Sprintf("g%d@example.org", i), "consent": "yes"}
		resp, body := postRegistration(t, s, "/register/"+s.Event.ID, fields, "me.png", photo(t, 160, byte(i*7+1)))
		if resp.StatusCode != 303 {
			t.Fatalf("registration %d: %d %s", i, resp.StatusCode, body)
		}
	}
	th := settings(t, k)
	if th.CalibratedAt.IsZero() || th.Pinned || th.GallerySize != n || th.TargetFPIR != server.DefaultTargetFPIR ||
		th.Accept == store.DefaultThresholds.Accept || th.Confirm > th.Accept {
		t.Fatalf("settings after %d registrations: %+v", n, th)
	}
	// A gallery this small calibrates strict, and the panel says so.
	if c := getCalibration(t, a, s.Event.ID); c.Status != server.CalibrationCalibrated || !strings.Contains(c.Note, "errs strict") {
		t.Errorf("small gallery: status %s, note %q", c.Status, c.Note)
	}
}
