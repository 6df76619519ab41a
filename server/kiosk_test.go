package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server"
)

func TestPairing(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)

	t.Run("OK", func(t *testing.T) {
		k := pair(t, s, a, s.Event.ID, "Kiosk A")
		if k.EventID != s.Event.ID || k.EventName != "DevDay" || len(k.TemplateKey) != api.KeySize || !strings.HasPrefix(k.Token, "fck_") {
			t.Fatalf("pair = %+v", k.PairResponse)
		}
		var st api.EventSettings
		k.json(t, "GET", "/v1/settings", nil, 200, &st)
		if st.EventID != s.Event.ID || st.Thresholds.Accept == 0 {
			t.Fatalf("settings = %+v", st)
		}
	})

	t.Run("ErrCodes", func(t *testing.T) {
		var pc api.PairingCode
		a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID}, 201, &pc)
		var expired api.PairingCode
		a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID}, 201, &expired)
		// Typed in lower case without the dash: still the same code.
		typed := strings.ToLower(strings.ReplaceAll(pc.Code, "-", ""))
		call(t, httpc, newJSONRequest(t, "POST", s.URL()+"/v1/pair", api.PairRequest{Code: typed, DeviceName: "B"}), 201, nil)

		s.Clock.Add(time.Hour)
		tests := []struct {
			name, code, want string
		}{
			{"used", pc.Code, "pairing_code_invalid"},
			{"unknown", "AAAAA-BBBBB", "pairing_code_invalid"},
			{"expired", expired.Code, "pairing_code_expired"},
			{"SQL-ish", "' OR 1=1 --", "pairing_code_invalid"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var p api.Problem
				call(t, httpc, newJSONRequest(t, "POST", s.URL()+"/v1/pair", api.PairRequest{Code: tc.code, DeviceName: "C"}), 401, &p)
				if p.Code != tc.want {
					t.Fatalf("code = %q, want %q", p.Code, tc.want)
				}
			})
		}
	})

	t.Run("ErrUnknownEvent", func(t *testing.T) {
		var p api.Problem
		a.json(t, "POST", "/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: "nope"}, 404, &p)
	})

	t.Run("ErrAdminAuth", func(t *testing.T) {
		// No session at all.
		var p api.Problem
		call(t, httpc, newJSONRequest(t, "POST", s.URL()+"/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID}), 401, &p)
		if p.Code != "login_required" {
			t.Fatalf("code = %q", p.Code)
		}
		// A session but no CSRF header.
		req := newJSONRequest(t, "POST", s.URL()+"/v1/admin/pairing-codes", api.PairingCodeRequest{EventID: s.Event.ID})
		call(t, a.c, req, 403, &p)
		if p.Code != "csrf_invalid" {
			t.Fatalf("code = %q", p.Code)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		k := pair(t, s, a, s.Event.ID, "Kiosk R")
		other := pair(t, s, a, s.Event.ID, "Kiosk S")
		k.json(t, "POST", "/v1/heartbeat", api.Heartbeat{AppVersion: "0.2", Queued: 3, Cursor: 0, At: s.Clock.Now()}, 204, nil)
		var rk api.Kiosk
		a.json(t, "POST", "/v1/admin/kiosks/"+k.KioskID+"/revoke", nil, 200, &rk)
		if !rk.Revoked || rk.AppVersion != "0.2" || rk.Queued != 3 {
			t.Fatalf("revoked kiosk = %+v", rk)
		}
		for _, path := range []string{"/v1/settings", "/v1/gallery"} {
			var p api.Problem
			k.json(t, "GET", path, nil, 401, &p)
			if p.Code != "token_revoked" {
				t.Fatalf("%s: code = %q", path, p.Code)
			}
		}
		other.json(t, "GET", "/v1/settings", nil, 200, nil) // others unaffected
		a.json(t, "POST", "/v1/admin/kiosks/nope/revoke", nil, 404, nil)
	})

	t.Run("ErrToken", func(t *testing.T) {
		tests := []struct {
			name, header, want string
		}{
			{"missing", "", "token_missing"},
			{"not bearer", "Basic abc", "token_missing"},
			{"wrong", "Bearer fck_wrong", "token_invalid"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req := newJSONRequest(t, "GET", s.URL()+"/v1/settings", nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				var p api.Problem
				call(t, httpc, req, 401, &p)
				if p.Code != tc.want {
					t.Fatalf("code = %q, want %q", p.Code, tc.want)
				}
			})
		}
	})
}

func TestGalleryFeed(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk A")
	var other api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Other event"}, 201, &other)
	ko := pair(t, s, a, other.ID, "Other kiosk")

	ann := addAttendee(t, s, s.Event.ID, "Ann", "ann")
	bob := addAttendee(t, s, s.Event.ID, "Bob", "bob")
	addAttendee(t, s, other.ID, "Olga", "olga")

	recs, end := readFeed(t, k, 0)
	if len(recs) != 2 || end.Count != 2 || end.Cursor != recs[1].Cursor || !end.Snapshot {
		t.Fatalf("full feed = %+v, end %+v", recs, end)
	}
	for i, want := range []string{"Ann", "Bob"} {
		r := recs[i]
		if r.Op != api.OpUpsert || r.Name != want || len(r.Templates) != 1 || r.CodeHash == "" {
			t.Fatalf("record %d = %+v", i, r)
		}
		tpl, err := api.OpenTemplate(k.TemplateKey, r.AttendeeID, r.Templates[0])
		if err != nil {
			t.Fatalf("open %s's template with the pairing key: %v", want, err)
		}
		if !bytes.Equal(tpl.Data, templateFrom([]byte(strings.ToLower(want))).Data) {
			t.Fatalf("%s's template differs", want)
		}
		if _, err := api.OpenTemplate(ko.TemplateKey, r.AttendeeID, r.Templates[0]); err == nil {
			t.Fatal("another event's key opens the template")
		}
	}
	if recs, _ := readFeed(t, ko, 0); len(recs) != 1 || recs[0].Name != "Olga" {
		t.Fatalf("other event's feed = %+v", recs)
	}

	// Nothing new: empty feed, same cursor.
	if recs, e := readFeed(t, k, end.Cursor); len(recs) != 0 || e.Cursor != end.Cursor || e.Snapshot {
		t.Fatalf("empty delta = %+v %+v", recs, e)
	}

	// Delete Ann, add Carl: the delta has a tombstone and an upsert.
	a.json(t, "DELETE", "/v1/admin/attendees/"+ann.ID, nil, 204, nil)
	addAttendee(t, s, s.Event.ID, "Carl", "carl")
	recs, end2 := readFeed(t, k, end.Cursor)
	if len(recs) != 2 || recs[0].Op != api.OpDelete || recs[0].AttendeeID != ann.ID || recs[0].Name != "" ||
		len(recs[0].Templates) != 0 || recs[1].Op != api.OpUpsert || recs[1].Name != "Carl" || end2.Cursor <= end.Cursor || end2.Snapshot {
		t.Fatalf("delta = %+v, end %+v", recs, end2)
	}
	// A full feed leaves the tombstone out.
	recs, _ = readFeed(t, k, 0)
	if len(recs) != 2 || recs[0].AttendeeID != bob.ID || recs[1].Name != "Carl" {
		t.Fatalf("full feed after delete = %+v", recs)
	}
	// The tombstone is final: deleting again changes nothing.
	a.json(t, "DELETE", "/v1/admin/attendees/"+ann.ID, nil, 204, nil)
	if recs, _ := readFeed(t, k, end2.Cursor); len(recs) != 0 {
		t.Fatalf("second delete made records %+v", recs)
	}
	// A cursor beyond the event's (server reset) starts over, and says so:
	// only an announced snapshot lets the kiosk drop what is missing.
	if recs, e := readFeed(t, k, 1<<40); len(recs) != 2 || !e.Snapshot || e.Count != 2 {
		t.Fatalf("feed from a future cursor = %+v, end %+v", recs, e)
	}

	t.Run("ErrCursor", func(t *testing.T) {
		for _, since := range []string{"abc", "-1", "1.5"} {
			var p api.Problem
			k.json(t, "GET", "/v1/gallery?since="+since, nil, 400, &p)
			if p.Code != "invalid_cursor" {
				t.Fatalf("since=%s: code %q", since, p.Code)
			}
		}
	})
}

func TestCheckIns(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k1 := pair(t, s, a, s.Event.ID, "Kiosk 1")
	k2 := pair(t, s, a, s.Event.ID, "Kiosk 2")
	var other api.Event
	a.json(t, "POST", "/v1/admin/events", api.EventCreate{Name: "Other"}, 201, &other)
	ann := addAttendee(t, s, s.Event.ID, "Ann", "ann")
	olga := addAttendee(t, s, other.ID, "Olga", "olga")
	now := s.Clock.Now()

	first := newCheckIn(ann.ID, now)
	second := newCheckIn(ann.ID, now.Add(time.Minute))
	foreign := newCheckIn(olga.ID, now)
	unknown := newCheckIn("no-such-attendee", now)

	steps := []struct {
		name  string
		k     *kiosk
		batch []api.CheckIn
		want  []api.CheckInResult
	}{
		{"first", k1, []api.CheckIn{first},
			[]api.CheckInResult{{ID: first.ID, Status: api.StatusAccepted}}},
		{"replay", k1, []api.CheckIn{first},
			[]api.CheckInResult{{ID: first.ID, Status: api.StatusDuplicate}}},
		{"replay from the other kiosk", k2, []api.CheckIn{first},
			[]api.CheckInResult{{ID: first.ID, Status: api.StatusDuplicate}}},
		{"same person at another kiosk", k2, []api.CheckIn{second},
			[]api.CheckInResult{{ID: second.ID, Status: api.StatusAccepted, Repeat: true}}},
		{"replay of the repeat", k2, []api.CheckIn{second, second},
			[]api.CheckInResult{{ID: second.ID, Status: api.StatusDuplicate, Repeat: true}, {ID: second.ID, Status: api.StatusDuplicate, Repeat: true}}},
		{"attendee of another event", k1, []api.CheckIn{foreign, unknown},
			[]api.CheckInResult{{ID: foreign.ID, Status: api.StatusRejected}, {ID: unknown.ID, Status: api.StatusRejected}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var res api.CheckInBatchResult
			st.k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: st.batch}, 200, &res)
			if len(res.Results) != len(st.want) {
				t.Fatalf("results = %+v", res.Results)
			}
			for i := range st.want {
				if res.Results[i] != st.want[i] {
					t.Fatalf("result %d = %+v, want %+v", i, res.Results[i], st.want[i])
				}
			}
		})
	}

	var stats api.EventStats
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID+"/stats", nil, 200, &stats)
	if stats.CheckIns != 1 || stats.Repeats != 1 || stats.Attendees != 1 || stats.Kiosks != 2 {
		t.Fatalf("stats = %+v", stats)
	}
	cs, err := s.DB.ListCheckIns(context.Background(), s.Event.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != second.ID || cs[0].KioskID != k2.KioskID || !cs[0].Repeat || cs[1].KioskID != k1.KioskID {
		t.Fatalf("stored check-ins = %+v", cs)
	}

	t.Run("ErrInvalidItemWritesNothing", func(t *testing.T) {
		good := newCheckIn(ann.ID, now)
		tests := []struct {
			name string
			bad  api.CheckIn
		}{
			{"id not a UUID", api.CheckIn{ID: "1", AttendeeID: ann.ID, Method: api.MethodFace, At: now}},
			{"id upper case", api.CheckIn{ID: strings.ToUpper(uuid.NewString()), AttendeeID: ann.ID, Method: api.MethodFace, At: now}},
			{"unknown method", api.CheckIn{ID: uuid.NewString(), AttendeeID: ann.ID, Method: "telepathy", At: now}},
			{"no time", api.CheckIn{ID: uuid.NewString(), AttendeeID: ann.ID, Method: api.MethodFace}},
			{"no attendee", api.CheckIn{ID: uuid.NewString(), Method: api.MethodFace, At: now}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var p api.Problem
				k1.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{good, tc.bad}}, 422, &p)
				if p.Code != "invalid_checkin" || !strings.Contains(p.Detail, "checkins[1]") {
					t.Fatalf("problem = %+v", p)
				}
			})
		}
		cs, err := s.DB.ListCheckIns(context.Background(), s.Event.ID, 10)
		if err != nil || len(cs) != 2 {
			t.Fatalf("check-ins after refused batches = %d, %v", len(cs), err)
		}
	})
}

