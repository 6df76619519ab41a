package ui

import (
	"time"

	"github.com/facecheck/facecheck/kiosk"
)

// Clock is the time source of the UI's timers, injected so tests can
// advance time by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on its own goroutine after d, unless stopped.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// promptFilter keeps prompts from flickering: a new prompt must be asked
// for steadily for settle before it shows, and a shown prompt stays at
// least minShow. The quality gates can flip between reasons frame to frame
// (a face on the edge of "too small"); the person should see one calm
// instruction.
type promptFilter struct {
	minShow, settle time.Duration

	shown        kiosk.Prompt
	shownAt      time.Time
	pending      kiosk.Prompt
	pendingSince time.Time
}

// update records that the kiosk asks for p at now. It returns the prompt
// to show and, when a different one is waiting, how long until update
// should be called again (with the same p) to let it through.
func (f *promptFilter) update(p kiosk.Prompt, now time.Time) (kiosk.Prompt, time.Duration) {
	if p == f.shown {
		f.pending = p
		return f.shown, 0
	}
	if p != f.pending || f.pendingSince.IsZero() {
		f.pending, f.pendingSince = p, now
	}
	ready := f.pendingSince.Add(f.settle)
	if f.shown != kiosk.PromptNone {
		if t := f.shownAt.Add(f.minShow); t.After(ready) {
			ready = t
		}
	}
	if !now.Before(ready) {
		f.shown, f.shownAt = p, now
		return f.shown, 0
	}
	return f.shown, ready.Sub(now)
}

// reset clears the prompt at once (a new approach, or a screen change).
func (f *promptFilter) reset() {
	f.shown, f.pending = kiosk.PromptNone, kiosk.PromptNone
	f.shownAt, f.pendingSince = time.Time{}, time.Time{}
}
