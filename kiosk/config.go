package kiosk

import (
	"fmt"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/engine"
)

// Config tunes the check-in flow.
type Config struct {
	Gates engine.Gates
	// Pose runs the head-pose network (yaw/pitch gates); Liveness the
	// texture anti-spoof network (its score is reported, not yet gated).
	Pose, Liveness bool
	// RequireBlink holds the person in StateLiveness until a blink is seen.
	RequireBlink bool
	// StillFrames is how many consecutive good frames make "holding still".
	StillFrames int
	// FuseFrames is how many good frames are embedded and fused.
	FuseFrames int
	// Fusion is how the frames are fused: FusionMax (default) scores each
	// frame against the gallery and takes every attendee's best;
	// FusionMean searches with the mean embedding.
	Fusion Fusion
	// EarlyLead lets a confident match decide before StillFrames and
	// FuseFrames are reached: once a frame with the face in the guide,
	// still (moved little since the previous one), passes every gate, the
	// frames embedded so far are searched, and a match at least EarlyLead
	// above Accept, whose margin is at least EarlyLead above Margin and
	// that is not risky, checks in at once. Borderline matches (and
	// anything but a plain check-in) still wait for the full fusion. 0
	// turns early decisions off. Fusion exists to steady scores near the
	// thresholds; well above them one frame's noise does not change the
	// outcome (measure.EarlyDecision), and waiting only costs time.
	EarlyLead float32
	// Accept, Confirm and Margin are the decision thresholds of the shared
	// rule (facecheck.Thresholds.Decide): score ≥ Accept with margin ≥
	// Margin checks in; score ≥ Confirm asks "Are you NAME?"; a margin
	// below Margin asks for the code (SecondVerify).
	Accept, Confirm, Margin float32
	// LeaveFrames is how many frames without a face end an approach or the
	// cooldown.
	LeaveFrames int
	// PromptFrames is the hysteresis: a prompt (or a failing gate that
	// interrupts holding still) must persist this many frames to show.
	PromptFrames int
	// Location defines "today" for repeat detection; nil means time.Local.
	Location *time.Location

	// SecondVerify turns on second verification of risky matches: the
	// person shows the QR code of their registration e-mail to the camera
	// or types its short code. A match (score ≥ Confirm) is risky when its
	// margin is below Margin, when its liveness is below LivenessMin, or
	// when it is a repeat check-in and VerifyRepeat is set (facecheck
	// package doc: why a low margin needs the code). Off (or without
	// CodeKey), low margins and liveness doubts ask "Are you NAME?" instead
	// and repeats are welcomed again.
	SecondVerify bool
	VerifyRepeat bool
	// LivenessMin is the lowest texture-liveness score (0..1, the worst of
	// the fused frames) accepted without second verification; 0 disables
	// the check. Setting it runs the liveness network.
	LivenessMin float32
	// CodeKey is the event's template key (from the pairing): short codes
	// are checked as api.HashShortCode(CodeKey, code) against the
	// attendee's CodeHash. Nil disables code verification.
	CodeKey []byte
	// VerifyTimeout ends second verification with OutcomeTimeout when no
	// valid code came in time (0: only leaving ends it).
	VerifyTimeout time.Duration
	// SkipFrames analyses one frame in SkipFrames+1 (0: every frame).
	SkipFrames int
	// CaptureTemplates sends, with a face check-in (accepted outright, or a
	// face match then proved by QR or short code), the fused template of
	// the frames that matched, sealed with CodeKey for the attendee, when
	// the attendee consented (storage.Attendee.CaptureConsent, from the
	// gallery feed): the server keeps it as a second template if the event
	// allows it (api.CheckIn.Capture). Nothing of an attendee who did not
	// consent leaves the kiosk. Features, never images.
	CaptureTemplates bool
}

