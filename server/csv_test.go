package server_test

import (
	"bytes"
	"encoding/csv"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
)

// importCSV posts a CSV file to the event's import form.
func importCSV(t *testing.T, s *testServer, a *admin, csrf, content string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		w.WriteField("csrf_token", csrf)
	}
	fw, err := w.CreateFormFile("file", "people.csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	w.Close()
	return do(t, a.c, "POST", s.URL()+"/admin/events/"+s.Event.ID+"/attendees.csv", &body, w.FormDataContentType())
}

func TestAttendeesCSV(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	addAttendee(t, s, s.Event.ID, "=HYPERLINK(\"x\")", "formula")
	_, page := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	csrf := csrfRE.FindStringSubmatch(page)[1]

	in := "\uFEFFname,email,info\n" +
		"Ann Lee,ann@example.com,Speaker\n" +
		"\"Bob, Jr.\",BOB@example.com\n" +
		"No Mail,not-an-address\n" +
		"Dup,ann@example.com\n" +
		"Too,many@example.com,fields,here\n" +
		",nobody@example.com\n" +
		"\n" +
		"Robert'); DROP TABLE attendees;--,drop@example.com\n"
	resp, body := importCSV(t, s, a, csrf, in)
	if resp.StatusCode != 200 {
		t.Fatalf("import = %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "3 imported, 4 with errors.") {
		t.Fatalf("import summary: %s", body)
	}
	lineErr := func(line string) string {
		m := regexp.MustCompile(`(?s)data-line="` + line + `">(?:[^<]|<[^/]|</[^t]|</t[^r])*?<span class="line-error">([^<]*)</span>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	for line, want := range map[string]string{
		"4": "is not an e-mail address",
		"5": "already registered",
		"6": "expected name,email[,info]: got 4 fields",
		"7": "name is required",
	} {
		if got := lineErr(line); !strings.Contains(got, want) {
			t.Errorf("line %s error = %q, want %q", line, got, want)
		}
	}
	links := regexp.MustCompile(`class="link" href="([^"]+)"`).FindAllStringSubmatch(body, -1)
	codes := regexp.MustCompile(`class="short-code">([0-9A-Z]{4}-[0-9A-Z]{4})<`).FindAllStringSubmatch(body, -1)
	if len(links) != 3 || len(codes) != 3 {
		t.Fatalf("links %q codes %q", links, codes)
	}
	// The link is the attendee's page with their short code.
	anon := &http.Client{Timeout: 10 * time.Second}
	resp, page = do(t, anon, "GET", html.UnescapeString(links[0][1]), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(page, codes[0][1]) || !strings.Contains(page, "Ann Lee") {
		t.Fatalf("registration link = %d %s", resp.StatusCode, page)
	}

	var list api.AttendeeList
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID+"/attendees?limit=500", nil, 200, &list)
	if list.Total != 4 {
		t.Fatalf("attendees after import = %+v", list)
	}
	for _, at := range list.Attendees {
		if at.Source == "admin" && at.Templates != 0 {
			t.Errorf("imported %s has %d templates", at.Name, at.Templates)
		}
		if at.Name == "Bob, Jr." && (at.Email != "bob@example.com" || at.Source != "admin") {
			t.Errorf("Bob = %+v", at)
		}
		if at.Name == "Ann Lee" && at.Info != "Speaker" {
			t.Errorf("Ann = %+v", at)
		}
	}

	// Export: every attendee, formulas defused.
	resp, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/attendees.csv", nil, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || strings.Join(recs[0], ",") != "id,name,email,info,source,checkins,templates,registered_at" {
		t.Fatalf("export = %q", recs)
	}
	names := map[string][]string{}
	for _, r := range recs[1:] {
		names[r[1]] = r
	}
	if r := names["Bob, Jr."]; r == nil || r[2] != "bob@example.com" || r[4] != "admin" || r[6] != "0" {
		t.Errorf("Bob in export = %q", r)
	}
	if names[`'=HYPERLINK("x")`] == nil {
		t.Errorf("formula not defused: %q", recs)
	}
	if names["Robert'); DROP TABLE attendees;--"] == nil {
		t.Errorf("SQL-ish name not stored as text: %q", recs)
	}

	// Admin only, CSRF-checked, size-limited, empty files refused.
	jar, _ := cookiejar.New(nil)
	noAuth := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := do(t, noAuth, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/attendees.csv", nil, ""); resp.StatusCode != 303 {
		t.Errorf("export without a session = %d", resp.StatusCode)
	}
	if resp, _ := importCSV(t, s, a, "", "X,x@example.com\n"); resp.StatusCode != 403 {
		t.Errorf("import without csrf = %d", resp.StatusCode)
	}
	big := strings.Repeat("Name,name@example.com,"+strings.Repeat("i", 100)+"\n", 20000)
	if resp, body := importCSV(t, s, a, csrf, big); resp.StatusCode != 413 || !strings.Contains(body, "too large") {
		t.Errorf("oversized import = %d %.200s", resp.StatusCode, body)
	}
	if resp, body := importCSV(t, s, a, csrf, "name,email\n"); resp.StatusCode != 200 || !strings.Contains(body, "0 imported, 0 with errors.") {
		t.Errorf("header-only import = %d %.300s", resp.StatusCode, body)
	}
	if resp, body := importCSV(t, s, a, csrf, "Bad \"quote,x@example.com\n"); resp.StatusCode != 422 || !strings.Contains(body, "not valid CSV") {
		t.Errorf("broken CSV import = %d %.300s", resp.StatusCode, body)
	}
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID+"/attendees?limit=500", nil, 200, &list)
	if list.Total != 4 {
		t.Errorf("rejected imports wrote attendees: total %d", list.Total)
	}
	if resp, _ := do(t, a.c, "GET", s.URL()+"/admin/events/nope/attendees.csv", nil, ""); resp.StatusCode != 404 {
		t.Errorf("export of an unknown event = %d", resp.StatusCode)
	}
}
