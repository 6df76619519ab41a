package kiosk

import (
	"context"
	"errors"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// Engine is the part of *engine.Engine the state machine uses.
type Engine interface {
	Analyze(engine.Image, engine.AnalyzeOptions) (*engine.Analysis, error)
	Embed(engine.Image, engine.Landmarks) (engine.Embedding, error)
}

// Store is the part of the local database the state machine uses;
// *storage.DB satisfies it.
type Store interface {
	RecordCheckIn(ctx context.Context, c api.CheckIn) (duplicate bool, err error)
	HasCheckedIn(ctx context.Context, attendeeID string, since time.Time) (bool, error)
	FindAttendee(ctx context.Context, id string) (storage.Attendee, error)
	// ListAttendees is scanned for a short code that is not the face
	// candidate's (second verification, a code typed at "not found").
	ListAttendees(ctx context.Context) ([]storage.Attendee, error)
}

var _ Engine = (*engine.Engine)(nil)

// ErrNoQuestion is returned by Answer when no "Are you NAME?" is pending.
var ErrNoQuestion = errors.New("kiosk: no identity question pending")

// Machine is the headless check-in state machine. Feed it frames with Step;
// answer identity questions with Answer. It is not safe for concurrent use.
//
// Its parts: config.go (Config and its validation), machine.go (states and
// Step), prompts.go (the guide oval and the prompts), decide.go (search, the
// shared decision rule, the check-in), verify.go (second verification).
type Machine struct {
	cfg     Config
	eng     Engine
	gallery *engine.Gallery
	store   Store
	clock   func() time.Time

	state   State
	tracker *engine.Tracker
	prev    *engine.Box
	trackID int // track of the current approach
	start   time.Time
	framed  time.Time        // first frame of the approach with the face in the guide
	matched *engine.Template // the fused template last searched (for CaptureTemplates)
	stepAt  time.Time        // when the current frame came into Step
	noFace  int
	still   int
	bad     int
	embeds  []engine.Embedding

	shown         Prompt
	pending       Prompt
	pendingFrames int

	cand   *Candidate // pending confirm question or second verification
	events []Event

	live   []float32 // liveness of the embedded frames (NaN: not run)
	frameN int

	// second verification
	verifyReason facecheck.Risk
	verifyStart  time.Time
	codeFails    int
	lastQR       string
	qr           func(engine.Image) (engine.QRResult, error)
	qrReader     *engine.QRReader
}

// New returns a machine in StateIdle. clock nil means time.Now.
func New(cfg Config, eng Engine, gallery *engine.Gallery, store Store, clock func() time.Time) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if eng == nil || gallery == nil || store == nil {
		return nil, errors.New("kiosk: New needs an engine, a gallery and a store")
	}
	if clock == nil {
		clock = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	return &Machine{cfg: cfg, eng: eng, gallery: gallery, store: store, clock: clock,
		state: StateIdle, tracker: engine.NewTracker()}, nil
}

// State returns the current state.
func (k *Machine) State() State { return k.state }

// Config returns the configuration in use.
func (k *Machine) Config() Config { return k.cfg }

// SetConfig validates cfg and applies it from the next frame on (call it
// between frames: the Machine is not safe for concurrent use; Runner.SetConfig
// is). An invalid configuration is refused and the old one kept. A nil
// Location keeps the current one.
func (k *Machine) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Location == nil {
		cfg.Location = k.cfg.Location
	}
	cfg.CodeKey = append([]byte(nil), cfg.CodeKey...)
	if len(cfg.CodeKey) == 0 {
		cfg.CodeKey = nil
	}
	k.cfg = cfg
	if n := len(k.embeds) - cfg.FuseFrames; n > 0 {
		k.embeds = k.embeds[n:]
		k.live = k.live[min(n, len(k.live)):]
	}
	return nil
}

// SetEngineConfig applies detector settings to the engine when it takes
// them (*engine.Engine does), between frames like SetConfig.
func (k *Machine) SetEngineConfig(c engine.Config) error {
	e, ok := k.eng.(interface{ SetConfig(engine.Config) error })
	if !ok {
		return errors.New("kiosk: this engine does not take detector settings")
	}
	return e.SetConfig(c)
}

