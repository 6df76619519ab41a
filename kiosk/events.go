package kiosk

import (
	"time"

	"github.com/facecheck/facecheck/storage"
)

// State is a step of the check-in flow (DESIGN.md, "Kiosk check-in flow").
type State string

// The check-in states, in the order a person normally goes through them.
const (
	StateIdle         State = "idle"          // nobody there: dimmed, event name, "look here"
	StateApproach     State = "approach"      // a face is seen: brighten
	StateGuide        State = "guide"         // quality gates failing: show the Prompt
	StateHoldStill    State = "hold_still"    // gates pass, waiting for stillness frames
	StateLiveness     State = "liveness"      // waiting for a blink / texture score
	StateIdentify     State = "identify"      // embedding + 1:N search running
	StateConfirm      State = "confirm"       // "Are you NAME?" yes / no
	StateSecondVerify State = "second_verify" // QR code or short code needed
	StateWelcome      State = "welcome"       // checked in
	StateNotFound     State = "not_found"     // "We couldn't find you"
	StateCooldown     State = "cooldown"      // result shown, waiting for the person to leave
	StateError        State = "error"         // camera dead, models missing: see Event.Err
)

// Prompt is one instruction to the person at the kiosk. The UI maps each to
// a translated sentence; PromptNone clears it.
type Prompt string

// Prompts, one per quality-gate reason plus the flow's own.
const (
	PromptNone         Prompt = ""
	PromptComeCloser   Prompt = "come_closer"
	PromptStepBack     Prompt = "step_back"
	PromptCentre       Prompt = "centre_face"
	PromptOnePerson    Prompt = "one_person"
	PromptHoldStill    Prompt = "hold_still"
	PromptLookStraight Prompt = "look_straight"
	PromptBlink        Prompt = "blink"
	PromptOpenEyes     Prompt = "open_eyes"
	PromptTooDark      Prompt = "too_dark"
	PromptTooBright    Prompt = "too_bright"
	PromptBlurry       Prompt = "blurry"
	PromptShowQR       Prompt = "show_qr"
)

// EventKind says which field of an Event is set.
type EventKind string

// Event kinds.
const (
	EventState     EventKind = "state"
	EventPrompt    EventKind = "prompt"
	EventFace      EventKind = "face"
	EventCandidate EventKind = "candidate"
	EventResult    EventKind = "result"
	EventTiming    EventKind = "timing"
	EventSync      EventKind = "sync"
	EventError     EventKind = "error"
)

// Rect is a rectangle in normalised frame coordinates (0..1, not mirrored).
type Rect struct{ X, Y, W, H float32 }

// FaceInfo is where the face is and how well it fits the oval guide.
type FaceInfo struct {
	Box Rect `json:"box"`
	// GuideFit is 1 when the face fills the guide well, 0 when far off.
	GuideFit float32 `json:"guide_fit"`
	// Presence rises from 0 (nobody) to 1 (face at the right size); the UI
	// uses it to brighten the screen as a person approaches.
	Presence float32 `json:"presence"`
	// Live measurements for the settings pane.
	Blur             float64 `json:"blur"`
	Brightness       float64 `json:"brightness"`
	Yaw, Pitch, Roll float32
}

// Candidate is who the kiosk thinks the person is.
type Candidate struct {
	AttendeeID string  `json:"attendee_id"`
	Name       string  `json:"name"`
	Score      float32 `json:"score"`
	Margin     float32 `json:"margin"`

	// attendee is the local store's record of AttendeeID, read once when
	// the match was found and carried to the check-in (welcome line,
	// capture consent); known is false when the store has no such
	// attendee, lookupErr set when it could not be read.
	attendee  storage.Attendee
	known     bool
	lookupErr error
	// repeat (when repeatKnown) is whether the attendee checked in earlier
	// today, read once on the way from the match to the check-in.
	repeat, repeatKnown bool
}

// Outcome is how an approach ended.
type Outcome string

// Outcomes.
const (
	OutcomeCheckedIn Outcome = "checked_in"
	OutcomeRepeat    Outcome = "repeat" // already checked in earlier; welcomed again, not counted twice
	OutcomeNotFound  Outcome = "not_found"
	OutcomeDeclined  Outcome = "declined" // answered "no" to "Are you NAME?"
	OutcomeTimeout   Outcome = "timeout"
)

// Result ends an approach.
type Result struct {
	Outcome    Outcome `json:"outcome"`
	AttendeeID string  `json:"attendee_id,omitempty"`
	Name       string  `json:"name,omitempty"`
	Info       string  `json:"info,omitempty"`
	Method     string  `json:"method,omitempty"`
	Score      float32 `json:"score"`
	Margin     float32 `json:"margin"`
	// Frames is how many embedded frames were fused for the decision
	// (fewer than Config.FuseFrames: an early decision).
	Frames int `json:"frames,omitempty"`
	// LatencyMS runs from the first frame with the face in the guide
	// (centred, right size, not cut) to this result; ApproachMS from the
	// first frame with any face (walking in included).
	LatencyMS  float64 `json:"latency_ms"`
	ApproachMS float64 `json:"approach_ms"`
	// CheckInID is the recorded check-in's client UUID (OutcomeCheckedIn).
	CheckInID string `json:"checkin_id,omitempty"`
	// Captured: the check-in carries the face's template for the server
	// to keep as a second one (Config.CaptureTemplates).
	Captured bool `json:"captured,omitempty"`
}

// Event is what the kiosk emits; the UI and the headless runner consume it.
// Exactly the field named by Kind is meaningful (State is always set).
type Event struct {
	Kind      EventKind          `json:"event"`
	At        time.Time          `json:"at"`
	State     State              `json:"state"`
	Prompt    Prompt             `json:"prompt,omitempty"`
	Face      *FaceInfo          `json:"face,omitempty"`
	Candidate *Candidate         `json:"candidate,omitempty"`
	Result    *Result            `json:"result,omitempty"`
	Timings   map[string]float64 `json:"timings,omitempty"`
	Sync      *SyncStatus        `json:"sync,omitempty"`
	Err       string             `json:"error,omitempty"`
	// Code says what went wrong in an EventError or EventOutOfOrder, in a
	// word the UI turns into a sentence in the reader's language
	// ("error.code."+Code, one of the E* codes); Args fill its blanks (the
	// attempt count of a wrong code). Err says the same in English with the
	// cause, for the log and the headless output, never for the screen.
	Code string `json:"code,omitempty"`
	Args []int  `json:"args,omitempty"`
}

// errorEvent is the EventError for err: its code for the screen, its
// text for the log.
func errorEvent(err error) Event {
	return Event{Kind: EventError, Err: err.Error(), Code: ErrorCode(err)}
}
