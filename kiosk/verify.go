package kiosk

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// Second verification (DESIGN.md, "Kiosk check-in flow"): a risky match
// asks for the QR code of the registration e-mail, read from the camera,
// or its short code typed on the keypad. The server stores an HMAC of each
// attendee's short code under the event's template key and sends it in the
// gallery (storage.Attendee.CodeHash); the kiosk hashes what it reads under
// the same key (Config.CodeKey, from the pairing) and compares, offline.

// Second-verification errors. Each is also emitted as an EventError whose
// text tells the person what to do.
var (
	// ErrNoVerification: a code arrived when none is asked for.
	ErrNoVerification = errors.New("kiosk: no second verification pending")
	// ErrCodeDisabled: the kiosk has no template key (not paired).
	ErrCodeDisabled = errors.New("kiosk: code verification is off: this kiosk has no event key (pair it with the server first)")
	// ErrEmptyCode: nothing code-like was typed or scanned.
	ErrEmptyCode = errors.New("kiosk: empty short code")
	// ErrCodeMismatch: the code belongs to nobody in the local gallery.
	ErrCodeMismatch = errors.New("kiosk: the code does not match any registered attendee")
)

// OutcomeCodeRejected ends a second verification after MaxCodeAttempts
// wrong codes; the machine shows "not found" (staff help).
const OutcomeCodeRejected Outcome = "code_rejected"

// MaxCodeAttempts is how many wrong codes one second verification takes.
const MaxCodeAttempts = 3

// Verification returns the candidate awaiting second verification and why
// (facecheck.RiskLowMargin, RiskLiveness, RiskRepeat), or nil.
func (k *Machine) Verification() (*Candidate, facecheck.Risk) {
	if k.state != StateSecondVerify {
		return nil, ""
	}
	return k.cand, k.verifyReason
}

func (k *Machine) enterSecondVerify(c *Candidate, reason facecheck.Risk) {
	k.cand = c
	k.verifyReason, k.codeFails, k.lastQR = reason, 0, ""
	k.verifyStart = k.clock()
	k.setState(StateSecondVerify)
	k.prompt(PromptShowQR, true)
}

// SubmitCode checks a typed short code and returns the events it caused.
// It is accepted in second verification and after "not found" (StateNotFound
// and the cooldown that follows): a code matching the face candidate, or any
// attendee of the local gallery, checks that attendee in with method "code".
// A wrong code emits an EventError and returns ErrCodeMismatch; the
// MaxCodeAttempts-th wrong code of a second verification ends it with
// OutcomeCodeRejected.
func (k *Machine) SubmitCode(ctx context.Context, code string) ([]Event, error) {
	k.events = nil
	err := k.verifyCode(ctx, code, api.MethodCode)
	return k.events, err
}

func (k *Machine) verifyCode(ctx context.Context, code, method string) error {
	switch k.state {
	case StateSecondVerify, StateNotFound, StateCooldown:
	default:
		return ErrNoVerification
	}
	fail := func(err error, code, msg string, args ...int) error {
		k.emit(Event{Kind: EventError, Err: msg, Code: code, Args: args})
		return err
	}
	if len(k.cfg.CodeKey) == 0 {
		return fail(ErrCodeDisabled, ECODEOFF, ErrCodeDisabled.Error())
	}
	norm := api.NormalizeShortCode(code)
	if norm == "" {
		return fail(ErrEmptyCode, ECODEEMPTY, "Please type the short code from your registration e-mail.")
	}
	want := api.HashShortCode(k.cfg.CodeKey, norm)
	at, found, err := k.attendeeByCode(ctx, want)
	if err != nil {
		return fail(err, ErrorCode(err), err.Error())
	}
	if !found {
		if k.state != StateSecondVerify {
			return fail(ErrCodeMismatch, ECODEUNKNOWN, "That code is not registered for this event. Please check it or ask the staff.")
		}
		k.codeFails++
		if k.codeFails < MaxCodeAttempts {
			return fail(ErrCodeMismatch, ECODEWRONG, fmt.Sprintf("That code does not match. Please try again (%d of %d).",
				k.codeFails, MaxCodeAttempts), k.codeFails, MaxCodeAttempts)
		}
		r := &Result{Outcome: OutcomeCodeRejected, LatencyMS: k.latency()}
		if c := k.cand; c != nil {
			r.AttendeeID, r.Name, r.Score, r.Margin = c.AttendeeID, c.Name, c.Score, c.Margin
		}
		k.clearQuestion()
		k.setState(StateNotFound)
		k.emit(Event{Kind: EventResult, Result: r})
		return ErrCodeMismatch
	}
	c := k.cand
	if c == nil || c.AttendeeID != at.ID {
		c = &Candidate{AttendeeID: at.ID, Name: at.Name}
		k.emit(Event{Kind: EventCandidate, Candidate: c})
	}
	c.attendee, c.known, c.lookupErr = at, true, nil
	k.clearQuestion()
	if k.start.IsZero() {
		k.start = k.clock()
	}
	return k.checkIn(ctx, c, method)
}

// attendeeByCode finds the attendee whose CodeHash is hash: the pending
// candidate first, then the whole local gallery.
func (k *Machine) attendeeByCode(ctx context.Context, hash string) (storage.Attendee, bool, error) {
	match := func(a storage.Attendee) bool {
		return a.CodeHash != "" && subtle.ConstantTimeCompare([]byte(a.CodeHash), []byte(hash)) == 1
	}
	if c := k.cand; c != nil && c.known && match(c.attendee) {
		return c.attendee, true, nil
	}
	all, err := k.store.ListAttendees(ctx)
	if err != nil {
		return storage.Attendee{}, false, fmt.Errorf("kiosk: check code: %w", err)
	}
	for _, at := range all {
		if match(at) {
			return at, true, nil
		}
	}
	return storage.Attendee{}, false, nil
}

// scanQR looks for a registration QR code in frame during second
// verification and verifies the short code it carries (method "qr"). It
// reports whether a code was seen (someone is holding it up, even when it
// cannot be decoded yet). A payload already rejected is not tried again.
func (k *Machine) scanQR(ctx context.Context, frame engine.Image) (bool, error) {
	scan := k.qr
	if scan == nil {
		if k.qrReader == nil {
			k.qrReader = engine.NewQRReader()
		}
		scan = k.qrReader.Read
	}
	res, err := scan(frame)
	if err != nil || !res.Found {
		return false, nil // a frame the reader cannot use is no code
	}
	code := engine.ShortCodeFromQR(res.Text)
	if code == "" || code == k.lastQR {
		return true, nil
	}
	k.lastQR = code
	err = k.verifyCode(ctx, code, api.MethodQR)
	if errors.Is(err, ErrCodeMismatch) || errors.Is(err, ErrEmptyCode) || errors.Is(err, ErrCodeDisabled) {
		err = nil // told the person through an event
	}
	return true, err
}
