package server_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestAttendeesCSVByteOrderMark: the export opens with a UTF-8 byte-order
// mark, which Excel needs to read Japanese and Korean names as UTF-8, and
// the names survive a CSV reader.
func TestAttendeesCSVByteOrderMark(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	names := []string{"佐藤 花子", "김민지"}
	for i, n := range names {
		addAttendee(t, s, s.Event.ID, n, string(rune('a'+i)))
	}
	resp, body := do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID+"/attendees.csv", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("export = %d %s", resp.StatusCode, body)
	}
	rest, ok := strings.CutPrefix(body, "\xEF\xBB\xBF")
	if !ok {
		t.Fatalf("export starts with %q, not the UTF-8 byte-order mark", body[:min(len(body), 8)])
	}
	rows, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "id" {
		t.Fatalf("rows = %q", rows)
	}
	got := map[string]bool{rows[1][1]: true, rows[2][1]: true}
	for _, n := range names {
		if !got[n] {
			t.Errorf("name %q not in the export %q", n, rows)
		}
	}
}
