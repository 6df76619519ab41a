package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
)

// TestHeartbeatDashboard: a kiosk's heartbeat carries its sync state, last
// successful sync, last error and gallery size; the admin API returns them
// and the event page points at a kiosk that is degraded, whose queue grows
// or whose last sync is old. Heartbeats that do not fit are refused.
func TestHeartbeatDashboard(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Hall kiosk")
	fine := pair(t, s, a, s.Event.ID, "Door kiosk")
	now := s.Clock.Now()

	fine.json(t, "POST", "/v1/heartbeat", api.Heartbeat{AppVersion: "1", Queued: 0, Cursor: 3, At: now,
		State: api.SyncOnline, LastSync: now, Gallery: 2}, 204, nil)
	k.json(t, "POST", "/v1/heartbeat", api.Heartbeat{AppVersion: "1", Queued: 4, Cursor: 3, At: now,
		State: api.SyncOnline, LastSync: now, Gallery: 2}, 204, nil)
	s.Clock.Add(10 * time.Minute)
	k.json(t, "POST", "/v1/heartbeat", api.Heartbeat{AppVersion: "1", Queued: 9, Cursor: 3, At: s.Clock.Now(),
		State: api.SyncDegraded, LastSync: now, Gallery: 2,
		LastError: "kiosk: the server's gallery answer would drop attendees"}, 204, nil)
	fine.json(t, "POST", "/v1/heartbeat", api.Heartbeat{AppVersion: "1", Queued: 0, Cursor: 3, At: s.Clock.Now(),
		State: api.SyncOnline, LastSync: s.Clock.Now(), Gallery: 2}, 204, nil)

	var ks []api.Kiosk
	a.json(t, "GET", "/v1/admin/events/"+s.Event.ID+"/kiosks", nil, 200, &ks)
	var got *api.Kiosk
	for i := range ks {
		if ks[i].ID == k.KioskID {
			got = &ks[i]
		}
	}
	if got == nil || got.SyncState != api.SyncDegraded || got.Queued != 9 || got.Gallery != 2 ||
		got.LastSync == nil || !got.LastSync.Equal(now.Truncate(time.Millisecond)) || !strings.Contains(got.LastError, "gallery answer") {
		t.Fatalf("admin view of the kiosk = %+v", got)
	}

	_, body := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	hall := rowOf(t, body, "Hall kiosk")
	for _, want := range []string{"degraded", "last error: kiosk: the server&#39;s gallery answer", "queue growing (4 → 9)", "last sync 10 min ago"} {
		if !strings.Contains(hall, want) {
			t.Errorf("the Hall kiosk's row does not say %q:\n%s", want, hall)
		}
	}
	if door := rowOf(t, body, "Door kiosk"); strings.Contains(door, "kiosk-attention") {
		t.Errorf("the healthy kiosk's row asks for attention:\n%s", door)
	}

	for name, hb := range map[string]api.Heartbeat{
		"unknown state":   {State: "confused"},
		"control chars":   {State: api.SyncOffline, LastError: "a\nb"},
		"long error":      {State: api.SyncOffline, LastError: strings.Repeat("x", 501)},
		"negative":        {Gallery: -1},
		"future lastsync": {LastSync: s.Clock.Now().Add(48 * time.Hour)},
	} {
		var p api.Problem
		k.json(t, "POST", "/v1/heartbeat", hb, 422, &p)
		if p.Code == "" {
			t.Errorf("%s: refused without a code", name)
		}
	}
}

// rowOf returns the kiosks table row naming kiosk.
func rowOf(t *testing.T, body, kiosk string) string {
	t.Helper()
	i := strings.Index(body, "<td>"+kiosk+"</td>")
	if i < 0 {
		t.Fatalf("no row for %s in:\n%s", kiosk, body)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}
