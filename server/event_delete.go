package server

import (
	"errors"
	"net/http"

	"github.com/facecheck/facecheck/server/store"
)

// handleDeleteEvent erases an event by hand: attendees, templates,
// tombstones, check-ins, kiosks and pairing codes go (store.DeleteEvent),
// and so does the event's decrypted gallery cached for identify.
func (s *Server) handleDeleteEvent(w http.ResponseWriter, r *http.Request) {
	if err := s.deleteEvent(r, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteEvent erases an event for the admin API and the dashboard.
func (s *Server) deleteEvent(r *http.Request, id string) error {
	err := s.store.DeleteEvent(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "event_not_found", "there is no such event")
	}
	if err != nil {
		return err
	}
	s.galleries.drop(id)
	s.audit(r, sessionFrom(r.Context()).Username, "event.delete", id, "attendees, templates, check-ins and kiosks erased")
	s.hub.publish(id)
	return nil
}

// drop forgets an event's cached gallery.
func (g *galleries) drop(eventID string) {
	g.mu.Lock()
	delete(g.m, eventID)
	g.mu.Unlock()
}
