package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
)

// postRegistration submits the registration form without following the
// redirect.
func postRegistration(t *testing.T, s *testServer, path string, fields map[string]string, filename string, photo []byte) (*http.Response, string) {
	t.Helper()
	body, ct := registrationForm(t, fields, filename, photo)
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return do(t, c, "POST", s.URL()+path, body, ct)
}

// registrationForm is a multipart registration form; photo may be nil.
func registrationForm(t testing.TB, fields map[string]string, filename string, photo []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if photo != nil {
		fw, err := mw.CreateFormFile("photo", filename)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(photo); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

var reasonRE = regexp.MustCompile(`id="error" data-reason="([^"]*)">([^<]*)<`)

func TestRegistration(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.MaxUploadBytes = 256 << 10 })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	path := "/register/" + s.Event.ID
	fields := map[string]string{"name": "Ann Example", "email": "ann@example.org", "consent": "yes"}

	resp, body := do(t, httpc, "GET", s.URL()+path, nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="photo"`) || !strings.Contains(body, "DevDay") {
		t.Fatalf("register page = %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, httpc, "GET", s.URL()+"/e/"+s.Event.ID+"/register", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("alias = %d", resp.StatusCode)
	}
	if resp, _ := do(t, httpc, "GET", s.URL()+"/register/nope", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("unknown event = %d", resp.StatusCode)
	}

	t.Run("ErrPhoto", func(t *testing.T) {
		big := append(photo(t, 200, 1), bytes.Repeat([]byte{0}, 300<<10)...)
		tests := []struct {
			name     string
			filename string
			photo    []byte
			status   int
			reason   string
		}{
			{"text named .jpg", "selfie.jpg", []byte("this is not a photo, just text"), 422, server.ReasonNotAnImage},
			{"PNG header only", "selfie.png", photo(t, 200, 1)[:40], 422, server.ReasonNotAnImage},
			{"HTML", "selfie.png", []byte("<html><script>alert(1)</script></html>"), 422, server.ReasonNotAnImage},
			{"tiny", "selfie.png", photo(t, 20, 3), 422, server.ReasonTooSmall},
			{"no face", "selfie.png", photo(t, 100, 1), 422, server.ReasonNoFace},
			{"blurry", "selfie.png", photo(t, 101, 1), 422, server.ReasonBlurry},
			{"too large", "selfie.png", big, 413, server.ReasonTooLarge},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := postRegistration(t, s, path, fields, tc.filename, tc.photo)
				m := reasonRE.FindStringSubmatch(body)
				if resp.StatusCode != tc.status || m == nil || m[1] != tc.reason {
					t.Fatalf("= %d, reason %q, want %d %q:\n%s", resp.StatusCode, m, tc.status, tc.reason, body)
				}
				if got, want := html.UnescapeString(m[2]), server.RejectionMessage(tc.reason); got != want {
					t.Fatalf("message %q, want %q", got, want)
				}
				if !strings.Contains(body, `value="Ann Example"`) {
					t.Fatal("the form lost the name")
				}
			})
		}
	})

	t.Run("ErrForm", func(t *testing.T) {
		tests := []struct {
			name   string
			fields map[string]string
			photo  []byte
			want   string
		}{
			{"no consent", map[string]string{"name": "Ann", "email": "ann@example.org"}, photo(t, 200, 1), "consent"},
			{"no name", map[string]string{"email": "ann@example.org", "consent": "yes"}, photo(t, 200, 1), "name"},
			{"bad email", map[string]string{"name": "Ann", "email": "ann", "consent": "yes"}, photo(t, 200, 1), "e-mail"},
			{"no photo", fields, nil, "photo"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := postRegistration(t, s, path, tc.fields, "p.png", tc.photo)
				if resp.StatusCode != 422 || !strings.Contains(body, `class="error"`) || !strings.Contains(body, tc.want) {
					t.Fatalf("= %d:\n%s", resp.StatusCode, body)
				}
			})
		}
		if recs, _ := readFeed(t, k, 0); len(recs) != 0 {
			t.Fatalf("refused registrations stored %d attendees", len(recs))
		}
	})

	var manage string
	t.Run("OK", func(t *testing.T) {
		resp, body := postRegistration(t, s, path, fields, "selfie.png", photo(t, 200, 7))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("= %d %s", resp.StatusCode, body)
		}
		manage = resp.Header.Get("Location")
		resp, body = do(t, httpc, "GET", s.URL()+manage, nil, "")
		code := regexp.MustCompile(`id="short-code">([0-9A-Z]{4}-[0-9A-Z]{4})<`).FindStringSubmatch(body)
		if resp.StatusCode != 200 || code == nil || !strings.Contains(body, `src="data:image/png;base64,`) {
			t.Fatalf("confirmation = %d %s", resp.StatusCode, body)
		}
		// The kiosk gets the template derived from the photo, and the code hash.
		recs, _ := readFeed(t, k, 0)
		if len(recs) != 1 || recs[0].Name != "Ann Example" || recs[0].CodeHash != api.HashShortCode(k.TemplateKey, code[1]) {
			t.Fatalf("feed = %+v", recs)
		}
		tpl, err := api.OpenTemplate(k.TemplateKey, recs[0].AttendeeID, recs[0].Templates[0])
		if err != nil || !bytes.Equal(tpl.Data, templateFrom(photo(t, 200, 7)).Data) {
			t.Fatalf("template = %v, %v", tpl, err)
		}
		// Registering the same e-mail again is refused.
		resp, body = postRegistration(t, s, path, fields, "selfie.png", photo(t, 200, 8))
		if resp.StatusCode != 409 || !strings.Contains(body, "already registered") {
			t.Fatalf("second registration = %d %s", resp.StatusCode, body)
		}
		// A wrong link token shows nothing.
		u, _ := url.Parse(manage)
		if resp, _ := do(t, httpc, "GET", s.URL()+u.Path+"?t=wrong", nil, ""); resp.StatusCode != 404 {
			t.Fatalf("wrong token = %d", resp.StatusCode)
		}
	})

	t.Run("Withdraw", func(t *testing.T) {
		u, err := url.Parse(manage)
		if err != nil {
			t.Fatal(err)
		}
		_, end := readFeed(t, k, 0)
		form := url.Values{"t": {u.Query().Get("t")}}
		resp, body := do(t, httpc, "POST", s.URL()+u.Path+"/delete", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		if resp.StatusCode != 200 || !strings.Contains(body, "deleted") {
			t.Fatalf("withdraw = %d %s", resp.StatusCode, body)
		}
		recs, _ := readFeed(t, k, end.Cursor)
		if len(recs) != 1 || recs[0].Op != api.OpDelete {
			t.Fatalf("delta after withdraw = %+v", recs)
		}
		if resp, _ := do(t, httpc, "GET", s.URL()+manage, nil, ""); resp.StatusCode != 404 {
			t.Fatalf("confirmation after withdraw = %d", resp.StatusCode)
		}
		// The e-mail is free again.
		if resp, body := postRegistration(t, s, path, fields, "selfie.png", photo(t, 200, 9)); resp.StatusCode != 303 {
			t.Fatalf("re-registration = %d %s", resp.StatusCode, body)
		}
	})
}

