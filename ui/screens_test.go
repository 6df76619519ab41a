package ui

import (
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

func TestFlowConfirmWelcome(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app

	// Idle: dimmed, event name and "look here".
	h.state(kiosk.StateIdle)
	h.wantScreen(ScreenMain)
	if !a.main.idle.Visible() {
		t.Fatal("idle overlay hidden in idle")
	}
	if a.main.veil.FillColor.(interface{ RGBA() (r, g, b, a uint32) }) == nil {
		t.Fatal("no veil")
	}
	if _, _, _, alpha := a.main.veil.FillColor.RGBA(); alpha == 0 {
		t.Error("idle screen not dimmed")
	}

	// A face approaches: brightens.
	for i := 0; i < 20; i++ {
		a.Handle(kiosk.Event{Kind: kiosk.EventFace, State: kiosk.StateApproach, Face: &kiosk.FaceInfo{Presence: 1}})
	}
	if a.main.idle.Visible() {
		t.Error("idle overlay still shown on approach")
	}
	if _, _, _, alpha := a.main.veil.FillColor.RGBA(); alpha != 0 {
		t.Errorf("veil alpha %d after a close face, want 0", alpha>>8)
	}

	// Guide with a prompt: shows after the settle time, amber oval.
	a.Handle(kiosk.Event{Kind: kiosk.EventPrompt, State: kiosk.StateGuide, Prompt: kiosk.PromptComeCloser})
	if a.main.prompt.Text != "" {
		t.Errorf("prompt %q shown before settling", a.main.prompt.Text)
	}
	h.clock.Advance(300 * time.Millisecond)
	if got := a.main.prompt.Text; got != "Please come closer" {
		t.Errorf("prompt = %q", got)
	}
	if !a.main.band.Visible() {
		t.Error("prompt band hidden")
	}
	if got := a.main.oval.State(); got != GuideAdjust {
		t.Errorf("oval = %v, want adjust", got)
	}

	// Hold still: cyan.
	h.state(kiosk.StateHoldStill)
	if got := a.main.oval.State(); got != GuideHold {
		t.Errorf("oval = %v, want hold", got)
	}

	// Confirm.
	a.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm,
		Candidate: &kiosk.Candidate{AttendeeID: "a1", Name: "Kim Min-jun"}})
	h.wantScreen(ScreenConfirm)
	if got := a.confirm.question.Text; got != "Are you Kim Min-jun?" {
		t.Errorf("question = %q", got)
	}
	test.Tap(a.confirm.yes)
	if len(h.ctl.answers) != 1 || !h.ctl.answers[0] {
		t.Fatalf("answers = %v, want [true]", h.ctl.answers)
	}

	// Welcome with info, then auto-return.
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{
		Outcome: kiosk.OutcomeCheckedIn, Name: "Kim Min-jun", Info: "Seat B12"}})
	h.wantScreen(ScreenWelcome)
	if got := a.welcome.title.Text; got != "Welcome, Kim Min-jun!" {
		t.Errorf("welcome = %q", got)
	}
	if got := a.welcome.detail.Text; got != "Seat B12" {
		t.Errorf("info = %q", got)
	}
	// The kiosk going to cooldown and idle does not cut the welcome short.
	h.state(kiosk.StateCooldown)
	h.state(kiosk.StateIdle)
	h.wantScreen(ScreenWelcome)
	h.clock.Advance(3 * time.Second)
	h.wantScreen(ScreenWelcome)
	h.clock.Advance(2 * time.Second)
	h.wantScreen(ScreenMain)
	if !a.main.idle.Visible() {
		t.Error("not back to idle after welcome")
	}
	if a.main.prompt.Text != "" {
		t.Errorf("stale prompt %q after return", a.main.prompt.Text)
	}
}

func TestFlowDeclineAndRepeat(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	a.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm, Candidate: &kiosk.Candidate{Name: "Sato"}})
	test.Tap(a.confirm.no)
	if len(h.ctl.answers) != 1 || h.ctl.answers[0] {
		t.Fatalf("answers = %v, want [false]", h.ctl.answers)
	}
	// Welcome without a result name falls back to the candidate; repeat.
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome, Result: &kiosk.Result{Outcome: kiosk.OutcomeRepeat}})
	if got := a.welcome.title.Text; !strings.Contains(got, "Sato") || !strings.Contains(got, "already") {
		t.Errorf("repeat welcome = %q", got)
	}
}

