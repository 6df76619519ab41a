package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/server/store"
)

// The dashboard's part of the event lifecycle: the end date and retention
// form, Close and Delete with a confirmation page each.

// dateLayout is the value of an <input type="date">.
const dateLayout = "2006-01-02"

// lifecycleView is the event page's lifecycle section.
type lifecycleView struct {
	store.Lifecycle
	// EndDate is the event's last day in the server's time zone (the
	// date input's value), "" without an end date.
	EndDate string
	// PurgeAt is when the data goes (nil: kept until closed).
	PurgeAt *time.Time
}

func newLifecycleView(l store.Lifecycle) lifecycleView {
	v := lifecycleView{Lifecycle: l, PurgeAt: l.PurgeAt()}
	if l.EndsAt != nil {
		v.EndDate = l.EndsAt.Add(-time.Millisecond).In(time.Local).Format(dateLayout)
	}
	return v
}

// lifecycleForm reads the end date (the event's last day: it ends at the
// following midnight, server time) and the retention in days; a field left
// empty is nil.
func lifecycleForm(r *http.Request) (endsAt *time.Time, retentionDays *int, err error) {
	if v := strings.TrimSpace(r.PostFormValue("ends_on")); v != "" {
		d, perr := time.ParseInLocation(dateLayout, v, time.Local)
		if perr != nil {
			return nil, nil, errorf(http.StatusUnprocessableEntity, "invalid_end", "the end date must be a date (YYYY-MM-DD)")
		}
		end := d.AddDate(0, 0, 1)
		endsAt = &end
	}
	if v := strings.TrimSpace(r.PostFormValue("retention_days")); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || len(v) > 5 {
			return nil, nil, errorf(http.StatusUnprocessableEntity, "invalid_retention", "retention_days must be 0 to %d", store.MaxRetentionDays)
		}
		retentionDays = &n
	}
	return endsAt, retentionDays, nil
}

// handleEventPageLifecycle saves the event page's end date and retention.
func (s *Server) handleEventPageLifecycle(w http.ResponseWriter, r *http.Request) {
	endsAt, retention, err := lifecycleForm(r)
	if err == nil {
		_, err = s.setLifecycle(r, r.PathValue("id"), endsAt, retention)
	}
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+r.PathValue("id")+"#lifecycle", http.StatusSeeOther)
}

// confirmPage asks before closing or deleting an event. Title, Message and
// Button are catalogue keys.
type confirmPage struct {
	User, CSRF     string
	EventID        string
	Title, Message string
	Args           []any
	Button         string
	Action         string
	ButtonID       string
	// PurgeAt is when a closed event's data goes.
	PurgeAt *time.Time
}

func (s *Server) confirmEventPage(w http.ResponseWriter, r *http.Request, action string) {
	id := r.PathValue("id")
	ev, err := s.store.FindEventByID(r.Context(), id)
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	st, err := s.store.EventStats(r.Context(), id)
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	sess := sessionFrom(r.Context())
	p := confirmPage{User: sess.Username, CSRF: sess.CSRFToken, EventID: id,
		Action: "/admin/events/" + id + "/" + action, ButtonID: "confirm-" + action}
	switch action {
	case "close":
		p.Title, p.Button = "web.admin.close_title", "web.admin.close_confirm"
		p.Message, p.Args = "web.admin.close_question", []any{ev.Name, st.Attendees}
		// When the data goes once closed: the close counts when it comes
		// before the end date.
		l := ev.Lifecycle
		if l.ClosedAt == nil {
			now := s.now()
			l.ClosedAt = &now
		}
		p.PurgeAt = l.PurgeAt()
	case "delete":
		p.Title, p.Button = "web.admin.delete_event_title", "web.admin.delete_event_confirm"
		p.Message, p.Args = "web.admin.delete_event_question", []any{ev.Name, st.Attendees, st.Kiosks}
	}
	s.render(w, r, http.StatusOK, "event_confirm.html", p)
}

func (s *Server) handleConfirmClose(w http.ResponseWriter, r *http.Request) {
	s.confirmEventPage(w, r, "close")
}

func (s *Server) handleConfirmDelete(w http.ResponseWriter, r *http.Request) {
	s.confirmEventPage(w, r, "delete")
}

// handleEventPageClose closes the event (after the confirmation page).
func (s *Server) handleEventPageClose(w http.ResponseWriter, r *http.Request) {
	ev, err := s.closeEvent(r, r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+ev.ID+"#lifecycle", http.StatusSeeOther)
}

// handleEventPageDelete deletes the event (after the confirmation page)
// and goes back to the list of events.
func (s *Server) handleEventPageDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deleteEvent(r, r.PathValue("id")); err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}
