package main

// Browser tests: Debian's chromium, headless, driven with chromedp against
// a real facecheck-server (real engine, SQLite file).
//
// Screenshots go to $FACECHECK_ARTIFACTS when set, else to a temp dir.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/server"
)

const chromiumPath = "/usr/bin/chromium"

// browserTestTimeout bounds each test as a whole; every wait below is
// bounded by it.
const browserTestTimeout = 2 * time.Minute

// Upload path: a real face through the file input lands on the
// confirmation page with a QR code and a short code.
func TestBrowserRegisterUpload(t *testing.T) {
	srv := startBrowserServer(t)
	photo := filepath.Join(srv.faces, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	b := startBrowser(t)
	ctx := b.ctx

	b.navigate(ctx, srv.registerURL)
	b.waitFor(ctx, `document.getElementById("register") !== null`)
	b.screenshot(ctx, "register-empty")
	b.sendKeys(ctx, "#name", "Colin Powell")
	b.sendKeys(ctx, "#email", "colin@example.com")
	b.click(ctx, "#consent")
	b.setUploadFiles(ctx, "#photo", photo)
	if n := b.evalInt(ctx, `document.getElementById("photo").files.length`); n != 1 {
		t.Fatalf("file input holds %d files after SetUploadFiles", n)
	}
	if !b.evalBool(ctx, `document.getElementById("consent").checked`) {
		t.Fatal("consent box not ticked by the click")
	}
	b.screenshot(ctx, "register-filled")
	b.click(ctx, "#submit")
	b.assertConfirmation(ctx, "Colin Powell")
	b.screenshot(ctx, "registered")
}

// Webcam path: chromium's fake camera plays a Y4M made from a real face
// photo; the page's camera button and "Take photo" fill the form.
func TestBrowserRegisterWebcam(t *testing.T) {
	srv := startBrowserServer(t)
	video := filepath.Join(t.TempDir(), "face.y4m")
	writeY4M(t, filepath.Join(srv.faces, "images/colin_powell/lfw_Colin_Powell_0002.jpg"), video, 5)
	b := startBrowser(t,
		"--use-fake-ui-for-media-stream",
		"--use-fake-device-for-media-stream",
		"--use-file-for-fake-video-capture="+video)
	ctx := b.ctx

	b.navigate(ctx, srv.registerURL)
	b.waitFor(ctx, `!document.getElementById("use-camera").hidden`)
	b.sendKeys(ctx, "#name", "Colin Webcam")
	b.sendKeys(ctx, "#email", "webcam@example.com")
	b.click(ctx, "#consent")
	b.click(ctx, "#use-camera")
	b.waitFor(ctx, `(function () {
		var v = document.getElementById("video");
		return !document.getElementById("camera").hidden && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0;
	})()`)
	b.screenshot(ctx, "camera-live")
	b.click(ctx, "#snap")
	b.waitFor(ctx, `document.getElementById("photo").files.length === 1 && !document.getElementById("preview").hidden`)
	if typ := b.evalString(ctx, `document.getElementById("photo").files[0].type`); typ != "image/jpeg" {
		t.Errorf("snapshot file type %q, want image/jpeg", typ)
	}
	b.screenshot(ctx, "camera-snapped")
	b.click(ctx, "#submit")
	b.assertConfirmation(ctx, "Colin Webcam")
	b.screenshot(ctx, "registered")
}

// A group photo is refused and the page says why, keeping what was typed.
func TestBrowserRegisterRejected(t *testing.T) {
	srv := startBrowserServer(t)
	b := startBrowser(t)
	ctx := b.ctx

	b.navigate(ctx, srv.registerURL)
	b.waitFor(ctx, `document.getElementById("register") !== null`)
	b.sendKeys(ctx, "#name", "Two People")
	b.sendKeys(ctx, "#email", "two@example.com")
	b.click(ctx, "#consent")
	b.setUploadFiles(ctx, "#photo", filepath.Join(srv.faces, "groups/face_recognition__two_people.jpg"))
	b.click(ctx, "#submit")
	b.waitFor(ctx, `document.getElementById("error") !== null`)
	b.screenshot(ctx, "rejected")
	msg := b.evalString(ctx, `document.getElementById("error").textContent`)
	if !strings.Contains(msg, "more than one face") {
		t.Errorf("error text %q does not give the reason", msg)
	}
	if r := b.evalString(ctx, `document.getElementById("error").dataset.reason`); r == "" {
		t.Error("error has no data-reason")
	}
	if v := b.evalString(ctx, `document.getElementById("name").value`); v != "Two People" {
		t.Errorf("name field after rejection = %q, want it kept", v)
	}
	if strings.Contains(b.evalString(ctx, `location.pathname`), "/me/") {
		t.Error("rejected photo reached the confirmation page")
	}
}

// Admin: log in, find a registered attendee by search, pair a kiosk from
// the event page, and watch the live counter move when the kiosk posts a
// check-in, without a reload.
func TestBrowserAdmin(t *testing.T) {
	srv := startBrowserServer(t)
	colin := srv.registerHTTP(t, "Colin Powell", "colin@example.com", "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	srv.registerHTTP(t, "Amelie Mauresmo", "amelie@example.com", firstImage(t, srv.faces, "amelie_mauresmo"))
	// Enough more attendees for the event to calibrate its thresholds
	// (server.MinCalibrationAttendees), registered before the first
	// calibration so the server's debounce does not delay it.
	// Photos the engine turns down (422) are skipped.
	attendees, want := 2, server.MinCalibrationAttendees
	for i, p := range []string{"alejandro_toledo", "andre_agassi", "ariel_sharon", "bill_clinton", "david_beckham",
		"angelina_jolie", "arnold_schwarzenegger", "alvaro_uribe", "carlos_menem", "amy_adams", "biden",
		"donald_rumsfeld", "eric_clapton", "george_robertson", "gerhard_schroeder", "gray_davis", "hamid_karzai",
		"hans_blix", "hugo_chavez", "igor_ivanov", "jack_straw"} {
		if attendees == want {
			break
		}
		if srv.tryRegisterHTTP(t, strings.ReplaceAll(p, "_", " "), fmt.Sprintf("extra%d@example.com", i), firstImage(t, srv.faces, p)) {
			attendees++
		}
	}
	if attendees < want {
		t.Fatalf("only %d attendees registered, %d needed to calibrate", attendees, want)
	}
	b := startBrowser(t)
	ctx := b.ctx

	// A wrong password first: the page says so and lets us retry.
	b.navigate(ctx, srv.url+"/admin/")
	b.waitFor(ctx, `location.pathname === "/admin/login" && document.getElementById("login") !== null`)
	b.screenshot(ctx, "login")
	b.sendKeys(ctx, "#username", "admin")
	b.sendKeys(ctx, "#password", "wrong password")
	b.click(ctx, "#login")
	b.waitFor(ctx, `document.getElementById("error") !== null`)
	b.screenshot(ctx, "login-failed")
	b.evalString(ctx, `document.getElementById("password").value = ""`)
	b.sendKeys(ctx, "#password", srv.password)
	b.click(ctx, "#login")
	b.waitFor(ctx, `location.pathname === "/admin/" && document.getElementById("events") !== null`)
	b.screenshot(ctx, "dashboard")
	if txt := b.evalString(ctx, `document.getElementById("events").textContent`); !strings.Contains(txt, "Browser test event") {
		t.Errorf("events table lacks the event: %q", txt)
	}

	b.click(ctx, `#events a[href^="/admin/events/"]`)
	b.waitFor(ctx, `location.pathname.startsWith("/admin/events/") && document.getElementById("live") !== null`)
	if n := b.evalInt(ctx, `document.querySelectorAll("#attendees-table tr.attendee").length`); n != attendees {
		t.Errorf("event page lists %d attendees, want %d", n, attendees)
	}

	// Search.
	b.sendKeys(ctx, "#search", "powell")
	b.click(ctx, `form[role="search"] button`)
	b.waitFor(ctx, `location.search.includes("q=powell") && document.readyState === "complete"`)
	b.screenshot(ctx, "search")
	var names []string
	b.eval(ctx, `Array.from(document.querySelectorAll("#attendees-table tr.attendee td.name")).map(function (e) { return e.textContent; })`, &names)
	if len(names) != 1 || names[0] != "Colin Powell" {
		t.Errorf("search for powell found %q, want [Colin Powell]", names)
	}

	// Pairing code from the page, exchanged by a "kiosk" over the API.
	eventPath := b.evalString(ctx, `location.pathname`)
	b.click(ctx, `form[action$="/pairing-codes"] button`)
	b.waitFor(ctx, `document.getElementById("pairing-code") !== null`)
	b.screenshot(ctx, "pairing-code")
	code := b.evalString(ctx, `document.getElementById("pairing-code").textContent`)
	// The POST redirected to a GET page: a reload shows the same code
	// instead of re-posting (or failing with 405).
	if p := b.evalString(ctx, `location.pathname`); p != eventPath+"/pairing-code" {
		t.Errorf("after the pairing-code post the page is %q", p)
	}
	b.navigate(ctx, b.location())
	if again := b.evalString(ctx, `(document.getElementById("pairing-code") || {}).textContent`); again != code {
		t.Errorf("pairing code after reload = %q, want %q", again, code)
	}
	token := srv.pair(t, code)

	// Back on the event page (a GET), the live stream connects.
	b.navigate(ctx, srv.url+eventPath)
	b.waitFor(ctx, `document.getElementById("checkins") !== null && document.readyState === "complete"`)
	if got := b.evalString(ctx, `document.getElementById("checkins").textContent.trim()`); got != "0" {
		t.Fatalf("check-in counter before = %q, want 0", got)
	}
	srv.waitLiveStreams(ctx, t, 1)
	b.evalString(ctx, `window.__facecheckNoReload = "still here"`)
	b.screenshot(ctx, "counter-before")

	first := uuid.NewString()
	if st := srv.checkIn(t, token, first, colin); st.Status != api.StatusAccepted || st.Repeat {
		t.Fatalf("first check-in: %+v", st)
	}
	b.waitFor(ctx, `document.getElementById("checkins").textContent.trim() === "1"`)
	// The live feed gets the check-in, the attendee's row its count, the
	// chart a bar.
	b.waitFor(ctx, `document.querySelectorAll("#feed-body tr.feed-row").length === 1`)
	var row []string
	b.eval(ctx, `Array.from(document.querySelectorAll("#feed-body tr.feed-row")[0].cells).map(function (c) { return c.textContent; })`, &row)
	if len(row) != 5 || row[1] != "Colin Powell" || row[2] != "browser-test kiosk" || row[3] != string(api.MethodFace) || row[4] != "" ||
		!regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(row[0]) {
		t.Errorf("feed row = %q", row)
	}
	b.waitFor(ctx, fmt.Sprintf(`document.querySelector('#attendees-table tr.attendee[data-id=%q] td.checkins').textContent === "1"`, colin))
	if n := b.evalInt(ctx, `document.querySelectorAll("#rate-chart rect.bar").length`); n != 1 {
		t.Errorf("chart has %d bars after one check-in, want 1", n)
	}
	if v := b.evalString(ctx, `String(window.__facecheckNoReload)`); v != "still here" {
		t.Error("the page reloaded instead of updating the counter live")
	}
	b.screenshot(ctx, "counter-after")

	// A replay counts nothing; a second check-in of the same person (say
	// from another kiosk) is a repeat: the repeats counter moves, the
	// checked-in counter (distinct people) does not.
	if st := srv.checkIn(t, token, first, colin); st.Status != api.StatusDuplicate {
		t.Errorf("replayed check-in: %+v", st)
	}
	if st := srv.checkIn(t, token, uuid.NewString(), colin); st.Status != api.StatusAccepted || !st.Repeat {
		t.Errorf("second check-in of the same person: %+v", st)
	}
	b.waitFor(ctx, `document.getElementById("repeats").textContent.trim() === "1"`)
	b.waitFor(ctx, `document.querySelectorAll("#feed-body tr.feed-row").length === 2 && document.querySelector("#feed-body tr.feed-row td.repeat").textContent === "repeat"`)
	b.waitFor(ctx, fmt.Sprintf(`document.querySelector('#attendees-table tr.attendee[data-id=%q] td.checkins').textContent === "2"`, colin))
	if got := b.evalString(ctx, `document.getElementById("checkins").textContent.trim()`); got != "1" {
		t.Errorf("checked-in counter after a repeat = %q, want 1", got)
	}
	if v := b.evalString(ctx, `String(window.__facecheckNoReload)`); v != "still here" {
		t.Error("the page reloaded instead of updating the counters live")
	}
	b.screenshot(ctx, "counter-repeat")

	// Calibration panel: the impostor-score histogram of the gallery's
	// cross-attendee pairs with the accept and confirm lines, calibrated
	// for the default target of 1 in 1,000 check-ins.
	b.waitFor(ctx, `document.getElementById("calibration").dataset.ready === "1"`)
	b.evalString(ctx, `document.getElementById("calibration").scrollIntoView(); ""`)
	b.screenshot(ctx, "calibration")
	pairs := attendees * (attendees - 1) / 2
	if n := b.evalInt(ctx, `Array.from(document.querySelectorAll("#calib-hist rect.bar.imp")).reduce(function (s, r) { return s + Number(r.querySelector("title").textContent.split(" ")[0]); }, 0)`); n != pairs {
		t.Errorf("histogram bars hold %d pairs, want %d", n, pairs)
	}
	if n := b.evalInt(ctx, `document.querySelectorAll("#calib-hist rect.bar.imp").length`); n < 3 {
		t.Errorf("histogram has %d bars", n)
	}
	acceptX := func() string {
		return b.evalString(ctx, `(function () { var l = document.querySelector("#calib-hist line.th-accept"); return l ? l.getAttribute("x1") : ""; })()`)
	}
	if acceptX() == "" || b.evalInt(ctx, `document.querySelectorAll("#calib-hist line.th-confirm").length`) != 1 {
		t.Error("no accept / confirm threshold line in the histogram")
	}
	status := b.evalString(ctx, `document.getElementById("calib-status").textContent`)
	if !strings.Contains(status, "Calibrated from this event's gallery") {
		t.Errorf("calibration status %q", status)
	}
	if txt := b.evalString(ctx, `document.getElementById("calib-implied").textContent`); !strings.Contains(txt, "1 in 1,000") {
		t.Errorf("implied rate %q, want the 1 in 1,000 target", txt)
	}
	if txt := b.evalString(ctx, `document.getElementById("calib-frr").textContent`); !strings.Contains(txt, "not estimable without labels") {
		t.Errorf("FRR %q", txt)
	}
	var kioskSettings api.EventSettings
	srv.getJSON(t, "/v1/settings", token, &kioskSettings)
	if th := kioskSettings.Thresholds; th.CalibratedAt.IsZero() || th.Pinned || th.GallerySize != attendees {
		t.Errorf("kiosk settings thresholds %+v, want calibrated over %d attendees", th, attendees)
	}

	// Pin a raw accept threshold: the line moves, the panel shows the rate
	// it implies, the change is in the history; unpinning calibrates again.
	before := acceptX()
	b.evalString(ctx, `document.getElementById("calib-pin-accept").value = "0.6"; ""`)
	b.click(ctx, `#calib-pin-form button`)
	b.waitFor(ctx, `document.getElementById("calib-unpin-form") !== null && document.getElementById("calibration").dataset.ready === "1"`)
	b.evalString(ctx, `document.getElementById("calibration").scrollIntoView(); ""`)
	b.screenshot(ctx, "calibration-pinned")
	if st := b.evalString(ctx, `document.getElementById("calib-status").textContent`); !strings.Contains(st, "Pinned") || !strings.Contains(st, "0.600") {
		t.Errorf("pinned status %q", st)
	}
	if x := acceptX(); x == before || x == "" {
		t.Errorf("accept line did not move on pin: %s → %s", before, x)
	}
	if txt := b.evalString(ctx, `document.getElementById("calib-history").textContent`); !strings.Contains(txt, "Pinned: accept 0.600") {
		t.Errorf("history lacks the pin: %q", txt)
	}
	srv.getJSON(t, "/v1/settings", token, &kioskSettings)
	if th := kioskSettings.Thresholds; !th.Pinned || th.Accept != 0.6 {
		t.Errorf("kiosk settings after pin: %+v", th)
	}
	b.click(ctx, `#calib-unpin-form button`)
	b.waitFor(ctx, `document.getElementById("calib-unpin-form") === null && document.getElementById("calibration").dataset.ready === "1"`)
	if x := acceptX(); x != before {
		t.Errorf("accept line after unpin at %s, want %s", x, before)
	}
}

// postRegistration posts the registration form with photo (a dev face)
// and consent; the caller closes the response body.
func (s *browserServer) postRegistration(t *testing.T, name, email, photo string) *http.Response {
	t.Helper()
	img, err := os.ReadFile(filepath.Join(s.faces, photo))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("name", name)
	w.WriteField("email", email)
	w.WriteField("consent", "yes")
	fw, _ := w.CreateFormFile("photo", filepath.Base(photo))
	fw.Write(img)
	w.Close()
	resp, err := s.client.Post(s.registerURL, w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// tryRegisterHTTP registers an attendee and reports whether the engine
// accepted the photo (false on 422).
func (s *browserServer) tryRegisterHTTP(t *testing.T, name, email, photo string) bool {
	t.Helper()
	resp := s.postRegistration(t, name, email, photo)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusSeeOther:
		return true
	case http.StatusUnprocessableEntity:
		t.Logf("register %s: photo turned down, skipped", photo)
		return false
	}
	t.Fatalf("register %s: status %d", photo, resp.StatusCode)
	return false
}

// getJSON calls a kiosk GET endpoint.
func (s *browserServer) getJSON(t *testing.T, path, token string, out any) {
	t.Helper()
	req, err := http.NewRequest("GET", s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// Server under test.

type browserServer struct {
	m           *Main
	url         string
	registerURL string
	password    string
	faces       string
	client      *http.Client
}

func startBrowserServer(t *testing.T) *browserServer {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not installed: %v", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	testenv.Models(t)
	faces := testenv.Faces(t)
	const password = "browser-test-password"
	t.Setenv("FACECHECK_ADMIN_PASSWORD", password)
	m, out := runMain(t, t.TempDir(), "--event", "Browser test event", "--engines", "1", "--metrics-addr", "127.0.0.1:0")
	t.Cleanup(func() { m.Close() })
	if m.Encoder == nil {
		t.Fatal("no engine wired although the models are there")
	}
	reg := regexp.MustCompile(`http://\S+/register/\S+`).FindString(out)
	if reg == "" {
		t.Fatalf("no registration URL in:\n%s", out)
	}
	return &browserServer{
		m: m, url: m.Server.URL(), registerURL: reg, password: password, faces: faces,
		client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// registerHTTP registers an attendee with a plain form post and returns
// the attendee id from the confirmation link.
func (s *browserServer) registerHTTP(t *testing.T, name, email, photo string) string {
	t.Helper()
	resp := s.postRegistration(t, name, email, photo)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register %s: status %d:\n%.400s", photo, resp.StatusCode, b)
	}
	m := regexp.MustCompile(`/me/([^/?]+)`).FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("register %s: redirect to %q", photo, resp.Header.Get("Location"))
	}
	id, err := url.PathUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *browserServer) postJSON(t *testing.T, path, token string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, body)
	}
}

func (s *browserServer) pair(t *testing.T, code string) string {
	t.Helper()
	var pr api.PairResponse
	s.postJSON(t, "/v1/pair", "", api.PairRequest{Code: strings.TrimSpace(code), DeviceName: "browser-test kiosk", AppVersion: "test"}, &pr)
	if pr.Token == "" {
		t.Fatal("pairing gave no token")
	}
	return pr.Token
}

// checkIn posts one check-in as the kiosk with token would.
func (s *browserServer) checkIn(t *testing.T, token, id, attendee string) api.CheckInResult {
	t.Helper()
	var res api.CheckInBatchResult
	s.postJSON(t, "/v1/checkins", token, api.CheckInBatch{CheckIns: []api.CheckIn{{
		ID: id, AttendeeID: attendee, Method: api.MethodFace, Score: 0.8, Margin: 0.3, At: time.Now(),
	}}}, &res)
	if len(res.Results) != 1 {
		t.Fatalf("check-in results: %+v", res.Results)
	}
	return res.Results[0]
}

// waitLiveStreams waits until n dashboards hold the live stream open, so a
// counter change afterwards can only arrive by push.
func (s *browserServer) waitLiveStreams(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	want := fmt.Sprintf("facecheck_live_streams %d", n)
	var last string
	for ctx.Err() == nil {
		resp, err := s.client.Get(s.m.Server.MetricsURL())
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			for _, line := range strings.Split(last, "\n") {
				if strings.TrimSpace(line) == want {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %q in /metrics:\n%s", want, last)
}

func firstImage(t *testing.T, faces, person string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(faces, "images", person, "*.jpg"))
	if len(m) == 0 {
		t.Fatalf("no images of %s", person)
	}
	rel, err := filepath.Rel(faces, m[0])
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// writeY4M writes frames identical frames of a photo as a YUV4MPEG2 (4:2:0)
// file for chromium's fake video capture device.
func writeY4M(t *testing.T, photo, path string, frames int) {
	t.Helper()
	im, err := engine.LoadImage(photo)
	if err != nil {
		t.Fatal(err)
	}
	w, h := im.W&^1, im.H&^1 // 4:2:0 needs even sides
	ys := make([]byte, w*h)
	us := make([]byte, w*h/4)
	vs := make([]byte, w*h/4)
	clamp := func(v float64) byte { return byte(min(255, max(0, v+0.5))) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := im.Pix[(y*im.W+x)*3:]
			b, g, r := float64(p[0]), float64(p[1]), float64(p[2]) // BGR
			ys[y*w+x] = clamp(16 + 0.257*r + 0.504*g + 0.098*b)
		}
	}
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x += 2 {
			var r, g, b float64
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				p := im.Pix[((y+d[1])*im.W+x+d[0])*3:]
				b += float64(p[0]) / 4
				g += float64(p[1]) / 4
				r += float64(p[2]) / 4
			}
			i := (y/2)*(w/2) + x/2
			us[i] = clamp(128 - 0.148*r - 0.291*g + 0.439*b)
			vs[i] = clamp(128 + 0.439*r - 0.368*g - 0.071*b)
		}
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n", w, h)
	for i := 0; i < frames; i++ {
		out.WriteString("FRAME\n")
		out.Write(ys)
		out.Write(us)
		out.Write(vs)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// Thin test helpers over chromedp: each one runs a chromedp action against
// the test's tab and fails the test on error.

type browser struct {
	t     *testing.T
	ctx   context.Context // the tab, bounded by browserTestTimeout
	shots string
	nshot int

	mu   sync.Mutex
	logs []string // console output, exceptions, CSP reports
	errs []string // exceptions and CSP violations: fail the test
}

// startBrowser starts headless chromium with a fresh profile and opens a
// tab. Everything is torn down by t.Cleanup: the tab context ends, chromedp
// closes the browser and waits for the process.
func startBrowser(t *testing.T, extraFlags ...string) *browser {
	t.Helper()
	shots := os.Getenv("FACECHECK_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, t.Name())
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1024, 900),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
	}
	for _, f := range extraFlags {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, shots: shots}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.event))
	// The first Run starts the browser; it must not carry the test timeout
	// (that would tie the browser's life to it), so start it here and bound
	// the actions with a derived context.
	if err := chromedp.Do(tabCtx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, browserTestTimeout)
	b.ctx = ctx
	t.Cleanup(func() {
		cancel()
		cancelTab()   // closes the browser
		cancelAlloc() // waits for the process and removes its temp files
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, l := range b.logs {
			t.Log("browser: " + l)
		}
		if len(b.errs) > 0 {
			t.Errorf("the pages reported errors:\n%s", strings.Join(b.errs, "\n"))
		}
	})
	return b
}

// event records what the pages say: console output for the log, uncaught
// exceptions and CSP violations as test failures. It runs on chromedp's
// reading goroutine, so it only appends under the lock.
func (b *browser) event(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			switch {
			case a.Description != "":
				parts = append(parts, a.Description)
			case len(a.Value) > 0:
				parts = append(parts, string(a.Value))
			default:
				parts = append(parts, string(a.Type))
			}
		}
		b.logs = append(b.logs, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := ""
		if d.Exception != nil {
			desc = d.Exception.Description
		}
		s := fmt.Sprintf("exception at %s:%d: %s %s", d.URL, d.LineNumber, d.Text, desc)
		b.logs = append(b.logs, s)
		b.errs = append(b.errs, s)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		s := fmt.Sprintf("log %s/%s: %s %s", e.Source, e.Level, e.Text, e.URL)
		b.logs = append(b.logs, s)
		if e.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Text, "Content Security Policy") {
			b.errs = append(b.errs, s)
		}
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s on %s: %v", what, b.location(), err)
	}
}

// eval runs JavaScript in the page and decodes its value into out.
func (b *browser) eval(_ context.Context, expr string, out any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("evaluate %.80q: %v", expr, err)
		}
	}
}

