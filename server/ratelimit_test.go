package server_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
)

// concurrently runs n requests at once and counts their statuses.
func concurrently(n int, req func(i int) int) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			st := req(i)
			mu.Lock()
			counts[st]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

// Every expensive public request is charged before its work: 40 at once
// from one address get through only as many as the burst allows, the rest
// answer 429 with Retry-After. Charging after the work (as log-in and
// pairing did) let all 40 through to argon2.
func TestRateLimitsChargeBeforeWork(t *testing.T) {
	const n = 40
	s := newTestServer(t, func(c *server.Config) {
		c.LoginBurst = 5
		c.Register = server.Rate{Burst: 4, Every: time.Hour}
		c.Enrol = server.Rate{Burst: 3, Every: time.Hour}
	})
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	jar, _ := cookiejar.New(nil)
	lc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: noRedirect}
	_, page := do(t, lc, "GET", s.URL()+"/admin/login", nil, "")
	token := csrfRE.FindStringSubmatch(page)[1]

	tests := []struct {
		name    string
		passed  int // the status of a request that got to the work
		maxPass int
		req     func(i int) (*http.Response, error)
	}{
		{"login", http.StatusUnauthorized, 5, func(i int) (*http.Response, error) {
			form := url.Values{"username": {testUser}, "password": {"wrong password"}, "csrf_token": {token}}
			return lc.Post(s.URL()+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		}},
		{"pairing", http.StatusUnauthorized, 5, func(i int) (*http.Response, error) {
			req := newJSONRequest(t, "POST", s.URL()+"/v1/pair", api.PairRequest{Code: "ABCD-EFGH", DeviceName: "x"})
			return httpc.Do(req)
		}},
		{"registration", http.StatusSeeOther, 4, func(i int) (*http.Response, error) {
			body, ct := registrationForm(t, map[string]string{
				"name": "Guest", "email": uuid.NewString() + "@example.com", "consent": "yes"}, "selfie.png", photo(t, 200, byte(i)))
			req, _ := http.NewRequest("POST", s.URL()+"/register/"+s.Event.ID, body)
			req.Header.Set("Content-Type", ct)
			return (&http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect}).Do(req)
		}},
		{"enrolment", http.StatusCreated, 3, func(i int) (*http.Response, error) {
			tpl := templateFrom([]byte{byte(i)})
			id := uuid.NewString()
			st, err := api.SealTemplate(k.TemplateKey, id, tpl)
			if err != nil {
				t.Error(err)
			}
			req := newJSONRequest(t, "POST", s.URL()+"/v1/enrol", api.EnrolRequest{ID: id, Name: "Walk-up", Consent: true, Template: st})
			req.Header.Set("Authorization", "Bearer "+k.Token)
			return httpc.Do(req)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			retry := 0
			counts := concurrently(n, func(i int) int {
				resp, err := tt.req(i)
				if err != nil {
					t.Error(err)
					return 0
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "" {
					mu.Lock()
					retry++
					mu.Unlock()
				}
				return resp.StatusCode
			})
			if counts[tt.passed] > tt.maxPass || counts[tt.passed]+counts[http.StatusTooManyRequests] != n {
				t.Errorf("%d at once: %v; want at most %d answered %d, the rest 429", n, counts, tt.maxPass, tt.passed)
			}
			if retry != counts[http.StatusTooManyRequests] {
				t.Errorf("%d of %d 429 answers carry Retry-After", retry, counts[http.StatusTooManyRequests])
			}
			t.Logf("%d at once: %v", n, counts)
		})
	}
}

// The global bucket bounds what many addresses together can do, however
// generous the per-address one; a success refunds log-in tokens, so an
// admin who logs in right is never slowed down.
func TestRateLimitsGlobalAndRefund(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) {
		c.Register = server.Rate{Burst: 100, Every: time.Second}
		c.RegisterGlobal = server.Rate{Burst: 2, Every: time.Hour}
		c.LoginBurst = 2
	})
	var got []int
	for i := range 5 {
		resp, _ := postRegistration(t, s, "/register/"+s.Event.ID, map[string]string{
			"name": "Guest", "email": uuid.NewString() + "@example.com", "consent": "yes"}, "p.png", photo(t, 200, byte(i)))
		got = append(got, resp.StatusCode)
	}
	if want := []int{303, 303, 429, 429, 429}; !equalInts(got, want) {
		t.Errorf("registrations under a global burst of 2: %v, want %v", got, want)
	}
	for range 5 {
		login(t, s) // fails the test on a 429
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
