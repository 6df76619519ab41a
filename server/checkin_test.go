package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

// TestCheckInRules is issue 17 row 8 over HTTP: a deleted attendee's
// check-in is rejected, a time a little ahead of the server's clock is
// accepted (kiosk clocks run fast), further ahead is refused, and any past
// time is accepted (kiosks work offline).
func TestCheckInRules(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Kiosk 1")
	ann := addAttendee(t, s, s.Event.ID, "Ann", "ann")
	gone := addAttendee(t, s, s.Event.ID, "Gone", "gone")
	a.json(t, "DELETE", "/v1/admin/attendees/"+gone.ID, nil, 204, nil)
	now := s.Clock.Now()

	post := func(t *testing.T, c api.CheckIn, want int) (api.CheckInBatchResult, api.Problem) {
		t.Helper()
		var res api.CheckInBatchResult
		var p api.Problem
		out := any(&res)
		if want != 200 {
			out = &p
		}
		k.json(t, "POST", "/v1/checkins", api.CheckInBatch{CheckIns: []api.CheckIn{c}}, want, out)
		return res, p
	}

	t.Run("ErrDeletedAttendeeRejected", func(t *testing.T) {
		c := newCheckIn(gone.ID, now.Add(-time.Hour)) // checked in offline before the deletion reached the kiosk
		res, _ := post(t, c, 200)
		if len(res.Results) != 1 || res.Results[0].Status != api.StatusRejected {
			t.Fatalf("results = %+v, want rejected", res.Results)
		}
	})
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"PastAccepted", now.AddDate(0, 0, -3)},
		{"ClockALittleFastAccepted", now.Add(facecheck.MaxCheckInAhead - time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := post(t, newCheckIn(ann.ID, tc.at), 200)
			if len(res.Results) != 1 || res.Results[0].Status != api.StatusAccepted {
				t.Fatalf("results = %+v, want accepted", res.Results)
			}
		})
	}
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"ErrTooFarAhead", now.Add(facecheck.MaxCheckInAhead + time.Minute)},
		{"ErrTomorrow", now.Add(23 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, p := post(t, newCheckIn(ann.ID, tc.at), 422)
			if p.Code != "invalid_checkin" || !strings.Contains(p.Detail, "checkins[0]") || !strings.Contains(p.Detail, "ahead") {
				t.Fatalf("problem = %+v", p)
			}
		})
	}
	var stats api.EventStats
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID+"/stats", nil, 200, &stats)
	if stats.CheckIns != 1 || stats.Repeats != 1 {
		t.Fatalf("stats = %+v, want Ann's two check-ins only", stats)
	}
}
