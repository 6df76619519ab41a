package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds every file of testdata/dir to the corpus; they also run as
// plain test cases in every go test.
func seeds(f *testing.F, dir string, edit func([]byte) []byte) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(edit(b))
	}
}

// serve runs one request through the server's handler, without a socket.
func serve(s *testServer, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// The CSV import takes any bytes: it answers the import page (200) or a
// 4xx, never a 500 or a panic, and stores no row it did not report.
func FuzzImportCSV(f *testing.F) {
	seeds(f, "import", func(b []byte) []byte { return b })
	s := newTestServer(f)
	a := login(f, s)
	_, page := do(f, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	csrf := csrfRE.FindStringSubmatch(page)[1]
	u := s.URL() + "/admin/events/" + s.Event.ID + "/attendees.csv"
	cookies := a.c.Jar.Cookies(httptest.NewRequest("GET", u, nil).URL)
	f.Fuzz(func(t *testing.T, csv []byte) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("csrf_token", csrf)
		fw, _ := w.CreateFormFile("file", "people.csv")
		fw.Write(csv)
		w.Close()
		req := httptest.NewRequest("POST", u, &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := serve(s, req)
		if rec.Code >= 500 || rec.Code != 200 && rec.Code < 400 {
			t.Fatalf("import answered %d: %.500s", rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), "<script>alert") {
			t.Fatal("a CSV field reached the page unescaped")
		}
	})
}

// POST /v1/checkins takes any body: 200 or a 4xx problem, never a 500.
func FuzzCheckInJSON(f *testing.F) {
	s := newTestServer(f)
	a := login(f, s)
	k := pair(f, s, a, s.Event.ID, "Fuzz kiosk")
	at := addAttendee(f, s, s.Event.ID, "Fuzz Person", "fuzz")
	seeds(f, "checkins", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("ATTENDEE"), []byte(at.ID)) })
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", s.URL()+"/v1/checkins", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+k.Token)
		rec := serve(s, req)
		if rec.Code >= 500 || rec.Code != 200 && rec.Code < 400 {
			t.Fatalf("check-ins answered %d: %.500s", rec.Code, rec.Body.String())
		}
	})
}
