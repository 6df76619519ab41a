package kiosk

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
)

var testCodeKey = []byte("0123456789abcdef0123456789abcdef")

type verifyRig struct {
	k      *Machine
	st     *fakeStore
	now    time.Time
	events []Event
}

// newVerifyRig is a kiosk whose gallery holds alice (code 7KQ2M9XD) and
// bob (code B0B12345) playing script.
func newVerifyRig(t *testing.T, mod func(*Config), sc []frame) *verifyRig {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Location = time.UTC
	cfg.CodeKey = testCodeKey
	// The scripts decide after 3 fused frames; TestEarlyDecision covers
	// confident single frames (which never skip a risk check).
	cfg.EarlyLead = 0
	if mod != nil {
		mod(&cfg)
	}
	g := testGallery(t, map[string]engine.Embedding{"alice": alice, "bob": bob})
	st := &fakeStore{names: map[string]string{"alice": "Alice A.", "bob": "Bob B."},
		codes: map[string]string{"alice": api.HashShortCode(testCodeKey, "7KQ2M9XD"), "bob": api.HashShortCode(testCodeKey, "B0B12345")}}
	r := &verifyRig{st: st, now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	k, err := New(cfg, &fakeEngine{script: sc}, g, st, func() time.Time { return r.now })
	if err != nil {
		t.Fatal(err)
	}
	k.SetQRScanner(func(engine.Image) (engine.QRResult, error) { return engine.QRResult{}, nil })
	r.k = k
	return r
}

// step plays n frames of im.
func (r *verifyRig) step(t *testing.T, n int, im engine.Image) {
	t.Helper()
	for i := 0; i < n; i++ {
		evs, err := r.k.Step(context.Background(), im)
		if err != nil {
			t.Fatal(err)
		}
		r.events = append(r.events, evs...)
		r.now = r.now.Add(100 * time.Millisecond)
	}
}

func (r *verifyRig) results() []Result {
	var out []Result
	for _, e := range r.events {
		if e.Kind == EventResult {
			out = append(out, *e.Result)
		}
	}
	return out
}

func (r *verifyRig) lastError() string {
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Kind == EventError {
			return r.events[i].Err
		}
	}
	return ""
}

var blankFrame = engine.Image{W: 640, H: 480}

func TestSecondVerifyTypedCode(t *testing.T) {
	ctx := context.Background()
	r := newVerifyRig(t, nil, script(good(between, 3), good(between, 5)))
	r.step(t, 3, blankFrame)
	if r.k.State() != StateSecondVerify {
		t.Fatalf("low margin: state %s, want second verification", r.k.State())
	}
	if c, why := r.k.Verification(); c == nil || c.AttendeeID != "alice" || why != facecheck.RiskLowMargin {
		t.Fatalf("verification %+v %q", c, why)
	}
	sawQR := false
	for _, e := range r.events {
		sawQR = sawQR || (e.Kind == EventPrompt && e.Prompt == PromptShowQR)
	}
	if !sawQR {
		t.Error("no show-QR prompt")
	}
	r.step(t, 2, blankFrame) // still waiting, face still there
	evs, err := r.k.SubmitCode(ctx, "AAAA1111")
	if !errors.Is(err, ErrCodeMismatch) || len(evs) != 1 || evs[0].Kind != EventError || r.k.State() != StateSecondVerify {
		t.Fatalf("wrong code: %v %+v state %s", err, evs, r.k.State())
	}
	// The screen's sentence comes from the code and its arguments.
	if e := evs[0]; e.Code != ECODEWRONG || len(e.Args) != 2 || e.Args[0] != 1 || e.Args[1] != MaxCodeAttempts {
		t.Errorf("wrong code event code %q args %v, want %q [1 %d]", e.Code, e.Args, ECODEWRONG, MaxCodeAttempts)
	}
	if evs, err := r.k.SubmitCode(ctx, "  -  "); !errors.Is(err, ErrEmptyCode) || len(evs) != 1 || evs[0].Code != ECODEEMPTY {
		t.Fatalf("empty code: %v %+v", err, evs)
	}
	// Typed in lower case with O and l for 0 and 1: normalised.
	evs, err = r.k.SubmitCode(ctx, "7kq2-m9xd")
	if err != nil {
		t.Fatal(err)
	}
	r.events = append(r.events, evs...)
	res := r.results()
	if len(res) != 1 || res[0].Outcome != OutcomeCheckedIn || res[0].Method != api.MethodCode || res[0].AttendeeID != "alice" {
		t.Fatalf("results %+v", res)
	}
	if r.k.State() != StateWelcome || len(r.st.checkins) != 1 || r.st.checkins[0].Method != api.MethodCode {
		t.Fatalf("state %s, check-ins %+v", r.k.State(), r.st.checkins)
	}
	if _, err := r.k.SubmitCode(ctx, "7KQ2M9XD"); !errors.Is(err, ErrNoVerification) {
		t.Errorf("code on the welcome screen: %v", err)
	}
}

