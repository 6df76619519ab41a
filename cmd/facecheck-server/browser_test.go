package main

// Browser tests: Debian's chromium, headless, driven over the DevTools
// protocol against a real facecheck-server (real engine, SQLite file).
//
// The protocol runs over --remote-debugging-pipe (fd 3 in, fd 4 out,
// NUL-separated JSON), so the tests need nothing beyond the standard
// library; the helpers below mirror the chromedp actions they replace
// (Navigate, SendKeys, Click, SetUploadFiles, FullScreenshot, Poll).
//
// Screenshots go to $FACECHECK_ARTIFACTS when set, else to a temp dir.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
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
	if n := b.evalInt(ctx, `document.querySelectorAll("#attendees-table tr.attendee").length`); n != 2 {
		t.Errorf("event page lists %d attendees, want 2", n)
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
	if got := b.evalString(ctx, `document.getElementById("checkins").textContent.trim()`); got != "1" {
		t.Errorf("checked-in counter after a repeat = %q, want 1", got)
	}
	if v := b.evalString(ctx, `String(window.__facecheckNoReload)`); v != "still here" {
		t.Error("the page reloaded instead of updating the counters live")
	}
	b.screenshot(ctx, "counter-repeat")
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
	m, out := runMain(t, t.TempDir(), "--admin-password", password, "--event", "Browser test event", "--engines", "1")
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
		resp, err := s.client.Get(s.url + "/metrics")
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
// A minimal DevTools protocol client over chromium's debugging pipe.

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type browser struct {
	t   *testing.T
	ctx context.Context // the test's deadline

	cmd     *exec.Cmd
	in      *os.File // chromium's fd 3
	session string
	shots   string
	nshot   int

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan cdpMessage
	loads   int      // Page.loadEventFired seen
	logs    []string // console output, exceptions, CSP reports
	errs    []string // exceptions and CSP violations: fail the test
	readErr error
	closed  chan struct{}
}

// startBrowser starts headless chromium with a fresh profile and attaches
// to a new tab. Everything is torn down by t.Cleanup.
func startBrowser(t *testing.T, extraFlags ...string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	t.Cleanup(cancel)

	shots := os.Getenv("FACECHECK_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	}
	shots = filepath.Join(shots, t.Name())
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-dev-shm-usage",
		"--window-size=1024,900",
		"--user-data-dir=" + filepath.Join(t.TempDir(), "profile"),
		"--remote-debugging-pipe",
	}, extraFlags...)
	args = append(args, "about:blank")
	var stderr bytes.Buffer
	cmd := exec.Command(chromiumPath, args...)
	cmd.ExtraFiles = []*os.File{inR, outW} // fd 3: commands in, fd 4: messages out
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	b := &browser{
		t: t, ctx: ctx, cmd: cmd, in: inW, shots: shots,
		pending: map[int64]chan cdpMessage{}, closed: make(chan struct{}),
	}
	waited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(waited)
	}()
	go b.read(outR)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		b.call(cctx, "", "Browser.close", nil, nil)
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // our own process group
			<-waited
		}
		inW.Close()
		outR.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, l := range b.logs {
			t.Log("browser: " + l)
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("chromium stderr:\n%s", lastLines(stderr.String(), 30))
		}
		if len(b.errs) > 0 {
			t.Errorf("the pages reported errors:\n%s", strings.Join(b.errs, "\n"))
		}
	})

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.must(b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct {
		SessionID string `json:"sessionId"`
	}
	b.must(b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	b.session = att.SessionID
	for _, d := range []string{"Page.enable", "Runtime.enable", "Log.enable", "DOM.enable"} {
		b.must(b.call(ctx, b.session, d, nil, nil))
	}
	return b
}

// lastLines is the end of chromium's stderr without the noise of a
// machine with no D-Bus.
func lastLines(s string, n int) string {
	var l []string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if !strings.Contains(line, "dbus") {
			l = append(l, line)
		}
	}
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var line []byte
		line, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m cdpMessage
		if err = json.Unmarshal(line[:len(line)-1], &m); err != nil {
			break
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.event(m)
	}
	b.mu.Lock()
	b.readErr = err
	b.mu.Unlock()
	close(b.closed)
}

// event records what the pages say: console output for the log, uncaught
// exceptions and CSP violations as test failures.
func (b *browser) event(m cdpMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m.Method {
	case "Page.loadEventFired":
		b.loads++
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(m.Params, &p)
		var parts []string
		for _, a := range p.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		b.logs = append(b.logs, "console."+p.Type+": "+strings.Join(parts, " "))
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Line      int    `json:"lineNumber"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &p)
		d := p.ExceptionDetails
		s := fmt.Sprintf("exception at %s:%d: %s %s", d.URL, d.Line, d.Text, d.Exception.Description)
		b.logs = append(b.logs, s)
		b.errs = append(b.errs, s)
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Source string `json:"source"`
				Level  string `json:"level"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &p)
		e := p.Entry
		s := fmt.Sprintf("log %s/%s: %s %s", e.Source, e.Level, e.Text, e.URL)
		b.logs = append(b.logs, s)
		if e.Source == "security" || strings.Contains(e.Text, "Content Security Policy") {
			b.errs = append(b.errs, s)
		}
	}
}

