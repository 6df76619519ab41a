package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/server/store"
)

// feedSize is how many check-ins the dashboard's live feed shows.
const feedSize = 20

// rateMinutes is how many minutes the check-ins-per-minute chart covers.
const rateMinutes = 30

// activity is the dashboard's live view of an event beyond the counters:
// GET /admin/events/{id}/activity and the "activity" server-sent event.
type activity struct {
	// Feed is the latest check-ins, newest first.
	Feed []store.FeedItem `json:"feed"`
	// CheckIns maps attendee ids to their check-in counts, for attendees
	// with a check-in since the previous push (or the last minute).
	CheckIns map[string]int `json:"attendee_checkins"`
	// PerMinute counts check-ins per minute; the last entry is the
	// minute of End.
	PerMinute []int     `json:"per_minute"`
	End       time.Time `json:"end"`
}

func (s *Server) activity(ctx context.Context, eventID string, countsSince time.Time) (activity, error) {
	a := activity{End: s.now().UTC().Truncate(time.Minute)}
	var err error
	if a.Feed, err = s.store.CheckInFeed(ctx, eventID, feedSize); err != nil {
		return a, err
	}
	if a.CheckIns, err = s.store.AttendeeCheckInCounts(ctx, eventID, countsSince); err != nil {
		return a, err
	}
	if a.PerMinute, err = s.store.CheckInsPerMinute(ctx, eventID, s.now(), rateMinutes); err != nil {
		return a, err
	}
	return a, nil
}

func (s *Server) handleActivity(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.store.FindEventByID(r.Context(), id); err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	a, err := s.activity(r.Context(), id, s.now().Add(-time.Minute))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, a)
}

// pairingCookie carries a new pairing code from the POST that made it to
// the GET page that shows it, so a reload shows it again instead of
// re-posting. It is scoped to that page's path and lives as long as the
// code.
const pairingCookie = "fc_pairing"

func pairingCodePath(eventID string) string { return "/admin/events/" + eventID + "/pairing-code" }

func (s *Server) handleEventPagePairingCode(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	pc, err := s.createPairingCode(r, id)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	s.setCookie(w, pairingCookie, pc.Code+"."+strconv.FormatInt(pc.ExpiresAt.Unix(), 10),
		pairingCodePath(id), pc.ExpiresAt.Sub(s.now()))
	http.Redirect(w, r, pairingCodePath(id), http.StatusSeeOther)
}

// handlePairingCodePage shows the event page with the pairing code just
// made; without one (or once it expired) it sends the admin to the event.
func (s *Server) handlePairingCodePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := s.eventPage(r, id)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	var code string
	var exp time.Time
	if c, err := r.Cookie(pairingCookie); err == nil {
		if v, e, ok := strings.Cut(c.Value, "."); ok {
			if sec, err := strconv.ParseInt(e, 10, 64); err == nil {
				code, exp = v, time.Unix(sec, 0)
			}
		}
	}
	if code == "" || !s.now().Before(exp) {
		http.Redirect(w, r, "/admin/events/"+id, http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	p.PairingCode = &pairingCodeView{Code: code, ExpiresAt: exp}
	s.render(w, r, http.StatusOK, "event.html", p)
}

type pairingCodeView struct {
	Code      string
	ExpiresAt time.Time
}
