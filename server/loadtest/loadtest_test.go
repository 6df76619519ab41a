package loadtest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/server/loadtest"
)

// TestSmallLoad runs a small configuration against a real server on a
// real SQLite file (and on PostgreSQL when FACECHECK_TEST_POSTGRES is set)
// and requires the store to match what the kiosks were told.
func TestSmallLoad(t *testing.T) {
	dsns := []string{""}
	if pg := os.Getenv("FACECHECK_TEST_POSTGRES"); pg != "" {
		dsns = append(dsns, pg)
	}
	for _, dsn := range dsns {
		name := "sqlite"
		if dsn != "" {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			cfg := loadtest.DefaultConfig()
			cfg.Kiosks, cfg.Attendees, cfg.Duration = 20, 1000, 3*time.Second
			cfg.PollEvery = time.Second
			cfg.ReplayRate = 0.2
			cfg.DataDir = t.TempDir()
			cfg.DSN = dsn
			cfg.Seed = 42
			var log strings.Builder
			cfg.Log = &log
			rep, err := loadtest.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.WriteText(&out)
			t.Log("\n" + log.String() + out.String())
			v := rep.Verify
			if !v.OK {
				t.Fatalf("verification failed: %v", v.Problems)
			}
			if v.Accepted == 0 || v.Stored != v.Accepted || v.Replays == 0 || v.ReplayItems == 0 || v.TemplatesOpened == 0 {
				t.Errorf("too little exercised: %+v", v)
			}
			for _, r := range []string{loadtest.RoutePair, loadtest.RouteGalleryFull, loadtest.RouteGalleryDelta,
				loadtest.RouteCheckIns, loadtest.RouteReplay, loadtest.RouteHeartbeat} {
				if s := rep.Routes[r]; s.Count == 0 || s.Errors != 0 {
					t.Errorf("route %s: %d requests, %d errors", r, s.Count, s.Errors)
				}
			}
			if rep.Routes[loadtest.RoutePair].Count != cfg.Kiosks || rep.FullSync.Count != cfg.Kiosks {
				t.Errorf("pairs %d, full syncs %d, want %d each", rep.Routes[loadtest.RoutePair].Count, rep.FullSync.Count, cfg.Kiosks)
			}
		})
	}
}