func TestSecondVerification(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	h.state(kiosk.StateSecondVerify)
	h.wantScreen(ScreenSecond)
	for _, k := range []string{"4", "7", "1", "1", "del", "9"} {
		test.Tap(a.second.keys[k])
	}
	if got := a.second.code.Text; got != "4719" {
		t.Fatalf("code shown = %q, want 4719", got)
	}
	test.Tap(a.second.keys["ok"])
	if len(h.ctl.codes) != 1 || h.ctl.codes[0] != "4719" {
		t.Fatalf("codes = %v", h.ctl.codes)
	}
	// A repeated second_verify event (e.g. wrong code) keeps the screen.
	h.state(kiosk.StateSecondVerify)
	h.wantScreen(ScreenSecond)
	for i := 0; i < 12; i++ {
		test.Tap(a.second.keys["5"])
	}
	if n := len(a.second.code.Text); n != maxCodeLen {
		t.Errorf("code length %d exceeds %d", n, maxCodeLen)
	}
	test.Tap(a.second.cancel)
	if h.ctl.cancels != 1 {
		t.Errorf("cancels = %d", h.ctl.cancels)
	}
	if a.second.code.Text != "_" {
		t.Errorf("code not cleared on cancel: %q", a.second.code.Text)
	}
}

func TestNotFoundAndError(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NotFoundTimeout = 2 * time.Second })
	a := h.app
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound, Result: &kiosk.Result{Outcome: kiosk.OutcomeNotFound}})
	h.wantScreen(ScreenNotFound)
	if !strings.Contains(a.notFound.detail.Text, "staff") {
		t.Errorf("not-found help = %q", a.notFound.detail.Text)
	}
	h.clock.Advance(2 * time.Second)
	h.wantScreen(ScreenMain)

	// "Try again" cancels and returns at once.
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound, Result: &kiosk.Result{Outcome: kiosk.OutcomeNotFound}})
	btn := test.WidgetRenderer(a.notFound.title) // keep renderer alive
	_ = btn
	a.notFound.root.Refresh()
	tapButtonLabelled(t, a.notFound.root, "Try again")
	if h.ctl.cancels != 1 {
		t.Errorf("cancels = %d", h.ctl.cancels)
	}
	h.wantScreen(ScreenMain)

	// Errors show what to do.
	a.Handle(kiosk.Event{Kind: kiosk.EventError, State: kiosk.StateError, Err: "camera 0 not found", Code: kiosk.ECAMERA})
	h.wantScreen(ScreenError)
	if d := a.errScr.detail.Text; !strings.Contains(d, "The camera stopped working") || !strings.Contains(d, "(code: camera)") ||
		strings.Contains(d, "camera 0 not found") {
		t.Errorf("error detail = %q, want the camera sentence and code, not the kiosk's raw text", d)
	}
	// A new approach leaves the error screen.
	h.state(kiosk.StateGuide)
	h.wantScreen(ScreenMain)
}

// The status corner says what the sync worker's state is now: staff see
// a server that answers wrongly as well as one that does not answer.
func TestSyncStatus(t *testing.T) {
	h := newHarness(t, nil)
	for _, c := range []struct {
		st   kiosk.SyncStatus
		want string
	}{
		{kiosk.SyncStatus{State: api.SyncOffline, Queued: 3}, "Offline — 3 check-ins queued"},
		{kiosk.SyncStatus{Queued: 1}, "Offline — 1 check-in queued"},
		{kiosk.SyncStatus{State: api.SyncOnline, Online: true}, "Online"},
		{kiosk.SyncStatus{State: api.SyncStarting}, "Connecting to the server…"},
		{kiosk.SyncStatus{State: api.SyncDegraded, Queued: 2}, "Server problem — 2 check-ins queued"},
		{kiosk.SyncStatus{State: kiosk.SyncUnpaired}, ""},
	} {
		h.app.Handle(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &c.st})
		if got := h.app.main.syncText.Text; got != c.want {
			t.Errorf("%+v: sync = %q, want %q", c.st, got, c.want)
		}
	}
}

func TestPromptHysteresis(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	prompt := func(p kiosk.Prompt) {
		a.Handle(kiosk.Event{Kind: kiosk.EventPrompt, State: kiosk.StateGuide, Prompt: p})
	}
	prompt(kiosk.PromptComeCloser)
	h.clock.Advance(250 * time.Millisecond)
	if a.main.prompt.Text != "Please come closer" {
		t.Fatalf("prompt = %q", a.main.prompt.Text)
	}
	// Flicker: step back for 100 ms, then come closer again: no change.
	prompt(kiosk.PromptStepBack)
	h.clock.Advance(100 * time.Millisecond)
	prompt(kiosk.PromptComeCloser)
	h.clock.Advance(2 * time.Second)
	if a.main.prompt.Text != "Please come closer" {
		t.Fatalf("flickered to %q", a.main.prompt.Text)
	}
	// A steady new prompt replaces it after settle, min-show already met.
	prompt(kiosk.PromptLookStraight)
	h.clock.Advance(200 * time.Millisecond)
	if a.main.prompt.Text != "Please come closer" {
		t.Fatalf("changed before settling: %q", a.main.prompt.Text)
	}
	h.clock.Advance(100 * time.Millisecond)
	if a.main.prompt.Text != "Please look straight at the screen" {
		t.Fatalf("prompt = %q", a.main.prompt.Text)
	}
	// A just-shown prompt stays its minimum time even if the next is steady.
	prompt(kiosk.PromptTooDark)
	h.clock.Advance(500 * time.Millisecond)
	if a.main.prompt.Text != "Please look straight at the screen" {
		t.Fatalf("min show not honoured: %q", a.main.prompt.Text)
	}
	h.clock.Advance(800 * time.Millisecond)
	if a.main.prompt.Text != "It is too dark here" {
		t.Fatalf("prompt = %q", a.main.prompt.Text)
	}
}