func TestSecondVerifyOtherAttendeesCode(t *testing.T) {
	r := newVerifyRig(t, nil, good(between, 3))
	r.step(t, 3, blankFrame)
	evs, err := r.k.SubmitCode(context.Background(), "BOB12345") // O read as 0
	if err != nil {
		t.Fatal(err)
	}
	r.events = append(r.events, evs...)
	if res := r.results(); len(res) != 1 || res[0].AttendeeID != "bob" || res[0].Name != "Bob B." {
		t.Fatalf("results %+v", res)
	}
}

func TestSecondVerifyRejectsAfterAttempts(t *testing.T) {
	r := newVerifyRig(t, nil, good(between, 3))
	r.step(t, 3, blankFrame)
	for i := 0; i < MaxCodeAttempts; i++ {
		evs, err := r.k.SubmitCode(context.Background(), "ZZZZ9999")
		if !errors.Is(err, ErrCodeMismatch) {
			t.Fatalf("attempt %d: %v", i, err)
		}
		r.events = append(r.events, evs...)
	}
	if res := r.results(); len(res) != 1 || res[0].Outcome != OutcomeCodeRejected || r.k.State() != StateNotFound {
		t.Fatalf("results %+v state %s", res, r.k.State())
	}
	if len(r.st.checkins) != 0 {
		t.Error("checked in after rejected codes")
	}
}

func TestSecondVerifyRisks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(*Config)
		emb    engine.Embedding
		before bool // alice checked in earlier today
		state  State
		reason facecheck.Risk
	}{
		{"low margin", nil, between, false, StateSecondVerify, facecheck.RiskLowMargin},
		{"low margin without key asks", func(c *Config) { c.CodeKey = nil }, between, false, StateConfirm, ""},
		{"low margin with verification off asks", func(c *Config) { c.SecondVerify = false }, between, false, StateConfirm, ""},
		{"liveness doubt", func(c *Config) { c.LivenessMin = 0.5 }, alice, false, StateSecondVerify, facecheck.RiskLiveness},
		{"repeat verified", func(c *Config) { c.VerifyRepeat = true }, alice, true, StateSecondVerify, facecheck.RiskRepeat},
		{"repeat not verified", nil, alice, true, StateWelcome, ""},
		{"clear match", func(c *Config) { c.VerifyRepeat = true }, alice, false, StateWelcome, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newVerifyRig(t, tc.mod, good(tc.emb, 3))
			if tc.before {
				r.st.checkins = append(r.st.checkins, api.CheckIn{ID: "x", AttendeeID: "alice", At: r.now.Add(-time.Hour)})
			}
			r.step(t, 3, blankFrame)
			if r.k.State() != tc.state {
				t.Fatalf("state %s, want %s", r.k.State(), tc.state)
			}
			if _, why := r.k.Verification(); why != tc.reason {
				t.Errorf("reason %q, want %q", why, tc.reason)
			}
		})
	}
}

func TestSecondVerifyCodeDisabled(t *testing.T) {
	r := newVerifyRig(t, func(c *Config) { c.CodeKey = nil }, good(nobody, 3))
	r.step(t, 3, blankFrame)
	if r.k.State() != StateNotFound {
		t.Fatalf("state %s", r.k.State())
	}
	evs, err := r.k.SubmitCode(context.Background(), "7KQ2M9XD")
	if !errors.Is(err, ErrCodeDisabled) || len(evs) != 1 || evs[0].Err == "" || evs[0].Code != ECODEOFF {
		t.Fatalf("no key: %v %+v", err, evs)
	}
}

func TestCodeAtNotFound(t *testing.T) {
	r := newVerifyRig(t, nil, script(good(nobody, 3), good(nobody, 2)))
	r.step(t, 5, blankFrame)
	if r.k.State() != StateCooldown {
		t.Fatalf("state %s", r.k.State())
	}
	evs, err := r.k.SubmitCode(context.Background(), "7KQ2M9XD")
	if err != nil {
		t.Fatal(err)
	}
	r.events = append(r.events, evs...)
	res := r.results()
	if last := res[len(res)-1]; last.Outcome != OutcomeCheckedIn || last.AttendeeID != "alice" || last.Method != api.MethodCode {
		t.Fatalf("results %+v", res)
	}
}

