package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

const (
	testUser     = "admin"
	testPassword = "correct horse battery"
	testModel    = "test-model"
)

// clock is a settable clock shared by the store and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEncoder is the engine boundary's test double: it checks the bytes are
// a JPEG or PNG and derives a template deterministically from them, so the
// same photo always gives the same template and different photos give
// nearly orthogonal ones. Images 100 or 101 pixels wide stand for photos
// the engine rejects (no face, blurry).
type testEncoder struct{}

func (testEncoder) Encode(ctx context.Context, img []byte) (api.Template, error) {
	m, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return api.Template{}, &server.Rejection{Reason: server.ReasonNotAnImage, Detail: err.Error()}
	}
	switch m.Bounds().Dx() {
	case 100:
		return api.Template{}, &server.Rejection{Reason: server.ReasonNoFace}
	case 101:
		return api.Template{}, &server.Rejection{Reason: server.ReasonBlurry}
	}
	return templateFrom(img), nil
}

// templateFrom derives a pseudo-random template from seed bytes.
func templateFrom(seed []byte) api.Template {
	data := make([]byte, 0, server.TemplateDim)
	h := sha256.Sum256(seed)
	for i := uint32(0); len(data) < server.TemplateDim; i++ {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], i)
		b := sha256.Sum256(append(h[:], c[:]...))
		data = append(data, b[:]...)
	}
	return api.Template{Model: testModel, Version: 1, Data: data[:server.TemplateDim]}
}

// photo returns a PNG of the given width whose pixels depend on seed.
func photo(t testing.TB, width int, seed byte) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, width, 120))
	for y := range 120 {
		for x := range width {
			m.Set(x, y, color.RGBA{byte(x) ^ seed, byte(y) + seed, seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type testServer struct {
	*server.Server
	DB    *store.DB
	Clock *clock
	Event *store.Event
}

// newTestServer starts a server on 127.0.0.1 with a SQLite file in a temp
// dir, an admin user and one event.
func newTestServer(t testing.TB, edit ...func(*server.Config)) *testServer {
	t.Helper()
	return startTestServer(t, testDSN(t), edit...)
}

// startTestServer is newTestServer on the database at dsn.
func startTestServer(t testing.TB, dsn string, edit ...func(*server.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	key := bytes.Repeat([]byte{42}, api.KeySize)
	db, err := store.Open(ctx, dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db.Now = clk.Now
	b, err := server.RunBootstrap(ctx, db, testUser, testPassword, "DevDay")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	for _, e := range edit {
		e(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := server.NewServer(cfg, db, testEncoder{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = clk.Now
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &testServer{Server: s, DB: db, Clock: clk, Event: b.Event}
}

// testDSN is a SQLite file in a temp dir or, when FACECHECK_TEST_POSTGRES
// is set, a fresh schema in that PostgreSQL database.
func testDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FACECHECK_TEST_POSTGRES")
	if base == "" {
		return filepath.Join(t.TempDir(), "server.db")
	}
	schema := "fc_srv_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// admin is a logged-in admin client.
type admin struct {
	c    *http.Client
	csrf string
	base string
}

func login(t testing.TB, s *testServer) *admin {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, body := do(t, c, "GET", s.URL()+"/admin/login", nil, "")
	m := csrfRE.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"username": {testUser}, "password": {testPassword}, "csrf_token": {m[1]}}
	resp, body = do(t, c, "POST", s.URL()+"/admin/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || !strings.Contains(body, "Events") {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var sess api.Session
	a := &admin{c: c, base: s.URL()}
	a.json(t, "GET", "/v1/admin/session", nil, 200, &sess)
	if sess.Username != testUser || sess.CSRFToken == "" {
		t.Fatalf("session = %+v", sess)
	}
	a.csrf = sess.CSRFToken
	return a
}

// json calls the admin API and decodes the answer into out.
func (a *admin) json(t testing.TB, method, path string, in any, want int, out any) {
	t.Helper()
	req := newJSONRequest(t, method, a.base+path, in)
	req.Header.Set("X-CSRF-Token", a.csrf)
	call(t, a.c, req, want, out)
}

func newJSONRequest(t testing.TB, method, u string, in any) *http.Request {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// call sends req, checks the status and decodes JSON into out (an
// *api.Problem for error statuses, checked for its content type).
func call(t testing.TB, c *http.Client, req *http.Request, want int, out any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, b)
	}
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: Content-Type %q, want application/problem+json", req.Method, req.URL.Path, ct)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", req.Method, req.URL.Path, b, err)
		}
	}
}

func do(t testing.TB, c *http.Client, method, u string, body io.Reader, contentType string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return send(t, c, req)
}

// send sends req with c and reads the whole answer.
func send(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// kiosk is a paired kiosk client.
type kiosk struct {
	api.PairResponse
	base string
}

func (k *kiosk) json(t testing.TB, method, path string, in any, want int, out any) {
	t.Helper()
	req := newJSONRequest(t, method, k.base+path, in)
	req.Header.Set("Authorization", "Bearer "+k.Token)
	call(t, httpc, req, want, out)
}

func pair(t testing.TB, s *testServer, a *admin, eventID, name string) *kiosk {
	t.Helper()
	var pc api.PairingCode
	a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: eventID}, 201, &pc)
	k := &kiosk{base: s.URL()}
	call(t, httpc, newJSONRequest(t, "POST", s.URL()+"/v1/pair",
		api.PairRequest{Code: pc.Code, DeviceName: name, AppVersion: "0.1"}), 201, &k.PairResponse)
	return k
}

// addAttendee stores an attendee with a template derived from seed.
func addAttendee(t testing.TB, s *testServer, eventID, name, seed string) *store.Attendee {
	t.Helper()
	reg, err := s.DB.CreateAttendee(context.Background(), store.AttendeeCreate{
		EventID: eventID, Name: name, Consent: true, Templates: []api.Template{templateFrom([]byte(seed))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Attendee
}

// readFeed reads a gallery feed to its end line.
func readFeed(t testing.TB, k *kiosk, since int64) ([]api.GalleryRecord, api.GalleryEnd) {
	t.Helper()
	req, err := http.NewRequest("GET", fmt.Sprintf("%s/v1/gallery?since=%d", k.base, since), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+k.Token)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("gallery: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	dec := json.NewDecoder(resp.Body)
	var recs []api.GalleryRecord
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("gallery: no end line: %v", err)
		}
		var end api.GalleryEnd
		if err := json.Unmarshal(raw, &end); err == nil && end.End {
			if dec.More() {
				t.Fatal("gallery: data after the end line")
			}
			return recs, end
		}
		var rec api.GalleryRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func newCheckIn(attendeeID string, at time.Time) api.CheckIn {
	return api.CheckIn{ID: uuid.NewString(), AttendeeID: attendeeID, Method: api.MethodFace, Score: 0.8, Margin: 0.3, At: at}
}

// httpc is the kiosks' client; the timeout keeps a hung server from hanging the test.
var httpc = &http.Client{Timeout: 10 * time.Second}