// SetQRScanner replaces the QR reader used in second verification (tests;
// nil restores the default engine.QRReader).
func (k *Machine) SetQRScanner(scan func(engine.Image) (engine.QRResult, error)) { k.qr = scan }

// Question returns the pending "Are you NAME?" candidate, or nil.
func (k *Machine) Question() *Candidate { return k.cand }

func (k *Machine) emit(e Event) {
	e.At = k.clock()
	e.State = k.state
	k.events = append(k.events, e)
}

func (k *Machine) setState(s State) {
	if s == k.state {
		return
	}
	k.state = s
	k.emit(Event{Kind: EventState})
}

// reset ends the approach and goes idle.
func (k *Machine) reset() {
	k.still, k.bad, k.noFace, k.trackID = 0, 0, 0, 0
	k.embeds, k.live, k.matched = nil, nil, nil
	k.clearQuestion()
	k.prompt(PromptNone, true)
	k.setState(StateIdle)
}

func (k *Machine) clearQuestion() {
	k.cand = nil
	k.verifyReason, k.codeFails, k.lastQR = "", 0, ""
}

// Reset abandons the current approach (the UI's Cancel) and returns the
// events it caused: a pending "Are you NAME?" or second verification ends
// with OutcomeDeclined. When a person is still in front of the camera the
// machine waits in StateCooldown until they leave (so they are not
// identified again at once); otherwise it goes idle.
func (k *Machine) Reset() []Event {
	k.events = nil
	if (k.state == StateConfirm || k.state == StateSecondVerify) && k.cand != nil {
		c := k.cand
		k.emit(Event{Kind: EventResult, Result: &Result{Outcome: OutcomeDeclined, AttendeeID: c.AttendeeID, Name: c.Name,
			Score: c.Score, Margin: c.Margin, LatencyMS: k.latency(), ApproachMS: k.approach()}})
	}
	present := k.state != StateIdle && k.trackID != 0 && k.noFace == 0
	if !present {
		k.reset()
		return k.events
	}
	k.still, k.bad = 0, 0
	k.embeds, k.live = nil, nil
	k.clearQuestion()
	k.prompt(PromptNone, true)
	k.setState(StateCooldown)
	return k.events
}

func (k *Machine) beginApproach(trackID int) {
	k.still, k.bad, k.noFace = 0, 0, 0
	k.embeds, k.live, k.matched = nil, nil, nil
	k.trackID = trackID
	k.start = k.clock()
	k.framed = time.Time{}
	k.setState(StateApproach)
}

// Step feeds one frame and returns the events it caused.
func (k *Machine) Step(ctx context.Context, frame engine.Image) ([]Event, error) {
	k.events = nil
	k.frameN++
	if k.cfg.SkipFrames > 0 && (k.frameN-1)%(k.cfg.SkipFrames+1) != 0 {
		return nil, nil
	}
	k.stepAt = k.clock() // the latency clock counts this frame's analysis
	if k.state == StateSecondVerify && k.cfg.VerifyTimeout > 0 && k.clock().Sub(k.verifyStart) >= k.cfg.VerifyTimeout {
		k.timeoutQuestion()
		k.setState(StateCooldown)
	}
	a, err := k.eng.Analyze(frame, engine.AnalyzeOptions{Gates: k.cfg.Gates, Prev: k.prev, Pose: k.cfg.Pose,
		Liveness: k.cfg.Liveness || k.cfg.LivenessMin > 0})
	if err != nil {
		k.emit(errorEvent(err))
		return k.events, err
	}
	tracks := k.tracker.Update(a.Faces)
	qrSeen := false
	if k.state == StateSecondVerify {
		var err error
		qrSeen, err = k.scanQR(ctx, frame)
		if err != nil || k.state != StateSecondVerify {
			if len(a.Faces) > 0 {
				b := a.Face.Box
				k.prev = &b
			}
			return k.events, err
		}
	}
	if len(a.Faces) == 0 {
		k.prev = nil
		if !qrSeen { // a code held up may hide the face
			k.noFace++
		}
		k.stepNoFace()
		return k.events, nil
	}
	b := a.Face.Box
	k.prev = &b
	k.noFace = 0
	t := tracks[0]
	k.emit(Event{Kind: EventFace, Face: faceInfo(a, frame, k.cfg.Gates)})

	switch k.state {
	case StateWelcome, StateNotFound:
		k.setState(StateCooldown)
		return k.events, nil
	case StateCooldown:
		// A different person stepped in after the last one left.
		if t.ID == k.trackID || k.tracker.Lookup(k.trackID) != nil {
			return k.events, nil
		}
		k.reset()
	case StateConfirm, StateSecondVerify:
		return k.events, nil
	}
	if k.state == StateIdle || t.ID != k.trackID {
		k.beginApproach(t.ID)
	}
	t.Blink.Observe(a.Measures.Eyes)
	return k.events, k.stepFace(ctx, frame, a, t)
}

