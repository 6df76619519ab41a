package server

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// metrics are hand-written Prometheus counters: a series is its name with
// labels, e.g. `facecheck_checkins_total{status="accepted"}`.
type metrics struct {
	mu     sync.Mutex
	values map[string]float64
	help   map[string]string // metric name → HELP line
	kind   map[string]string // metric name → TYPE
}

func newMetrics() *metrics {
	m := &metrics{values: map[string]float64{}, help: map[string]string{}, kind: map[string]string{}}
	for name, h := range map[string]string{
		"facecheck_http_requests_total":           "HTTP requests by route pattern and status code.",
		"facecheck_http_request_duration_seconds": "Total time spent serving requests, by route pattern.",
		"facecheck_checkins_total":                "Check-ins received, by result status.",
		"facecheck_checkin_repeats_total":         "Accepted check-ins of attendees already checked in.",
		"facecheck_captures_total":                "Check-in captures sent by kiosks, by what became of them (kept, not_allowed, invalid).",
		"facecheck_gallery_records_total":         "Gallery feed records streamed to kiosks.",
		"facecheck_gallery_snapshots_total":       "Gallery feeds streamed as a whole-gallery snapshot (since 0, or a kiosk cursor beyond the server's).",
		"facecheck_identify_total":                "Identify requests, by decision.",
		"facecheck_enrolments_total":              "Attendees created, by source.",
		"facecheck_rejected_photos_total":         "Registration photos rejected, by reason.",
		"facecheck_pairings_total":                "Pairing attempts, by result.",
		"facecheck_logins_total":                  "Admin log-in attempts, by result.",
		"facecheck_rate_limited_total":            "Registrations and enrolments refused by the rate limits, by what.",
		"facecheck_event_purges_total":            "Events purged after their end and retention, by result (ok, error).",
	} {
		m.help[name], m.kind[name] = h, "counter"
	}
	m.help["facecheck_live_streams"], m.kind["facecheck_live_streams"] = "Open dashboard live streams.", "gauge"
	return m
}

// add adds v to the series name{labels}; labels are key, value pairs.
func (m *metrics) add(name string, v float64, labels ...string) {
	series := name
	if len(labels) > 0 {
		series += "{"
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				series += ","
			}
			series += labels[i] + "=" + strconv.Quote(labels[i+1])
		}
		series += "}"
	}
	m.mu.Lock()
	m.values[series] += v
	m.mu.Unlock()
}

func (m *metrics) inc(name string, labels ...string) { m.add(name, 1, labels...) }

func (m *metrics) observeRequest(route string, status int, d time.Duration) {
	m.inc("facecheck_http_requests_total", "route", route, "code", strconv.Itoa(status))
	m.add("facecheck_http_request_duration_seconds", d.Seconds(), "route", route)
}

// writeTo writes all series in the Prometheus text format, sorted.
func (m *metrics) writeTo(w io.Writer) error {
	m.mu.Lock()
	values := maps.Clone(m.values)
	m.mu.Unlock()
	names := slices.Sorted(maps.Keys(m.help))
	series := slices.Sorted(maps.Keys(values))
	for _, name := range names {
		if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, m.help[name], name, m.kind[name]); err != nil {
			return err
		}
		for _, s := range series {
			if s == name || len(s) > len(name) && s[:len(name)+1] == name+"{" {
				if _, err := fmt.Fprintf(w, "%s %s\n", s, strconv.FormatFloat(values[s], 'g', -1, 64)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := s.metrics.writeTo(w); err != nil {
		s.logger.Debug("write metrics", "err", err)
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.logger.Error("health check", "err", err)
		writeProblem(w, problemFor(http.StatusServiceUnavailable, "store_unreachable", "the database is not reachable"))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}