func TestIdentify(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Thin kiosk")
	ann := addAttendee(t, s, s.Event.ID, "Ann", "ann")
	addAttendee(t, s, s.Event.ID, "Bob", "bob")

	probe := func(t *testing.T, tpl api.Template) api.IdentifyResponse {
		t.Helper()
		st, err := api.SealTemplate(k.TemplateKey, api.ProbeID, tpl)
		if err != nil {
			t.Fatal(err)
		}
		var res api.IdentifyResponse
		k.json(t, "POST", "/v1/identify", api.IdentifyRequest{Template: st}, 200, &res)
		return res
	}

	t.Run("Accept", func(t *testing.T) {
		res := probe(t, templateFrom([]byte("ann")))
		if !res.Found || res.AttendeeID != ann.ID || res.Name != "Ann" || res.Decision != api.DecisionAccept ||
			res.Score < 0.99 || res.Margin < 0.5 {
			t.Fatalf("identify = %+v", res)
		}
	})
	t.Run("Reject", func(t *testing.T) {
		res := probe(t, templateFrom([]byte("stranger")))
		if res.Found || res.AttendeeID != "" || res.Decision != api.DecisionReject || res.Score > 0.3 {
			t.Fatalf("identify = %+v", res)
		}
	})
	t.Run("Confirm", func(t *testing.T) {
		// Half Ann, half noise: a cosine near 0.5 → confirm under pinned thresholds.
		tpl := templateFrom([]byte("ann"))
		noise := templateFrom([]byte("noise"))
		copy(tpl.Data[256:], noise.Data[256:])
		th := api.Thresholds{Accept: 0.8, Confirm: 0.3, Margin: 0.1}
		a.json(t, "PUT", "/v1/admin/events/"+s.Event.ID+"/settings", api.EventSettingsUpdate{Thresholds: &th}, 200, nil)
		res := probe(t, tpl)
		if !res.Found || res.AttendeeID != ann.ID || res.Decision != api.DecisionConfirm {
			t.Fatalf("identify = %+v", res)
		}
	})
	t.Run("DeletedIsGone", func(t *testing.T) {
		a.json(t, "DELETE", "/v1/admin/attendees/"+ann.ID, nil, 204, nil)
		if res := probe(t, templateFrom([]byte("ann"))); res.Found {
			t.Fatalf("deleted attendee identified: %+v", res)
		}
	})
	t.Run("ErrTemplate", func(t *testing.T) {
		other, err := api.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		wrongKey, _ := api.SealTemplate(other, api.ProbeID, templateFrom([]byte("ann")))
		boundElsewhere, _ := api.SealTemplate(k.TemplateKey, "someone", templateFrom([]byte("ann")))
		short, _ := api.SealTemplate(k.TemplateKey, api.ProbeID, api.Template{Model: testModel, Version: 1, Data: make([]byte, 10)})
		zero, _ := api.SealTemplate(k.TemplateKey, api.ProbeID, api.Template{Model: testModel, Version: 1, Data: bytes.Repeat([]byte{128}, 512)})
		for name, st := range map[string]api.SealedTemplate{"wrong key": wrongKey, "bound elsewhere": boundElsewhere, "short": short, "zero": zero} {
			t.Run(name, func(t *testing.T) {
				var p api.Problem
				k.json(t, "POST", "/v1/identify", api.IdentifyRequest{Template: st}, 422, &p)
				if p.Code != "template_invalid" {
					t.Fatalf("problem = %+v", p)
				}
			})
		}
	})
}

