package kiosk

import (
	"context"
	"errors"
	"time"

	"github.com/facecheck/facecheck/storage"
)

// Event kinds of a storage outage: the kiosk cannot record check-ins (its
// disk is full, its database file is damaged), says so, keeps running and
// comes back by itself.
const (
	// EventOutOfOrder: check-ins cannot be recorded; State is StateError
	// and Err says why, in words for the person at the desk ("ask a member
	// of staff"). Frames are read but not processed until EventResumed.
	EventOutOfOrder EventKind = "out_of_order"
	// EventResumed: the storage takes writes again; State is the
	// machine's (idle) and check-ins go on.
	EventResumed EventKind = "resumed"
)

// Outage retry bounds: the first probe of the storage after a failure,
// doubling up to the last. A probe is one small write transaction.
const (
	outageRetryMin = 500 * time.Millisecond
	outageRetryMax = 10 * time.Second
)

// storageFailure reports whether err from the state machine means the
// kiosk's storage cannot take check-ins: a full disk or a damaged file.
// Everything recorded before stays (storage rolls a failed write back).
func storageFailure(err error) bool {
	return errors.Is(err, storage.ErrDiskFull) || errors.Is(err, storage.ErrCorrupt)
}

// outage is a storage outage in progress: what to tell the person, when
// to try the storage again and how.
type outage struct {
	probe func(context.Context) error // nil: just try again after the wait
	cause error
	wait  time.Duration
	next  time.Time
	since time.Time
}

// prober is what an outage probes the storage with (*storage.DB.Probe).
type prober interface {
	Probe(ctx context.Context) error
}

// newOutage starts an outage of k's storage caused by err.
func newOutage(k *Machine, err error, now time.Time) *outage {
	o := &outage{cause: err, wait: outageRetryMin, since: now, next: now.Add(outageRetryMin)}
	if p, ok := k.store.(prober); ok {
		o.probe = p.Probe
	}
	return o
}

// event is the EventOutOfOrder the UI and the headless output show.
func (o *outage) event(now time.Time) Event {
	why, code := "it cannot save check-ins", EOUTOFORDER
	switch {
	case errors.Is(o.cause, storage.ErrDiskFull):
		why, code = "its disk is full", EDISKFULL
	case errors.Is(o.cause, storage.ErrCorrupt):
		why, code = "its database file is damaged", EDAMAGED
	}
	return Event{Kind: EventOutOfOrder, At: now, State: StateError, Code: code,
		Err: "This kiosk is out of order (" + why + "). Please ask a member of staff to check you in; the kiosk retries by itself. (" + o.cause.Error() + ")"}
}

// due reports whether the next probe is due at now.
func (o *outage) due(now time.Time) bool { return !now.Before(o.next) }

// until is the time left before the next probe.
func (o *outage) until(now time.Time) time.Duration { return max(0, o.next.Sub(now)) }

// try probes the storage once (when due); true when it takes writes
// again. A failed probe doubles the wait, up to outageRetryMax.
func (o *outage) try(ctx context.Context, now time.Time) bool {
	if !o.due(now) {
		return false
	}
	if o.probe == nil || o.probe(ctx) == nil {
		return true
	}
	o.wait = min(2*o.wait, outageRetryMax)
	o.next = now.Add(o.wait)
	return false
}

// resumed is the EventResumed after an outage, with the machine reset.
func (o *outage) resumed(k *Machine, now time.Time) []Event {
	evs := k.Reset()
	return append(evs, Event{Kind: EventResumed, At: now, State: k.State()})
}
