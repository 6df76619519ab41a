package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
)

// The CSV import's withdraw links start with the configured public URL,
// or the listen URL, never with the request's Host header: a forged
// Host made them point at http://evil.example/.
func TestImportLinksIgnoreHostHeader(t *testing.T) {
	for _, public := range []string{"", "https://checkin.example.org"} {
		s := newTestServer(t, func(c *server.Config) { c.PublicURL = public })
		a := login(t, s)
		_, page := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("csrf_token", csrfRE.FindStringSubmatch(page)[1])
		fw, _ := w.CreateFormFile("file", "people.csv")
		fw.Write([]byte("name,email\nAnn Lee,ann@example.com\n"))
		w.Close()
		req, _ := http.NewRequest("POST", s.URL()+"/admin/events/"+s.Event.ID+"/attendees.csv", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Host = "evil.example"
		// The session cookie by hand: a client's jar files cookies under
		// the Host it sends.
		for _, c := range a.c.Jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		resp.Body.Close()
		want := public
		if want == "" {
			want = s.URL()
		}
		if strings.Contains(out.String(), "evil.example") || !strings.Contains(out.String(), want+"/register/"+s.Event.ID+"/me/") {
			t.Errorf("public URL %q: the import page's links do not start with %s:\n%.1500s", public, want, out.String())
		}
	}
}

// With --acme-host the server asks the ACME CA for that host name only:
// a handshake naming another host fails without a request to the CA, one
// naming the host reaches the CA (here a stand-in that refuses).
func TestACMEOnlyForItsHost(t *testing.T) {
	var calls atomic.Int32
	ca := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer ca.Close()
	s := newTestServer(t, func(c *server.Config) {
		c.ACMEHost, c.ACMECacheDir, c.ACMEDirectory = "checkin.example.org", t.TempDir(), ca.URL
	})
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s, want https", s.URL())
	}
	host := strings.TrimPrefix(s.URL(), "https://")
	hs := func(name string) error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", host, &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := hs("evil.example"); err == nil || calls.Load() != 0 {
		t.Fatalf("handshake for another host: %v, %d CA requests; want a failure and none", err, calls.Load())
	}
	if err := hs("checkin.example.org"); err == nil || calls.Load() == 0 {
		t.Fatalf("handshake for the host: %v, %d CA requests; want the CA asked", err, calls.Load())
	}
}

// An admin deletes an event: its attendees, kiosks and check-ins are gone,
// its kiosks are unpaired, other events stay; it is audited.
func TestAdminDeletesEvent(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	var other api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Other"}, 201, &other)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	at := addAttendee(t, s, s.Event.ID, "Gone Person", "gone")
	keep := addAttendee(t, s, other.ID, "Kept Person", "kept")
	k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{newCheckIn(at.ID, s.Clock.Now())}}, 200, nil)

	a.json(t, "DELETE", "/v1/admin/events/"+s.Event.ID, nil, 204, nil)
	a.json(t, "DELETE", "/v1/admin/events/"+s.Event.ID, nil, 404, nil)
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID, nil, 404, nil)
	k.json(t, "GET", "/v1/settings", nil, 401, nil)
	if _, err := s.DB.FindAttendeeByID(context.Background(), at.ID); err == nil {
		t.Error("the deleted event's attendee is still stored")
	}
	if a2, err := s.DB.FindAttendeeByID(context.Background(), keep.ID); err != nil || a2.DeletedAt != nil {
		t.Errorf("the other event's attendee: %+v %v", a2, err)
	}
	// Without the CSRF header nothing is deleted.
	req := newJSONRequest(t, "DELETE", s.URL()+"/v1/admin/events/"+other.ID, nil)
	call(t, a.c, req, 403, &api.Problem{})
	entries, err := s.DB.ListAudit(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Action == "event.delete" && e.Target == s.Event.ID && e.Actor == testUser
	}
	if !found {
		t.Errorf("no event.delete audit entry in %+v", entries)
	}
}
