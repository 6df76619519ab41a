package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/kiosk"
)

// TestAttendeeLanguage: an attendee taps 日本語 on the main screen, goes
// through the whole flow in Japanese, and the next attendee starts in the
// kiosk's language again; a choice made while nobody goes through the flow
// stays until someone does.
func TestAttendeeLanguage(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	h.state(kiosk.StateIdle)
	if got := a.main.langs["en"].Text; got != "EN" || a.main.langs["ja"].Text != "日本語" || a.main.langs["ko"].Text != "한국어" {
		t.Fatalf("language buttons %q %q %q", got, a.main.langs["ja"].Text, a.main.langs["ko"].Text)
	}
	test.Tap(a.main.langs["ja"])
	if a.Language() != "ja" || a.DefaultLanguage() != "en" {
		t.Fatalf("after 日本語: language %s, default %s", a.Language(), a.DefaultLanguage())
	}
	if got := a.main.eventLine.Text; got != "DevDay 2025 へようこそ" {
		t.Errorf("idle greeting %q", got)
	}
	h.state(kiosk.StateIdle) // idle events before anyone comes keep the choice
	if a.Language() != "ja" {
		t.Fatal("the choice was dropped while idle")
	}
	h.state(kiosk.StateHoldStill)
	a.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm,
		Candidate: &kiosk.Candidate{AttendeeID: "a1", Name: "佐藤"}})
	if got := a.confirm.question.Text; got != "佐藤 さんですか？" {
		t.Errorf("question %q", got)
	}
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{
		Outcome: kiosk.OutcomeCheckedIn, AttendeeID: "a1", Name: "佐藤"}})
	if got := a.welcome.title.Text; got != "ようこそ、佐藤 さん！" {
		t.Errorf("welcome %q", got)
	}
	h.state(kiosk.StateCooldown)
	h.state(kiosk.StateIdle)
	if a.Language() != "ja" {
		t.Error("the language changed under the welcome")
	}
	h.clock.Advance(5 * time.Second)
	h.wantScreen(ScreenMain)
	if a.Language() != "en" {
		t.Fatalf("after the welcome the kiosk is in %s, want its default en", a.Language())
	}
	if got := a.main.eventLine.Text; got != "Welcome to DevDay 2025" {
		t.Errorf("idle greeting %q", got)
	}

	// 한국어, then someone gives up half way: back to English at idle.
	test.Tap(a.main.langs["ko"])
	h.state(kiosk.StateGuide)
	if got := a.main.langs["ko"].Importance; a.Language() != "ko" || got == a.main.langs["en"].Importance {
		t.Fatalf("language %s; the current button is not highlighted", a.Language())
	}
	h.state(kiosk.StateIdle)
	if a.Language() != "en" {
		t.Errorf("after the attendee left the kiosk is in %s", a.Language())
	}
	// An admin's choice is the new default.
	if err := a.SetLanguage("ko"); err != nil {
		t.Fatal(err)
	}
	h.state(kiosk.StateGuide)
	h.state(kiosk.StateIdle)
	if a.Language() != "ko" || a.DefaultLanguage() != "ko" {
		t.Errorf("admin chose ko: language %s, default %s", a.Language(), a.DefaultLanguage())
	}
}

// TestPairedEventName: the idle screen greets with the event that pairing
// returned, not the --event default: at start and after pairing from the
// settings.
func TestPairedEventName(t *testing.T) {
	event := "Tokyo Summit 2026"
	h := newHarness(t, func(o *Options) { o.PairedEvent = func() string { return event } })
	if got := h.app.main.eventLine.Text; got != "Welcome to Tokyo Summit 2026" {
		t.Errorf("paired at start: greeting %q", got)
	}

	event = ""
	fp := &fakePair{}
	h = newHarness(t, func(o *Options) { o.Pair = fp.pair; o.PairedEvent = func() string { return event } })
	h.app.inline = true
	a := h.app
	if got := a.main.eventLine.Text; got != "Welcome to DevDay 2025" {
		t.Errorf("unpaired: greeting %q", got)
	}
	unlockSettings(t, h)
	s := a.settings.server
	s.url.SetText("http://127.0.0.1:9")
	s.code.SetText("K7Q2-ABCD")
	event = "ソウル開発者会議"
	test.Tap(s.pair)
	if len(fp.calls) != 1 {
		t.Fatalf("pair calls %v", fp.calls)
	}
	if got := a.main.eventLine.Text; got != "Welcome to ソウル開発者会議" {
		t.Errorf("after pairing: greeting %q", got)
	}
}

func TestStartLanguage(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		stored string
		want   string
	}{
		{map[string]string{"LANG": "ja_JP.UTF-8"}, "", "ja"},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, "ko", "ko"},
		{map[string]string{"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "", "ko"},
		{map[string]string{"LANG": "C.UTF-8"}, "", "en"},
		{map[string]string{"LANG": "de_DE.UTF-8"}, "", "en"},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, "xx", "ja"},
	} {
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			t.Setenv(k, tc.env[k])
		}
		if got := StartLanguage(tc.stored); got != tc.want {
			t.Errorf("%v stored %q: %q, want %q", tc.env, tc.stored, got, tc.want)
		}
	}
}

// TestWrongCodeLanguage: the kiosk's wrong-code detail is English; a
// Japanese attendee reads the sentence and the attempt count (the event's
// code and arguments) in Japanese.
func TestWrongCodeLanguage(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Language = "ja" })
	a := h.app
	h.state(kiosk.StateSecondVerify)
	a.Handle(kiosk.Event{Kind: kiosk.EventError, State: kiosk.StateSecondVerify,
		Err: "That code does not match. Please try again (2 of 3).", Code: kiosk.ECODEWRONG, Args: []int{2, 3}})
	if got, want := a.second.msg.Text, "このコードは使えませんでした。\n2 / 3 回目"; got != want {
		t.Errorf("wrong-code message %q, want %q", got, want)
	}
	if got := a.second.msg.Text; asciiLetters(got) {
		t.Errorf("English in the Japanese message %q", got)
	}
}

func asciiLetters(s string) bool {
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			return true
		}
	}
	return false
}