func TestEnrol(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")
	id := uuid.NewString()
	st, err := api.SealTemplate(k.TemplateKey, id, templateFrom([]byte("walk-up")))
	if err != nil {
		t.Fatal(err)
	}
	req := api.EnrolRequest{ID: id, Name: "Walk Up", Email: "Walk@Example.org", Consent: true, Template: st}

	var first, replay api.EnrolResponse
	k.json(t, "POST", "/v1/enrol", req, 201, &first)
	k.json(t, "POST", "/v1/enrol", req, 200, &replay)
	if first.AttendeeID != id || len(first.ShortCode) != 9 || replay != first {
		t.Fatalf("enrol = %+v, replay %+v", first, replay)
	}
	recs, _ := readFeed(t, k, 0)
	if len(recs) != 1 || recs[0].AttendeeID != id || recs[0].CodeHash != api.HashShortCode(k.TemplateKey, first.ShortCode) {
		t.Fatalf("feed = %+v", recs)
	}
	// The code hash matches however the code is typed.
	if api.HashShortCode(k.TemplateKey, strings.ToLower(strings.ReplaceAll(first.ShortCode, "-", " "))) != recs[0].CodeHash {
		t.Fatal("typed code does not match its hash")
	}

	t.Run("Err", func(t *testing.T) {
		id2 := uuid.NewString()
		st2, _ := api.SealTemplate(k.TemplateKey, id2, templateFrom([]byte("x")))
		tests := []struct {
			name   string
			req    api.EnrolRequest
			status int
			code   string
		}{
			{"no consent", api.EnrolRequest{ID: id2, Name: "X", Template: st2}, 422, "consent_required"},
			{"no name", api.EnrolRequest{ID: id2, Consent: true, Template: st2}, 422, "invalid_name"},
			{"bad id", api.EnrolRequest{ID: "x", Name: "X", Consent: true, Template: st2}, 422, "invalid_id"},
			{"bad email", api.EnrolRequest{ID: id2, Name: "X", Email: "nope", Consent: true, Template: st2}, 422, "invalid_email"},
			{"template for another id", api.EnrolRequest{ID: uuid.NewString(), Name: "X", Consent: true, Template: st2}, 422, "template_invalid"},
			{"email taken", api.EnrolRequest{ID: id2, Name: "X", Email: "walk@example.org", Consent: true, Template: st2}, 409, "email_taken"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var p api.Problem
				k.json(t, "POST", "/v1/enrol", tc.req, tc.status, &p)
				if p.Code != tc.code {
					t.Fatalf("problem = %+v", p)
				}
			})
		}
		if recs, _ := readFeed(t, k, 0); len(recs) != 1 {
			t.Fatalf("refused enrolments wrote %d records", len(recs)-1)
		}
	})
}