func (k *Machine) stepNoFace() {
	switch k.state {
	case StateIdle:
		return
	case StateWelcome, StateNotFound:
		k.setState(StateCooldown)
	}
	if k.noFace < k.cfg.LeaveFrames {
		return
	}
	k.timeoutQuestion()
	k.reset()
}

// timeoutQuestion ends a pending question or second verification with
// OutcomeTimeout.
func (k *Machine) timeoutQuestion() {
	if (k.state == StateConfirm || k.state == StateSecondVerify) && k.cand != nil {
		k.emit(Event{Kind: EventResult, Result: &Result{Outcome: OutcomeTimeout, AttendeeID: k.cand.AttendeeID,
			Name: k.cand.Name, Score: k.cand.Score, Margin: k.cand.Margin, LatencyMS: k.latency(), ApproachMS: k.approach()}})
	}
	k.clearQuestion()
}

func (k *Machine) stepFace(ctx context.Context, frame engine.Image, a *engine.Analysis, t *engine.Track) error {
	if k.framed.IsZero() && framedInGuide(a, frame.W, frame.H) {
		k.framed = k.stepAt
	}
	if is, bad := k.blockingIssue(a, frame.W, frame.H); bad {
		k.still = 0
		k.bad++
		if (k.state == StateHoldStill || k.state == StateLiveness) && k.bad < k.cfg.PromptFrames {
			return nil // one bad frame does not interrupt holding still
		}
		k.setState(StateGuide)
		k.prompt(PromptFor(is.Reason), false)
		return nil
	}
	k.bad = 0
	if eyesClosed(a) || t.Blink.Closing() {
		return nil // mid-blink: neither still nor embedded
	}
	k.still++
	emb, err := k.eng.Embed(frame, a.Landmarks)
	if err != nil {
		k.emit(errorEvent(err))
		return err
	}
	k.embeds = append(k.embeds, emb)
	k.live = append(k.live, a.Liveness)
	if len(k.embeds) > k.cfg.FuseFrames {
		k.embeds = k.embeds[len(k.embeds)-k.cfg.FuseFrames:]
	}
	if len(k.live) > k.cfg.FuseFrames {
		k.live = k.live[len(k.live)-k.cfg.FuseFrames:]
	}
	blinked := !k.cfg.RequireBlink || t.Blink.Blinks > 0
	if blinked && (k.still < k.cfg.StillFrames || len(k.embeds) < k.cfg.FuseFrames) {
		if done, err := k.decideEarly(ctx, frame, a, t); done || err != nil {
			return err
		}
	}
	if k.still < k.cfg.StillFrames {
		k.setState(StateHoldStill)
		k.prompt(PromptHoldStill, k.shown != PromptNone && k.shown != PromptHoldStill)
		return nil
	}
	if k.cfg.RequireBlink && t.Blink.Blinks == 0 {
		k.setState(StateLiveness)
		k.prompt(PromptBlink, true)
		return nil
	}
	if len(k.embeds) < k.cfg.FuseFrames {
		k.setState(StateHoldStill)
		return nil
	}
	return k.identify(ctx, t)
}