func TestSecondVerifyTimeouts(t *testing.T) {
	// The person leaves.
	r := newVerifyRig(t, nil, script(good(between, 3), empty(5)))
	r.step(t, 8, blankFrame)
	if res := r.results(); len(res) != 1 || res[0].Outcome != OutcomeTimeout || r.k.State() != StateIdle {
		t.Fatalf("leave: results %+v state %s", res, r.k.State())
	}
	// The person stays but never shows a code.
	r = newVerifyRig(t, func(c *Config) { c.VerifyTimeout = time.Second }, script(good(between, 3), good(between, 12)))
	r.step(t, 15, blankFrame)
	if res := r.results(); len(res) != 1 || res[0].Outcome != OutcomeTimeout || r.k.State() != StateCooldown {
		t.Fatalf("timeout: results %+v state %s", res, r.k.State())
	}
	// A QR code held up hides the face: not "left".
	r = newVerifyRig(t, nil, script(good(between, 3), empty(8)))
	r.k.SetQRScanner(func(engine.Image) (engine.QRResult, error) { return engine.QRResult{Found: true}, nil })
	r.step(t, 11, blankFrame)
	if r.k.State() != StateSecondVerify {
		t.Fatalf("code held up: state %s", r.k.State())
	}
}

func TestSecondVerifyCancel(t *testing.T) {
	r := newVerifyRig(t, nil, script(good(between, 3), good(between, 3), empty(5)))
	r.step(t, 3, blankFrame)
	r.events = append(r.events, r.k.Reset()...)
	if res := r.results(); len(res) != 1 || res[0].Outcome != OutcomeDeclined || r.k.State() != StateCooldown {
		t.Fatalf("cancel: %+v state %s", res, r.k.State())
	}
	r.step(t, 3, blankFrame) // same person: not identified again
	if r.k.State() != StateCooldown {
		t.Fatalf("after cancel: state %s", r.k.State())
	}
	r.step(t, 5, blankFrame)
	if r.k.State() != StateIdle {
		t.Fatalf("after leaving: state %s", r.k.State())
	}
	if evs := r.k.Reset(); len(evs) != 0 {
		t.Errorf("reset when idle: %+v", evs)
	}
}

// qrImage is a 640x480 frame with a real QR code of payload in it.
func qrImage(t *testing.T, payload string) engine.Image {
	t.Helper()
	b, err := qrcode.Encode(payload, qrcode.Medium, 240)
	if err != nil {
		t.Fatal(err)
	}
	code, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.RGBA{90, 100, 110, 255}), image.Point{}, draw.Src)
	draw.Draw(dst, code.Bounds().Add(image.Pt(300, 150)), code, code.Bounds().Min, draw.Src)
	return engine.FromImage(dst)
}

// TestSecondVerifyRealQR: the short code in a real QR code (as the
// registration page renders it) is read from the camera frame by the
// default reader and checks the person in with method "qr".
func TestSecondVerifyRealQR(t *testing.T) {
	r := newVerifyRig(t, nil, script(good(between, 3), good(between, 3)))
	r.k.SetQRScanner(nil) // the real engine.QRReader
	r.step(t, 3, blankFrame)
	if r.k.State() != StateSecondVerify {
		t.Fatalf("state %s", r.k.State())
	}
	r.step(t, 1, qrImage(t, "B0B12345")) // bob's code: wrong person, still a valid attendee
	res := r.results()
	if len(res) != 1 || res[0].Outcome != OutcomeCheckedIn || res[0].Method != api.MethodQR || res[0].AttendeeID != "bob" {
		t.Fatalf("results %+v (last error %q)", res, r.lastError())
	}
	if len(r.st.checkins) != 1 || r.st.checkins[0].Method != api.MethodQR {
		t.Fatalf("check-ins %+v", r.st.checkins)
	}

	// A QR code of nobody: one clear error, not repeated every frame.
	r = newVerifyRig(t, nil, script(good(between, 3), good(between, 3)))
	r.k.SetQRScanner(nil)
	r.step(t, 3, blankFrame)
	r.step(t, 3, qrImage(t, "NOTREG99"))
	n := 0
	for _, e := range r.events {
		if e.Kind == EventError {
			n++
		}
	}
	if n != 1 || r.k.State() != StateSecondVerify {
		t.Fatalf("%d errors, state %s", n, r.k.State())
	}
}

func TestSetConfigLive(t *testing.T) {
	r := newVerifyRig(t, nil, script(good(maybeA, 3), empty(5), good(maybeA, 3)))
	r.step(t, 3, blankFrame)
	if r.k.State() != StateConfirm {
		t.Fatalf("state %s", r.k.State())
	}
	bad := r.k.Config()
	bad.Confirm, bad.Accept = 0.5, 0.4
	if err := r.k.SetConfig(bad); err == nil {
		t.Fatal("confirm above accept accepted")
	}
	cfg := r.k.Config()
	cfg.Accept, cfg.Confirm = 0.3, 0.2
	if err := r.k.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	r.step(t, 8, blankFrame) // leaves, comes back: now accepted directly
	res := r.results()
	if last := res[len(res)-1]; last.Outcome != OutcomeCheckedIn || last.Method != api.MethodFace {
		t.Fatalf("results %+v", res)
	}
}
