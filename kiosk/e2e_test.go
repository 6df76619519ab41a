package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
)

// TestHeadlessVideo plays a generated video of two enrolled people and one
// who is not through the real engine, gallery and SQLite store.
func TestHeadlessVideo(t *testing.T) {
	w := newWorld(t, nil)
	eng, picks, root := w.eng, w.picks, w.root
	ctx := context.Background()
	video := w.video(t, "kiosk.avi", fixture.DefaultOptions())

	tests := []struct {
		name  string
		blink bool
	}{
		{"no blink", false},
		{"blink required", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			enrolled, err := enrol.First(ctx, eng, db, picks[:2], root, 2, t.Output())
			if err != nil || len(enrolled) != 2 {
				t.Fatalf("enrolled %d: %v", len(enrolled), err)
			}
			g, err := LoadGallery(ctx, db, 3)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.RequireBlink = tc.blink
			k, err := New(cfg, eng, g, db, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			cam, err := OpenVideo(video, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer cam.Close()
			var out bytes.Buffer
			if _, err := RunHeadless(ctx, cam, k, HeadlessOptions{AutoConfirm: false}, &out); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				var l map[string]any
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				switch l["event"] {
				case "checkin":
					for _, f := range []string{"attendee_id", "name", "score", "latency_ms", "checkin_id"} {
						if _, ok := l[f]; !ok {
							t.Errorf("check-in line without %s: %s", f, sc.Text())
						}
					}
					got[l["attendee_id"].(string)]++
					t.Logf("checkin %v score %.3f latency %.0f ms", l["attendee_id"], l["score"], l["latency_ms"])
				case "result":
					t.Logf("result %s", sc.Text())
				}
			}
			for _, p := range picks[:2] {
				if got[p.ID] != 1 {
					t.Errorf("%s checked in %d times, want 1", p.ID, got[p.ID])
				}
			}
			if got[picks[2].ID] != 0 || len(got) != 2 {
				t.Errorf("check-ins %v, want only the two enrolled people", got)
			}
			n, err := db.CountCheckIns(ctx, time.Time{})
			if err != nil || n != 2 {
				t.Errorf("stored check-ins %d (%v), want 2", n, err)
			}
		})
	}
}
