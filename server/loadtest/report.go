package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/facecheck/facecheck/server/store"
)

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(0, min(i, len(ds)-1))])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{Count: len(ds), Mean: ms(sum / time.Duration(len(ds))), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(ds[len(ds)-1])}
}

func (rt *runner) report(rep *Report, ks []*kiosk) {
	by := map[string][]time.Duration{}
	errs := map[string]int{}
	var syncs []time.Duration
	var bytesSum int64
	inRun, batches := 0, 0
	for _, k := range ks {
		for _, s := range k.samples {
			by[s.route] = append(by[s.route], s.d)
			if s.err {
				errs[s.route]++
			}
			if s.inRun {
				inRun++
				if (s.route == RouteCheckIns || s.route == RouteReplay) && !s.err {
					batches++
				}
			}
		}
		if !k.failed {
			syncs = append(syncs, k.sync)
			bytesSum += k.bytes
		}
		for _, e := range k.errs {
			if len(rep.FirstErrors) < 10 {
				rep.FirstErrors = append(rep.FirstErrors, e)
			}
		}
	}
	for route, ds := range by {
		rep.Routes[route] = RouteStats{Latency: summarize(ds), Errors: errs[route]}
	}
	rep.FullSync = summarize(syncs)
	if len(syncs) > 0 {
		rep.GalleryMB = math.Round(float64(bytesSum)/float64(len(syncs))/1e4) / 100
	}
	rep.Requests = inRun
	if rep.RunSeconds > 0 {
		rep.RequestsPerS = math.Round(float64(inRun)/rep.RunSeconds*10) / 10
		rep.CheckInsPerS = math.Round(float64(rt.accepts.Load())/rep.RunSeconds*10) / 10
		rep.BatchesPerS = math.Round(float64(batches)/rep.RunSeconds*10) / 10
	}
}

// verify compares what the kiosks were told with the store.
func (rt *runner) verify(ctx context.Context, db *store.DB, eventID string, rep *Report, ks []*kiosk) error {
	v := &rep.Verify
	sent := map[string]*sentInfo{}
	for _, k := range ks {
		if k.failed {
			v.KiosksFailed++
		}
		v.GalleryMismatch += k.v.GalleryMismatch
		v.TemplatesOpened += k.v.TemplatesOpened
		v.TemplateMismatch += k.v.TemplateMismatch
		v.Replays += k.v.Replays
		v.ReplayItems += k.v.ReplayItems
		v.ReplayNotDuplicate += k.v.ReplayNotDuplicate
		v.Problems = append(v.Problems, k.v.Problems...)
		for id, s := range k.sent {
			if sent[id] != nil {
				v.Problems = append(v.Problems, "check-in id generated twice: "+id)
			}
			sent[id] = s
		}
	}
	stored, err := db.ListCheckIns(ctx, eventID, math.MaxInt32)
	if err != nil {
		return err
	}
	counts, err := db.AttendeeCheckInCounts(ctx, eventID, time.Time{})
	if err != nil {
		return err
	}
	stats, err := db.EventStats(ctx, eventID)
	if err != nil {
		return err
	}
	v.Sent = len(sent)
	v.Stored = len(stored)
	storedN := map[string]int{}
	perAttendee := map[string]int{}
	for _, c := range stored {
		storedN[c.ID]++
		perAttendee[c.AttendeeID]++
		if c.Repeat {
			v.Repeats++
		}
		s := sent[c.ID]
		if s == nil {
			v.Phantom++
			continue
		}
		if s.attendee != c.AttendeeID || s.kiosk != c.KioskID {
			v.Mismatched++
		}
	}
	for _, n := range storedN {
		if n > 1 {
			v.StoredTwice++
		}
	}
	for id, s := range sent {
		if s.accepted > 0 {
			v.Accepted++
		}
		if s.accepted > 1 {
			v.AcceptedTwice++
		}
		if s.confirmed {
			v.Confirmed++
			if storedN[id] == 0 {
				v.Lost++
			}
		} else {
			v.Unconfirmed++
		}
	}
	for a, n := range perAttendee {
		if counts[a] != n {
			v.CounterMismatch++
		}
	}
	v.RepeatsExpected = len(stored) - len(perAttendee)
	if stats.Repeats != v.Repeats || stats.CheckIns != len(perAttendee) {
		v.Problems = append(v.Problems, fmt.Sprintf("event stats say %d checked in / %d repeats, store rows say %d / %d",
			stats.CheckIns, stats.Repeats, len(perAttendee), v.Repeats))
	}
	check := func(bad bool, format string, args ...any) {
		if bad {
			v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
		}
	}
	check(v.Lost > 0, "%d accepted check-ins are not stored (lost)", v.Lost)
	check(v.Phantom > 0, "%d stored check-ins were never sent", v.Phantom)
	check(v.AcceptedTwice > 0, "%d check-ins were answered accepted twice", v.AcceptedTwice)
	check(v.StoredTwice > 0, "%d check-ins are stored twice", v.StoredTwice)
	check(v.Mismatched > 0, "%d stored check-ins have another attendee or kiosk than sent", v.Mismatched)
	check(v.Unconfirmed > 0, "%d check-ins were never confirmed (every attempt failed)", v.Unconfirmed)
	check(v.ReplayNotDuplicate > 0, "%d replayed check-ins were not answered duplicate", v.ReplayNotDuplicate)
	check(v.Repeats != v.RepeatsExpected, "%d check-ins flagged repeat, want %d", v.Repeats, v.RepeatsExpected)
	check(v.CounterMismatch > 0, "%d attendees' check-in counters differ from their stored check-ins", v.CounterMismatch)
	check(v.GalleryMismatch > 0, "%d kiosks got a wrong full gallery", v.GalleryMismatch)
	check(v.TemplateMismatch > 0, "%d of %d sampled templates did not open to the seeded bytes", v.TemplateMismatch, v.TemplatesOpened)
	check(v.KiosksFailed > 0, "%d kiosks could not pair or sync", v.KiosksFailed)
	check(v.Accepted == 0, "no check-in was accepted")
	v.OK = len(v.Problems) == 0
	return nil
}