// call sends one command and waits for its answer.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(raw, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.closed:
		return fmt.Errorf("%s: browser connection closed: %v", method, b.readErr)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (b *browser) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// eval runs JavaScript in the page (promises awaited) and decodes its value.
func (b *browser) eval(ctx context.Context, expr string, out any) {
	b.t.Helper()
	if err := b.tryEval(ctx, expr, out); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) tryEval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := b.call(ctx, b.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("evaluate %.80q: %s %s", expr, e.Text, e.Exception.Description)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
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
// Evaluation errors while a page is being replaced count as "not yet".
func (b *browser) waitFor(ctx context.Context, cond string) {
	b.t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var lastErr error
	for {
		var ok bool
		if lastErr = b.tryEval(wctx, "Boolean("+cond+")", &ok); lastErr == nil && ok {
			return
		}
		select {
		case <-wctx.Done():
			b.screenshot(ctx, "timeout")
			b.t.Fatalf("timed out waiting for %s (last error: %v) on %s", cond, lastErr, b.location(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *browser) location(ctx context.Context) string {
	var s string
	if err := b.tryEval(ctx, "location.href", &s); err != nil {
		return err.Error()
	}
	return s
}

// navigate loads url and waits for it (or where it redirects) to finish
// loading.
func (b *browser) navigate(ctx context.Context, u string) {
	b.t.Helper()
	b.mu.Lock()
	loads := b.loads
	b.mu.Unlock()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	b.must(b.call(ctx, b.session, "Page.navigate", map[string]any{"url": u}, &res))
	if res.ErrorText != "" {
		b.t.Fatalf("navigate %s: %s", u, res.ErrorText)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		b.mu.Lock()
		loaded := b.loads > loads
		b.mu.Unlock()
		if loaded {
			break
		}
		select {
		case <-wctx.Done():
			b.t.Fatalf("navigate %s: no load event (now on %s)", u, b.location(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	b.waitFor(ctx, `document.readyState === "complete"`)
}

// box scrolls the element into view and returns its centre.
func (b *browser) box(ctx context.Context, sel string) (x, y float64) {
	b.t.Helper()
	var r *struct{ X, Y float64 }
	b.eval(ctx, fmt.Sprintf(`(function () {
		var e = document.querySelector(%q);
		if (!e) return null;
		e.scrollIntoView({block: "center"});
		var r = e.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`, sel), &r)
	if r == nil {
		b.t.Fatalf("no element %s on %s", sel, b.location(ctx))
	}
	return r.X, r.Y
}

// click presses and releases the left mouse button on the element
// (chromedp.Click).
func (b *browser) click(ctx context.Context, sel string) {
	b.t.Helper()
	x, y := b.box(ctx, sel)
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p := map[string]any{"type": typ, "x": x, "y": y}
		if typ != "mouseMoved" {
			p["button"], p["clickCount"] = "left", 1
		}
		b.must(b.call(ctx, b.session, "Input.dispatchMouseEvent", p, nil))
	}
}

// sendKeys focuses the element and types text into it (chromedp.SendKeys).
func (b *browser) sendKeys(ctx context.Context, sel, text string) {
	b.t.Helper()
	b.click(ctx, sel)
	b.eval(ctx, fmt.Sprintf(`document.querySelector(%q).focus()`, sel), nil)
	b.must(b.call(ctx, b.session, "Input.insertText", map[string]any{"text": text}, nil))
}

// setUploadFiles sets the files of a file input (chromedp.SetUploadFiles).
func (b *browser) setUploadFiles(ctx context.Context, sel string, files ...string) {
	b.t.Helper()
	var res struct {
		Result struct {
			ObjectID string `json:"objectId"`
		} `json:"result"`
	}
	b.must(b.call(ctx, b.session, "Runtime.evaluate", map[string]any{
		"expression": fmt.Sprintf("document.querySelector(%q)", sel),
	}, &res))
	if res.Result.ObjectID == "" {
		b.t.Fatalf("no element %s", sel)
	}
	for i, f := range files {
		abs, err := filepath.Abs(f)
		b.must(err)
		files[i] = abs
	}
	b.must(b.call(ctx, b.session, "DOM.setFileInputFiles", map[string]any{"files": files, "objectId": res.Result.ObjectID}, nil))
}

// screenshot saves a PNG of the whole page (chromedp.FullScreenshot).
func (b *browser) screenshot(ctx context.Context, name string) {
	b.t.Helper()
	var lm struct {
		CSSContentSize struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := b.call(ctx, b.session, "Page.getLayoutMetrics", nil, &lm); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	var shot struct {
		Data string `json:"data"`
	}
	err := b.call(ctx, b.session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true, "fromSurface": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": lm.CSSContentSize.Width, "height": lm.CSSContentSize.Height, "scale": 1},
	}, &shot)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
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