func TestAdminLogin(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.LoginBurst = 3 })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Not logged in: the dashboard redirects, the API answers 401.
	if resp, _ := do(t, c, "GET", s.URL()+"/admin/", nil, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("dashboard = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := do(t, c, "GET", s.URL()+"/admin/login", nil, "")
	token := csrfRE.FindStringSubmatch(page)[1]
	post := func(user, pass, csrf string) *http.Response {
		form := url.Values{"username": {user}, "password": {pass}, "csrf_token": {csrf}}
		resp, _ := do(t, c, "POST", s.URL()+"/admin/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		return resp
	}
	if resp := post(testUser, testPassword, "forged"); resp.StatusCode != 403 {
		t.Fatalf("forged csrf = %d", resp.StatusCode)
	}
	if resp := post(testUser, "wrong password", token); resp.StatusCode != 401 {
		t.Fatalf("wrong password = %d", resp.StatusCode)
	}
	if resp := post("nobody", "wrong password", token); resp.StatusCode != 401 {
		t.Fatalf("unknown user = %d", resp.StatusCode)
	}
	// Three failures used up the burst: even the right password is refused now.
	if resp := post(testUser, testPassword, token); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("rate limit = %d", resp.StatusCode)
	}
	s.Clock.Add(time.Minute)
	resp := post(testUser, testPassword, token)
	if resp.StatusCode != 303 {
		t.Fatalf("login = %d", resp.StatusCode)
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "fc_session" {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" {
		t.Fatalf("session cookie = %+v", sc)
	}

	// Logged in: the dashboard works; logging out needs the CSRF token.
	resp, body := do(t, c, "GET", s.URL()+"/admin/", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "DevDay") {
		t.Fatalf("dashboard = %d %s", resp.StatusCode, body)
	}
	csrf := csrfRE.FindStringSubmatch(body)[1]
	if resp, _ := do(t, c, "POST", s.URL()+"/admin/logout", strings.NewReader("csrf_token=x"), "application/x-www-form-urlencoded"); resp.StatusCode != 403 {
		t.Fatalf("logout without csrf = %d", resp.StatusCode)
	}
	if resp, _ := do(t, c, "POST", s.URL()+"/admin/logout", strings.NewReader("csrf_token="+url.QueryEscape(csrf)), "application/x-www-form-urlencoded"); resp.StatusCode != 303 {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	if resp, _ := do(t, c, "GET", s.URL()+"/admin/", nil, ""); resp.StatusCode != 303 {
		t.Fatalf("dashboard after logout = %d", resp.StatusCode)
	}
}

func TestDashboard(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Hall kiosk")
	ann := addAttendee(t, s, s.Event.ID, "Ann O'Neil", "ann")
	addAttendee(t, s, s.Event.ID, "Bob <b>", "bob")

	resp, body := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID+"?q=o%27n", nil, "")
	if resp.StatusCode != 200 || strings.Count(body, `class="attendee"`) != 1 || !strings.Contains(body, "Ann O&#39;Neil") {
		t.Fatalf("search = %d %s", resp.StatusCode, body)
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID+"?q=%25", nil, "")
	if strings.Count(body, `class="attendee"`) != 0 {
		t.Fatal("a search for % matched everyone")
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	if strings.Count(body, `class="attendee"`) != 2 || strings.Contains(body, "<b>") || !strings.Contains(body, "Hall kiosk") {
		t.Fatalf("list = %s", body)
	}

	// The live counter: an event at once, another after a check-in.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	events := bufio.NewScanner(resp.Body)
	events.Buffer(nil, 1<<20)
	// nextEvent returns the data of the next server-sent event named name.
	nextEvent := func(name string, out any) {
		t.Helper()
		var typ string
		for events.Scan() {
			line := events.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok && typ == name {
				if err := json.Unmarshal([]byte(data), out); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("stream ended: %v", events.Err())
	}
	next := func() api.EventStats {
		t.Helper()
		var st api.EventStats
		nextEvent("stats", &st)
		return st
	}
	type activity struct {
		Feed []struct {
			ID, Name, Kiosk, Method string
			AttendeeID              string `json:"attendee_id"`
			Repeat                  bool
		}
		CheckIns  map[string]int `json:"attendee_checkins"`
		PerMinute []int          `json:"per_minute"`
	}
	if st := next(); st.CheckIns != 0 || st.Attendees != 2 {
		t.Fatalf("first = %+v", st)
	}
	var act activity
	nextEvent("activity", &act)
	if len(act.Feed) != 0 || len(act.PerMinute) != 30 {
		t.Fatalf("first activity = %+v", act)
	}
	ci := newCheckIn(ann.ID, s.Clock.Now())
	k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{ci}}, 200, nil)
	if st := next(); st.CheckIns != 1 {
		t.Fatalf("after check-in = %+v", st)
	}
	nextEvent("activity", &act)
	if len(act.Feed) != 1 || act.Feed[0].ID != ci.ID || act.Feed[0].Name != "Ann O'Neil" || act.Feed[0].Kiosk != "Hall kiosk" ||
		act.Feed[0].Method != string(ci.Method) || act.Feed[0].Repeat || act.CheckIns[ann.ID] != 1 || act.PerMinute[29] != 1 {
		t.Fatalf("activity after check-in = %+v", act)
	}
	// A second check-in of Ann is a repeat, newest first in the feed.
	s.Clock.Add(time.Second)
	ci2 := newCheckIn(ann.ID, s.Clock.Now())
	k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{ci2}}, 200, nil)
	next()
	nextEvent("activity", &act)
	if len(act.Feed) != 2 || act.Feed[0].ID != ci2.ID || !act.Feed[0].Repeat || act.CheckIns[ann.ID] != 2 || act.PerMinute[29] != 2 {
		t.Fatalf("activity after repeat = %+v", act)
	}
	// The same as JSON, and in the page as rendered.
	var act2 activity
	call(t, a.c, newJSONRequest(t, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/activity", nil), 200, &act2)
	if len(act2.Feed) != 2 || act2.PerMinute[29] != 2 {
		t.Fatalf("GET activity = %+v", act2)
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	if strings.Count(body, `class="feed-row"`) != 2 || !strings.Contains(body, `<td class="checkins">2</td>`) {
		t.Fatalf("event page lacks the feed: %s", body)
	}

	// Pairing code and delete from the page, with and without CSRF.
	_, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	csrf := csrfRE.FindStringSubmatch(body)[1]
	form := func(token string) *strings.Reader {
		return strings.NewReader(url.Values{"csrf_token": {token}}.Encode())
	}
	// A new pairing code: POST, 303 to a GET page that shows it, and shows
	// it again on reload.
	noFollow := &http.Client{Jar: a.c.Jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = do(t, noFollow, "POST", s.URL()+"/admin/events/"+s.Event.ID+"/pairing-codes", form(csrf), "application/x-www-form-urlencoded")
	codePage := "/admin/events/" + s.Event.ID + "/pairing-code"
	if resp.StatusCode != 303 || resp.Header.Get("Location") != codePage {
		t.Fatalf("pairing code post = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	codeRE := regexp.MustCompile(`id="pairing-code">([0-9A-Z]{5}-[0-9A-Z]{5})<`)
	var codes []string
	for range 2 {
		resp, body = do(t, a.c, "GET", s.URL()+codePage, nil, "")
		m := codeRE.FindStringSubmatch(body)
		if resp.StatusCode != 200 || m == nil {
			t.Fatalf("pairing code page = %d %s", resp.StatusCode, body)
		}
		codes = append(codes, m[1])
	}
	if codes[0] != codes[1] {
		t.Fatalf("reload showed another code: %q", codes)
	}
	var pr api.PairResponse
	call(t, httpc, newJSONRequest(t, "POST", s.URL()+"/v1/pair", api.PairRequest{Code: codes[0], DeviceName: "Door kiosk", AppVersion: "0.1"}), 201, &pr)
	// Once the code expired the page sends the admin back to the event.
	s.Clock.Add(time.Hour)
	if resp, _ := do(t, noFollow, "GET", s.URL()+codePage, nil, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/admin/events/"+s.Event.ID {
		t.Fatalf("expired pairing code page = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	s.Clock.Add(-time.Hour)
	if resp, _ := do(t, a.c, "POST", s.URL()+"/admin/attendees/"+ann.ID+"/delete", form("forged"), "application/x-www-form-urlencoded"); resp.StatusCode != 403 {
		t.Fatalf("delete with forged csrf = %d", resp.StatusCode)
	}
	resp, body = do(t, a.c, "POST", s.URL()+"/admin/attendees/"+ann.ID+"/delete", form(csrf), "application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || strings.Contains(body, "Ann O&#39;Neil") {
		t.Fatalf("after delete = %d %s", resp.StatusCode, body)
	}
	if st := next(); st.Attendees != 1 {
		t.Fatalf("after delete = %+v", st)
	}
	if resp, body := do(t, a.c, "GET", s.URL()+"/nope", nil, ""); resp.StatusCode != 404 || !strings.Contains(body, "<html") {
		t.Fatalf("unknown page = %d %s", resp.StatusCode, body)
	}
}
