package ui

import (
	"testing"
	"time"

	"github.com/facecheck/facecheck/kiosk"
)

// TestWelcomeKeepsName: the runner goes on sending events (cooldown,
// idle, the next face, sync) while the welcome is on screen; each
// re-renders it, and it showed "Welcome, !" once idle had cleared the
// result. The welcome never shows without a name.
func TestWelcomeKeepsName(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	empty := a.tr.T("welcome.title", "")
	a.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm,
		Candidate: &kiosk.Candidate{AttendeeID: "a1", Name: "Alejandro Toledo"}})
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{
		Outcome: kiosk.OutcomeCheckedIn, AttendeeID: "a1", Name: "Alejandro Toledo"}})
	h.wantScreen(ScreenWelcome)
	for _, ev := range []kiosk.Event{
		{State: kiosk.StateCooldown},
		{State: kiosk.StateIdle},
		{Kind: kiosk.EventFace, State: kiosk.StateIdle, Face: &kiosk.FaceInfo{Presence: 0.2}},
		{Kind: kiosk.EventSync, Sync: &kiosk.SyncStatus{Online: true}},
		{Kind: kiosk.EventPrompt, State: kiosk.StateApproach, Prompt: kiosk.PromptComeCloser},
	} {
		a.Handle(ev)
		if a.Screen() != ScreenWelcome {
			break
		}
		if got, want := a.welcome.title.Text, "Welcome, Alejandro Toledo!"; got != want {
			t.Fatalf("after %s/%s the welcome says %q, want %q", ev.Kind, ev.State, got, want)
		}
	}
	h.clock.Advance(5 * time.Second)
	h.wantScreen(ScreenMain)

	// A result without any name: a welcome without the empty slot.
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{Outcome: kiosk.OutcomeCheckedIn}})
	h.wantScreen(ScreenWelcome)
	if got := a.welcome.title.Text; got == empty || got != a.tr.T("welcome.plain") {
		t.Errorf("nameless welcome = %q", got)
	}
}

// TestResultScreenWaitsForResult: the kiosk announces the welcome or
// not-found state, then the result; the screen changes with the result,
// so it never greets nobody in between.
func TestResultScreenWaitsForResult(t *testing.T) {
	tests := []struct {
		state  kiosk.State
		result *kiosk.Result
		screen Screen
	}{
		{kiosk.StateWelcome, &kiosk.Result{Outcome: kiosk.OutcomeCheckedIn, AttendeeID: "a1", Name: "Eric Clapton"}, ScreenWelcome},
		{kiosk.StateNotFound, &kiosk.Result{Outcome: kiosk.OutcomeNotFound}, ScreenNotFound},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			h := newHarness(t, nil)
			a := h.app
			h.state(kiosk.StateIdentify)
			h.state(tc.state)
			h.wantScreen(ScreenMain)
			a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: tc.state, Result: tc.result})
			h.wantScreen(tc.screen)
			if tc.screen == ScreenWelcome {
				if got, want := a.welcome.title.Text, "Welcome, Eric Clapton!"; got != want {
					t.Errorf("welcome = %q, want %q", got, want)
				}
			}
			h.state(tc.state) // a repeated state keeps the screen
			h.wantScreen(tc.screen)
		})
	}
}
