package kiosk

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/fixture"
)

// BenchmarkCheckInLatency plays a generated video of enrolled people walking
// up, paced in real time (15 fps) through the Runner as a camera would
// deliver it, and reports the check-in latency the machine measures: from
// the first frame with a face to the result. Run with -benchtime=1x: one
// iteration is one video (8 people, about 30 s), at 15 and at 30 fps.
//
//	go test ./kiosk -run XXX -bench CheckInLatency -benchtime 1x
func BenchmarkCheckInLatency(b *testing.B) {
	w := newWorld(b, func(pool []LabelledPerson) []LabelledPerson {
		var picks []LabelledPerson
		for i := 0; i < len(pool) && len(picks) < 8; i += max(1, len(pool)/8) {
			picks = append(picks, pool[i])
		}
		return picks
	})
	eng, picks, root := w.eng, w.picks, w.root
	ctx := context.Background()
	// The same choreography (seconds per phase) filmed at 15 and 30 fps.
	videos := map[int]string{}
	for _, fps := range []int{15, 30} {
		fo := fixture.DefaultOptions()
		k := fps / 15
		fo.FPS = float64(fps)
		fo.Enter, fo.Settle, fo.Blink, fo.Leave, fo.Gap = k*fo.Enter, k*fo.Settle, k*fo.Blink, k*fo.Leave, k*fo.Gap
		videos[fps] = w.video(b, fmt.Sprintf("latency%d.avi", fps), fo)
	}
	for _, tc := range []struct {
		fps   int
		blink bool
	}{{15, false}, {15, true}, {30, false}, {30, true}} {
		name := fmt.Sprintf("%dfps/no_blink", tc.fps)
		if tc.blink {
			name = fmt.Sprintf("%dfps/blink", tc.fps)
		}
		blink, video, fps := tc.blink, videos[tc.fps], float64(tc.fps)
		b.Run(name, func(b *testing.B) {
			var lat []float64
			for i := 0; i < b.N; i++ {
				db := openTestDB(b)
				if _, err := EnrolFirst(ctx, eng, db, picks, root, len(picks)); err != nil {
					b.Fatal(err)
				}
				g, err := LoadGallery(ctx, db, 3)
				if err != nil {
					b.Fatal(err)
				}
				cfg := DefaultConfig()
				cfg.RequireBlink = blink
				k, err := New(cfg, eng, g, db, time.Now)
				if err != nil {
					b.Fatal(err)
				}
				cam, err := OpenVideo(video, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				var mu sync.Mutex
				r := NewRunner(k, cam, RunnerOptions{FPS: fps, OnEvent: func(e Event) {
					if e.Result != nil && e.Result.Outcome == OutcomeCheckedIn {
						mu.Lock()
						lat = append(lat, e.Result.LatencyMS)
						mu.Unlock()
					}
				}})
				if err := r.Run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if len(lat) == 0 {
				b.Fatal("nobody checked in")
			}
			sort.Float64s(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-ms")
			b.ReportMetric(lat[min(len(lat)-1, len(lat)*95/100)], "p95-ms")
			b.ReportMetric(float64(len(lat))/float64(b.N), "checkins/video")
		})
	}
}
