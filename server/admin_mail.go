package server

import (
	"context"
	"fmt"
	"net/http"
)

// mailStatus is what the dashboard says about e-mail: off (no --smtp: no
// e-mail goes out, registrations are active at once), or the SMTP server
// and the e-mails waiting in the outbox.
type mailStatus struct {
	On     bool
	Server string
	Queued int
}

func (s *Server) mailStatus(ctx context.Context) mailStatus {
	if !s.mailOn() {
		return mailStatus{}
	}
	st := mailStatus{On: true, Server: s.mailer.Addr()}
	if q, err := s.store.MailQueue(ctx); err == nil {
		st.Queued = len(q)
	} else {
		s.logger.Error("mail queue", "err", err)
	}
	return st
}

// handleEventPageConfirmEmail turns on or off whether the event's new
// registrations wait for the confirmation of the attendee's address.
func (s *Server) handleEventPageConfirmEmail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	on := r.PostFormValue("confirm_email") == "on"
	if err := s.store.SetEventConfirmsEmail(r.Context(), id, on); err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	s.audit(r, sessionFrom(r.Context()).Username, "event.confirm_email", id, fmt.Sprintf("registrations wait for the e-mail confirmation: %v", on))
	http.Redirect(w, r, "/admin/events/"+id+"#confirm-email", http.StatusSeeOther)
}

// MailServer names the SMTP server and how it is reached, for the start-up
// line; "" without --smtp.
func (s *Server) MailServer() string {
	if !s.mailOn() {
		return ""
	}
	return s.mailer.Addr()
}