func TestHandleFromGoroutine(t *testing.T) {
	h := newHarness(t, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.app.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm, Candidate: &kiosk.Candidate{Name: "Ana"}})
	}()
	<-done
	h.wantScreen(ScreenConfirm)
}

func TestPreviewFrame(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 64, 48))
	src.Pix[0], src.Pix[3] = 255, 255 // red top-left
	h := newHarness(t, func(o *Options) { o.Frames = func() image.Image { return src } })
	h.app.PreviewFrame()
	img, ok := h.app.main.preview.Image.(*image.RGBA)
	if !ok || img.Bounds().Dx() != 64 {
		t.Fatalf("preview image = %T %v", h.app.main.preview.Image, h.app.main.preview.Image.Bounds())
	}
	if img.RGBAAt(63, 0).R != 255 {
		t.Error("preview not mirrored")
	}
	h.app.PreviewFrame()
	if h.app.main.preview.Image == img {
		t.Error("second frame reused the shown buffer")
	}
}

func TestLanguageSwitch(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Language = "ja" })
	a := h.app
	a.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm, Candidate: &kiosk.Candidate{Name: "佐藤"}})
	if got := a.confirm.question.Text; got != "佐藤 さんですか？" {
		t.Errorf("ja question = %q", got)
	}
	if err := a.SetLanguage("ko"); err != nil {
		t.Fatal(err)
	}
	h.wantScreen(ScreenConfirm)
	if got := a.confirm.question.Text; got != "佐藤 님이신가요?" {
		t.Errorf("ko question = %q", got)
	}
	if got := a.confirm.yes.Text; got != "예" {
		t.Errorf("ko yes = %q", got)
	}
	if err := a.SetLanguage("xx"); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestPromptTexts: every kiosk prompt has a sentence in every language
// (the catalogue's own completeness test is in package i18n).
func TestPromptTexts(t *testing.T) {
	for _, lang := range Languages() {
		tr, err := NewTranslator(lang[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []kiosk.Prompt{kiosk.PromptComeCloser, kiosk.PromptStepBack, kiosk.PromptCentre,
			kiosk.PromptOnePerson, kiosk.PromptHoldStill, kiosk.PromptLookStraight, kiosk.PromptBlink,
			kiosk.PromptOpenEyes, kiosk.PromptTooDark, kiosk.PromptTooBright, kiosk.PromptBlurry, kiosk.PromptShowQR} {
			if !tr.Has("prompt." + string(p)) {
				t.Errorf("%s: no text for prompt %q", lang[0], p)
			}
		}
	}
}

var errTooFast = errors.New("must be a multiple of 5")

// Every code a kiosk event can carry has its sentence in every language,
// and an attendee at a Japanese or Korean kiosk reads a failure in their
// language: the kiosk's English text stays in the log.
func TestFailureTextPerLanguage(t *testing.T) {
	for _, lang := range []string{"en", "ja", "ko"} {
		tr, err := NewTranslator(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range kiosk.EventCodes {
			if !tr.Has("error.code." + code) {
				t.Errorf("%s: no sentence for event code %q", lang, code)
			}
			if got := eventCodeText(tr, code, []int{1, 3}); strings.Contains(got, "%!") || got == "" {
				t.Errorf("%s: %s reads %q", lang, code, got)
			}
		}
	}
	for _, c := range []struct {
		lang, want string
	}{
		{"ja", "ディスクがいっぱい"},
		{"ko", "디스크가 가득"},
	} {
		h := newHarness(t, func(o *Options) { o.Language = c.lang })
		h.app.Handle(kiosk.Event{Kind: kiosk.EventOutOfOrder, State: kiosk.StateError, Code: kiosk.EDISKFULL,
			Err: "This kiosk is out of order (its disk is full). (storage: database or disk is full)"})
		h.wantScreen(ScreenError)
		if d := h.app.errScr.detail.Text; !strings.Contains(d, c.want) || strings.Contains(d, "disk is full") {
			t.Errorf("%s: out-of-order detail = %q, want %q and no English", c.lang, d, c.want)
		}
	}
}
