package server

import "sync"

// hub tells dashboard live streams that an event's check-ins changed.
// Notifications coalesce: a slow stream misses none, it just reads the
// counters once for several check-ins.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{subs: map[string]map[chan struct{}]struct{}{}} }

// subscribe returns a channel signalled after changes to eventID and a
// function to unsubscribe.
func (h *hub) subscribe(eventID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[eventID] == nil {
		h.subs[eventID] = map[chan struct{}]struct{}{}
	}
	h.subs[eventID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[eventID], ch)
		if len(h.subs[eventID]) == 0 {
			delete(h.subs, eventID)
		}
		h.mu.Unlock()
	}
}

// publish signals every subscriber of eventID without blocking.
func (h *hub) publish(eventID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[eventID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