// WriteText prints the report for people.
func (rep *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "facecheck-server load test: %d kiosks, %d attendees, %s, %d CPUs (GOMAXPROCS %d), %s\n",
		rep.Kiosks, rep.Attendees, rep.Dialect, rep.CPUs, rep.GOMAXPROCS, rep.GoVersion)
	fmt.Fprintf(w, "  seed %.1fs; pair + full sync of all kiosks at once %.1fs (%.2f MB per sync)\n",
		rep.SeedSeconds, rep.SyncPhaseSeconds, rep.GalleryMB)
	fmt.Fprintf(w, "  full gallery sync per kiosk: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n", rep.FullSync.P50, rep.FullSync.P95, rep.FullSync.Max)
	fmt.Fprintf(w, "  check-in phase %.1fs: %d requests, %.1f req/s, %.1f batches/s, %.1f check-ins/s accepted\n",
		rep.RunSeconds, rep.Requests, rep.RequestsPerS, rep.BatchesPerS, rep.CheckInsPerS)
	fmt.Fprintf(w, "  %-32s %8s %6s %9s %9s %9s %9s\n", "route", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, r := range routeOrder {
		s, ok := rep.Routes[r]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %-32s %8d %6d %9.2f %9.2f %9.2f %9.2f\n", r, s.Count, s.Errors, s.P50, s.P95, s.P99, s.Max)
	}
	v := rep.Verify
	fmt.Fprintf(w, "  verify: sent %d, accepted %d, confirmed %d, stored %d; lost %d, phantom %d, accepted twice %d, stored twice %d,\n",
		v.Sent, v.Accepted, v.Confirmed, v.Stored, v.Lost, v.Phantom, v.AcceptedTwice, v.StoredTwice)
	fmt.Fprintf(w, "          replays %d (%d check-ins, %d not duplicate), repeats %d/%d, templates opened %d (%d bad)\n",
		v.Replays, v.ReplayItems, v.ReplayNotDuplicate, v.Repeats, v.RepeatsExpected, v.TemplatesOpened, v.TemplateMismatch)
	for _, e := range rep.FirstErrors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	if v.OK {
		fmt.Fprintln(w, "  PASS: every accepted check-in stored exactly once, nothing extra, replays answered duplicate")
	} else {
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  FAIL: %s\n", p)
		}
	}
}