func TestBadInput(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.MaxBodyBytes = 4096 })
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk")

	big := `{"checkins":[` + strings.Repeat(`{"id":"x"},`, 1000) + `{}]}`
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		code                                  string
	}{
		{"malformed JSON", "POST", "/v1/checkins", "application/json", `{"checkins": [`, 400, "malformed_json"},
		{"syntax error", "POST", "/v1/checkins", "application/json", `{"checkins": nope}`, 400, "malformed_json"},
		{"wrong type", "POST", "/v1/checkins", "application/json", `{"checkins": "x"}`, 400, "malformed_json"},
		{"unknown field", "POST", "/v1/checkins", "application/json", `{"checkins": [], "extra": 1}`, 400, "unknown_field"},
		{"trailing data", "POST", "/v1/checkins", "application/json", `{"checkins": []} {}`, 400, "malformed_json"},
		{"empty body", "POST", "/v1/heartbeat", "application/json", ``, 400, "malformed_json"},
		{"oversized body", "POST", "/v1/checkins", "application/json", big, 413, "body_too_large"},
		{"not JSON", "POST", "/v1/checkins", "text/plain", `{"checkins": []}`, 415, "unsupported_media_type"},
		{"unknown route", "GET", "/v1/nope", "", ``, 404, "not_found"},
		{"wrong method", "DELETE", "/v1/checkins", "", ``, 405, "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.URL()+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+k.Token)
			var p api.Problem
			call(t, httpc, req, tc.status, &p)
			if p.Code != tc.code || p.Status != tc.status || p.Title == "" {
				t.Fatalf("problem = %+v", p)
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newTestServer(t, func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" })
	resp, body := do(t, httpc, "GET", s.URL()+"/healthz", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz = %d %s", resp.StatusCode, body)
	}
	do(t, httpc, "GET", s.URL()+"/v1/settings", nil, "") // a 401 to count
	// The failed log-in counts are for admins: no session, no metrics.
	if resp, _ := do(t, httpc, "GET", s.URL()+"/metrics", nil, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /metrics = %d, want 401", resp.StatusCode)
	}
	a := login(t, s)
	if resp, body := do(t, a.c, "GET", s.URL()+"/metrics", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "facecheck_http_requests_total") {
		t.Fatalf("admin /metrics = %d %.200s", resp.StatusCode, body)
	}
	// The scraper's own listener needs no session.
	resp, body = do(t, httpc, "GET", s.MetricsURL(), nil, "")
	for _, want := range []string{
		"# TYPE facecheck_http_requests_total counter",
		`facecheck_http_requests_total{route="GET /healthz",code="200"} 1`,
		`facecheck_http_requests_total{route="GET /v1/settings",code="401"} 1`,
		`facecheck_http_requests_total{route="GET /metrics",code="401"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestClose(t *testing.T) {
	// A live stream must not keep Close waiting.
	s := newTestServer(t)
	a := login(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
}