func (b *browser) evalString(ctx context.Context, expr string) string {
	b.t.Helper()
	var s any
	b.eval(ctx, expr, &s)
	if s == nil {
		return ""
	}
	return fmt.Sprint(s)
}

func (b *browser) evalBool(ctx context.Context, expr string) bool {
	b.t.Helper()
	var v bool
	b.eval(ctx, expr, &v)
	return v
}

func (b *browser) evalInt(ctx context.Context, expr string) int {
	b.t.Helper()
	var v int
	b.eval(ctx, expr, &v)
	return v
}

// waitFor polls a JavaScript condition until it is true (chromedp.Poll).
// A poll does not survive a navigation and a condition may throw while a
// page is being replaced: both count as "not yet" until 30 s have passed.
func (b *browser) waitFor(_ context.Context, cond string) {
	b.t.Helper()
	wctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	var lastErr error
	for {
		_, lastErr = chromedp.Run(wctx, chromedp.Poll[chromedp.Void]("Boolean("+cond+")",
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
		if lastErr == nil {
			return
		}
		select {
		case <-wctx.Done():
			b.screenshot(b.ctx, "timeout")
			b.t.Fatalf("timed out waiting for %s (last error: %v) on %s", cond, lastErr, b.location())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *browser) location() string {
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return err.Error()
	}
	return s
}

// navigate loads url and waits for it (or where it redirects) to load.
func (b *browser) navigate(_ context.Context, u string) {
	b.t.Helper()
	b.do("navigate "+u, chromedp.Navigate(u))
	b.waitFor(b.ctx, `document.readyState === "complete"`)
}

func (b *browser) click(_ context.Context, sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) sendKeys(_ context.Context, sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browser) setUploadFiles(_ context.Context, sel string, files ...string) {
	b.t.Helper()
	for i, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			b.t.Fatal(err)
		}
		files[i] = abs
	}
	b.do("upload to "+sel, chromedp.SetUploadFiles(chromedp.CSS(sel), files))
}

// screenshot saves a PNG of the whole page.
func (b *browser) screenshot(_ context.Context, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	// Right after a navigation the new page may not be laid out yet
	// ("Cannot take screenshot with 0 width"): give it up to 3 s.
	for i := 0; i < 30 && err != nil && strings.Contains(err.Error(), "0 width"); i++ {
		time.Sleep(100 * time.Millisecond)
		png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	}
	if err == nil && !bytes.HasPrefix(png, []byte("\x89PNG")) {
		err = errors.New("not a PNG")
	}
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

// assertConfirmation waits for the confirmation page and checks its QR
// code (a decoded image) and short code.
func (b *browser) assertConfirmation(ctx context.Context, name string) {
	b.t.Helper()
	b.waitFor(ctx, `location.pathname.includes("/me/") && document.readyState === "complete" && document.getElementById("qr") !== null`)
	b.waitFor(ctx, `document.getElementById("qr").complete`)
	if w := b.evalInt(ctx, `document.getElementById("qr").naturalWidth`); w < 100 {
		b.t.Errorf("QR code image is %d pixels wide: not decoded", w)
	}
	if src := b.evalString(ctx, `document.getElementById("qr").getAttribute("src")`); !strings.HasPrefix(src, "data:image/png;base64,") {
		b.t.Errorf("QR code src = %.60q", src)
	}
	code := strings.TrimSpace(b.evalString(ctx, `document.getElementById("short-code").textContent`))
	if !regexp.MustCompile(`^[A-Z0-9-]{4,12}$`).MatchString(code) {
		b.t.Errorf("short code %q does not look like one", code)
	}
	if h := b.evalString(ctx, `document.querySelector("h1").textContent`); !strings.Contains(h, name) {
		b.t.Errorf("confirmation heading %q lacks %q", h, name)
	}
}