// DefaultConfig returns workable defaults; events calibrate the thresholds.
func DefaultConfig() Config {
	return Config{
		Gates:       engine.DefaultGates(),
		StillFrames: 3, FuseFrames: 3, Fusion: FusionMax, EarlyLead: DefaultEarlyLead,
		Accept: 0.40, Confirm: 0.33, Margin: 0.05,
		LeaveFrames: 5, PromptFrames: 2,
		SecondVerify: true, VerifyTimeout: 30 * time.Second,
	}
}

// Fusion is a way to fuse several frames of one person into one decision.
type Fusion string

// Fusions. The best score over the frames misses fewer genuine attendees
// than one frame, and the mean embedding, which averages a good frame with
// worse ones, misses more (docs/accuracy.md, "Multi-frame decisions and
// margin routing").
const (
	FusionMax  Fusion = "max"
	FusionMean Fusion = "mean"
)

// DefaultEarlyLead is Config.EarlyLead's default: how far above the accept
// threshold (and the margin above Config.Margin) one still frame must score
// to decide without waiting for fusion. Measured on the dev faces' jittered
// frames (measure.EarlyDecision, `facecheck eval --open-set --fuse 3`):
// docs/performance.md, "Check-in latency".
const DefaultEarlyLead = 0.15

// Validate reports a configuration the machine cannot run with.
func (c Config) Validate() error {
	switch {
	case c.StillFrames < 1:
		return fmt.Errorf("kiosk: stillness frames %d, want ≥ 1", c.StillFrames)
	case c.FuseFrames < 1:
		return fmt.Errorf("kiosk: fuse frames %d, want ≥ 1", c.FuseFrames)
	case c.LeaveFrames < 1:
		return fmt.Errorf("kiosk: leave frames %d, want ≥ 1", c.LeaveFrames)
	case c.Accept < 0 || c.Accept > 1:
		return fmt.Errorf("kiosk: accept threshold %.3f, want 0..1", c.Accept)
	case c.Confirm < 0 || c.Confirm > 1:
		return fmt.Errorf("kiosk: confirm threshold %.3f, want 0..1", c.Confirm)
	case c.Confirm > c.Accept:
		return fmt.Errorf("kiosk: confirm threshold %.3f above accept threshold %.3f", c.Confirm, c.Accept)
	case c.Margin < 0 || c.Margin > 1:
		return fmt.Errorf("kiosk: margin %.3f, want 0..1", c.Margin)
	case c.Fusion != FusionMax && c.Fusion != FusionMean:
		return fmt.Errorf("kiosk: fusion %q, want %q or %q", c.Fusion, FusionMax, FusionMean)
	case c.EarlyLead < 0 || c.EarlyLead > 1:
		return fmt.Errorf("kiosk: early-decision lead %.3f, want 0..1 (0 = off)", c.EarlyLead)
	case c.LivenessMin < 0 || c.LivenessMin > 1:
		return fmt.Errorf("kiosk: liveness minimum %.3f, want 0..1 (0 = off)", c.LivenessMin)
	case c.PromptFrames < 0:
		return fmt.Errorf("kiosk: prompt frames %d, want ≥ 0", c.PromptFrames)
	case c.SkipFrames < 0:
		return fmt.Errorf("kiosk: frames to skip %d, want ≥ 0", c.SkipFrames)
	case c.VerifyTimeout < 0:
		return fmt.Errorf("kiosk: second-verification timeout %s, want ≥ 0", c.VerifyTimeout)
	case c.Gates.MinFace >= c.Gates.MaxFace:
		return fmt.Errorf("kiosk: minimum face size %.2f not below maximum face size %.2f", c.Gates.MinFace, c.Gates.MaxFace)
	case c.Gates.MinBrightness >= c.Gates.MaxBright:
		return fmt.Errorf("kiosk: minimum brightness %.0f not below maximum brightness %.0f", c.Gates.MinBrightness, c.Gates.MaxBright)
	}
	return nil
}

// thresholds are the configuration's decision thresholds.
func (c *Config) thresholds() facecheck.Thresholds {
	return facecheck.Thresholds{Accept: c.Accept, Confirm: c.Confirm, Margin: c.Margin}
}
