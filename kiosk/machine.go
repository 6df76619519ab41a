package kiosk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

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

// Fusions. On the dev faces' kiosk-like frames (3 per probe, 50 splits,
// corrected labels; docs/accuracy.md) the best score over the frames
// misses 4.56% of genuine attendees at FPIR 1e-2 against 4.93% for one
// frame and 5.02% for the mean embedding, which averages a good frame
// with worse ones.
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

// ErrNoQuestion is returned by Answer when no "Are you NAME?" is pending.
var ErrNoQuestion = errors.New("kiosk: no identity question pending")

// Kiosk is the headless check-in state machine. Feed it frames with Step;
// answer identity questions with Answer. It is not safe for concurrent use.
type Kiosk struct {
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

// New returns a kiosk in StateIdle. clock nil means time.Now.
func New(cfg Config, eng Engine, gallery *engine.Gallery, store Store, clock func() time.Time) (*Kiosk, error) {
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
	return &Kiosk{cfg: cfg, eng: eng, gallery: gallery, store: store, clock: clock,
		state: StateIdle, tracker: engine.NewTracker()}, nil
}

// State returns the current state.
func (k *Kiosk) State() State { return k.state }

// Config returns the configuration in use.
func (k *Kiosk) Config() Config { return k.cfg }

// SetConfig validates cfg and applies it from the next frame on (call it
// between frames: the Kiosk is not safe for concurrent use; Runner.SetConfig
// is). An invalid configuration is refused and the old one kept. A nil
// Location keeps the current one.
func (k *Kiosk) SetConfig(cfg Config) error {
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
func (k *Kiosk) SetEngineConfig(c engine.Config) error {
	e, ok := k.eng.(interface{ SetConfig(engine.Config) error })
	if !ok {
		return errors.New("kiosk: this engine does not take detector settings")
	}
	return e.SetConfig(c)
}

// SetQRScanner replaces the QR reader used in second verification (tests;
// nil restores the default engine.QRReader).
func (k *Kiosk) SetQRScanner(scan func(engine.Image) (engine.QRResult, error)) { k.qr = scan }

// Question returns the pending "Are you NAME?" candidate, or nil.
func (k *Kiosk) Question() *Candidate { return k.cand }

func (k *Kiosk) emit(e Event) {
	e.At = k.clock()
	e.State = k.state
	k.events = append(k.events, e)
}

func (k *Kiosk) setState(s State) {
	if s == k.state {
		return
	}
	k.state = s
	k.emit(Event{Kind: EventState})
}

// prompt applies hysteresis: p shows once it was asked for PromptFrames
// frames in a row; force shows it at once.
func (k *Kiosk) prompt(p Prompt, force bool) {
	if p == k.pending {
		k.pendingFrames++
	} else {
		k.pending, k.pendingFrames = p, 1
	}
	if p != k.shown && (force || k.pendingFrames >= k.cfg.PromptFrames) {
		k.shown = p
		k.emit(Event{Kind: EventPrompt, Prompt: p})
	}
}

// reset ends the approach and goes idle.
func (k *Kiosk) reset() {
	k.still, k.bad, k.noFace, k.trackID = 0, 0, 0, 0
	k.embeds, k.live, k.matched = nil, nil, nil
	k.clearQuestion()
	k.prompt(PromptNone, true)
	k.setState(StateIdle)
}

func (k *Kiosk) clearQuestion() {
	k.cand = nil
	k.verifyReason, k.codeFails, k.lastQR = "", 0, ""
}

// Reset abandons the current approach (the UI's Cancel) and returns the
// events it caused: a pending "Are you NAME?" or second verification ends
// with OutcomeDeclined. When a person is still in front of the camera the
// machine waits in StateCooldown until they leave (so they are not
// identified again at once); otherwise it goes idle.
func (k *Kiosk) Reset() []Event {
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

func (k *Kiosk) beginApproach(trackID int) {
	k.still, k.bad, k.noFace = 0, 0, 0
	k.embeds, k.live, k.matched = nil, nil, nil
	k.trackID = trackID
	k.start = k.clock()
	k.framed = time.Time{}
	k.setState(StateApproach)
}

// Step feeds one frame and returns the events it caused.
func (k *Kiosk) Step(ctx context.Context, frame engine.Image) ([]Event, error) {
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
		k.emit(Event{Kind: EventError, Err: err.Error()})
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

func (k *Kiosk) stepNoFace() {
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
func (k *Kiosk) timeoutQuestion() {
	if (k.state == StateConfirm || k.state == StateSecondVerify) && k.cand != nil {
		k.emit(Event{Kind: EventResult, Result: &Result{Outcome: OutcomeTimeout, AttendeeID: k.cand.AttendeeID,
			Name: k.cand.Name, Score: k.cand.Score, Margin: k.cand.Margin, LatencyMS: k.latency(), ApproachMS: k.approach()}})
	}
	k.clearQuestion()
}

// blockingIssue returns the first quality issue that matters now. Closed
// eyes are a blink in progress, not a problem, once the face is settled.
//
// A face off the guide oval is a framing issue too (engine.ReasonOffCentre:
// "centre your face"), after the engine's own framing issues and before
// stillness, pose and the rest: nothing is decided on a face still walking
// in, half outside the frame, however still its visible part looks.
func (k *Kiosk) blockingIssue(a *engine.Analysis, w, h int) (engine.Issue, bool) {
	for _, is := range a.Issues {
		if is.Reason == engine.ReasonEyesClosed && (k.state == StateHoldStill || k.state == StateLiveness) {
			continue
		}
		if !framingReason(is.Reason) {
			if off, bad := offCentre(a, w, h); bad {
				return off, true
			}
		}
		return is, true
	}
	return offCentre(a, w, h)
}

// framingReason: an issue of where the face is, which comes first.
func framingReason(r engine.Reason) bool {
	switch r {
	case engine.ReasonNoFace, engine.ReasonTooSmall, engine.ReasonTooBig, engine.ReasonCut, engine.ReasonManyFaces:
		return true
	}
	return false
}

// offCentre reports the main face being off the guide oval, with its
// distance from the oval's centre in radii (see centred).
func offCentre(a *engine.Analysis, w, h int) (engine.Issue, bool) {
	if len(a.Faces) == 0 || centred(a.Face.Box, w, h) {
		return engine.Issue{}, false
	}
	return engine.Issue{Reason: engine.ReasonOffCentre, Value: float32(guideDistance(a.Face.Box, w, h)), Limit: guideCentre}, true
}

func (k *Kiosk) stepFace(ctx context.Context, frame engine.Image, a *engine.Analysis, t *engine.Track) error {
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
		k.emit(Event{Kind: EventError, Err: err.Error()})
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

// framedInGuide: the face is in the oval, centred and at a usable size
// (what the person controls by walking up); stillness, pose and the rest
// come after. The check-in latency is measured from the first such frame.
func framedInGuide(a *engine.Analysis, w, h int) bool {
	if len(a.Faces) == 0 {
		return false
	}
	for _, is := range a.Issues {
		if framingReason(is.Reason) {
			return false
		}
	}
	return centred(a.Face.Box, w, h)
}

// guideCentre is how far the face's centre may be from the guide oval's
// centre, as a fraction of the oval's radii, for the face to be in the
// guide: a face of the size the oval is drawn for (about half the frame
// height) then lies within the oval. A face still sliding in is not.
const guideCentre = 1.0 / 3

// centred reports whether box b's centre is within guideCentre of the
// guide oval (GuideRadii) in a w×h frame.
func centred(b engine.Box, w, h int) bool {
	return guideDistance(b, w, h) <= guideCentre
}

// GuideRadii are the radii of the face guide oval, centred in a w×h frame:
// 70% of the height tall and 0.78 as wide as tall (a face's proportions),
// narrowed to at most 0.45 of the width on a portrait screen. The UI draws
// it; the kiosk counts a face as in the guide by it.
func GuideRadii(w, h int) (rx, ry float64) {
	ry = 0.35 * float64(h)
	return min(0.78*ry, 0.45*float64(w)), ry
}

// guideDistance is how far b's centre is from the guide oval's centre, in
// the oval's radii (+Inf for an empty frame).
func guideDistance(b engine.Box, w, h int) float64 {
	if w <= 0 || h <= 0 {
		return math.Inf(1)
	}
	rx, ry := GuideRadii(w, h)
	c := b.Center()
	dx, dy := (float64(c.X)-float64(w)/2)/rx, (float64(c.Y)-float64(h)/2)/ry
	return math.Hypot(dx, dy)
}

func eyesClosed(a *engine.Analysis) bool {
	for _, is := range a.Issues {
		if is.Reason == engine.ReasonEyesClosed {
			return true
		}
	}
	return false
}

// search fuses the embedded frames into t and searches the gallery.
func (k *Kiosk) search(t *engine.Track) (engine.Match, time.Duration, error) {
	t0 := time.Now()
	t.Embeddings = append(t.Embeddings[:0], k.embeds...)
	q, err := engine.Quantize(t.Fused())
	if err != nil {
		return engine.Match{}, 0, err
	}
	k.matched = &q // the capture is the mean: the steadiest template
	if k.cfg.Fusion == FusionMean || len(k.embeds) < 2 {
		return k.gallery.Search(&q), time.Since(t0), nil
	}
	m, err := searchMax(k.gallery, k.embeds)
	return m, time.Since(t0), err
}

// searchMax searches with every frame and fuses by each attendee's best
// score over the frames. The top two of the per-frame results are enough:
// an attendee third in some frame is beaten there by two others, at least
// one of which is not the overall best, so it cannot be the overall second.
func searchMax(g *engine.Gallery, frames []engine.Embedding) (engine.Match, error) {
	var best engine.Match
	var ms []engine.Match
	for _, e := range frames {
		q, err := engine.Quantize(e)
		if err != nil {
			return engine.Match{}, err
		}
		m := g.Search(&q)
		if !m.Found {
			return m, nil
		}
		ms = append(ms, m)
		if m.Score > best.Score || !best.Found {
			best = m
		}
	}
	second, secondID := float32(math.Inf(-1)), ""
	for _, m := range ms {
		s, id := m.Score, m.ID
		if id == best.ID {
			s, id = m.SecondScore, m.SecondID
		}
		if id != "" && s > second {
			second, secondID = s, id
		}
	}
	best.SecondID, best.SecondScore, best.Margin = "", 0, best.Score
	if secondID != "" {
		best.SecondID, best.SecondScore, best.Margin = secondID, second, best.Score-second
	}
	return best, nil
}

// decideEarly checks the person in on the frames embedded so far when the
// match is confident (Config.EarlyLead) and not risky, on a frame with the
// face in the guide that is still: it moved little since the previous frame
// (the first frame of an approach has no movement measured). A face still
// walking in, half in the frame, can move little from one frame to the next
// at 30 fps; it is not where the kiosk is built to see it. It reports
// whether it decided.
func (k *Kiosk) decideEarly(ctx context.Context, frame engine.Image, a *engine.Analysis, t *engine.Track) (bool, error) {
	if k.cfg.EarlyLead <= 0 || math.IsNaN(float64(a.Measures.Movement)) || !framedInGuide(a, frame.W, frame.H) {
		return false, nil
	}
	m, took, err := k.search(t)
	if err != nil || !m.Found || m.Score < k.cfg.Accept+k.cfg.EarlyLead || m.Margin < k.cfg.Margin+k.cfg.EarlyLead {
		return false, nil // errors surface when the full fusion decides
	}
	c := k.candidate(ctx, m)
	if risk, err := k.risk(ctx, c); err != nil || risk != facecheck.RiskNone {
		return false, nil
	}
	k.setState(StateIdentify)
	k.prompt(PromptNone, true)
	k.emit(Event{Kind: EventTiming, Timings: map[string]float64{"search_ms": ms(took)}})
	return true, k.decideCandidate(ctx, c, facecheck.RiskNone)
}

func (k *Kiosk) identify(ctx context.Context, t *engine.Track) error {
	k.setState(StateIdentify)
	k.prompt(PromptNone, true)
	m, took, err := k.search(t)
	if err != nil {
		k.emit(Event{Kind: EventError, Err: err.Error()})
		return err
	}
	k.emit(Event{Kind: EventTiming, Timings: map[string]float64{"search_ms": ms(took)}})
	return k.decide(ctx, m)
}

// thresholds are the configuration's decision thresholds.
func (c *Config) thresholds() facecheck.Thresholds {
	return facecheck.Thresholds{Accept: c.Accept, Confirm: c.Confirm, Margin: c.Margin}
}

// canVerify: second verification is on and codes can be checked.
func (k *Kiosk) canVerify() bool { return k.cfg.SecondVerify && len(k.cfg.CodeKey) > 0 }

// candidate reads match m's attendee from the store, once for the whole
// check-in (name, welcome line, capture consent). An attendee the store
// does not have (or cannot read) is shown by id and sends no capture.
func (k *Kiosk) candidate(ctx context.Context, m engine.Match) *Candidate {
	c := &Candidate{AttendeeID: m.ID, Name: m.ID, Score: m.Score, Margin: m.Margin}
	if at, err := k.store.FindAttendee(ctx, m.ID); err == nil {
		c.Name, c.attendee, c.known = at.Name, at, true
	} else if !errors.Is(err, storage.ErrNotFound) {
		c.lookupErr = err
	}
	return c
}

// decide turns a gallery match into a result, a question or second
// verification, by the shared rule (facecheck.Thresholds.Decide).
func (k *Kiosk) decide(ctx context.Context, m engine.Match) error {
	if d, _ := k.cfg.thresholds().Decide(m.Score, m.Margin, facecheck.RiskNone, false); !m.Found || d == facecheck.Reject {
		k.setState(StateNotFound)
		r := &Result{Outcome: OutcomeNotFound, Score: m.Score, Margin: m.Margin, Frames: len(k.embeds),
			LatencyMS: k.latency(), ApproachMS: k.approach()}
		k.emit(Event{Kind: EventResult, Result: r})
		return nil
	}
	c := k.candidate(ctx, m)
	k.emit(Event{Kind: EventCandidate, Candidate: c})
	risk, err := k.risk(ctx, c)
	if err != nil {
		k.setState(StateError)
		k.emit(Event{Kind: EventError, Err: err.Error()})
		return err
	}
	return k.decideCandidate(ctx, c, risk)
}

// decideCandidate acts on the rule's decision for candidate c (score ≥
// Confirm) with the kiosk's own risk.
func (k *Kiosk) decideCandidate(ctx context.Context, c *Candidate, risk facecheck.Risk) error {
	d, why := k.cfg.thresholds().Decide(c.Score, c.Margin, risk, k.canVerify())
	switch d {
	case facecheck.Verify:
		c.repeatKnown = false // the answer comes later: read it again then
		k.enterSecondVerify(c, why)
		return nil
	case facecheck.Accept:
		return k.checkIn(ctx, c, api.MethodFace)
	}
	c.repeatKnown = false
	k.cand = c
	k.setState(StateConfirm)
	return nil
}

// risk says what the kiosk itself finds risky about candidate c: a
// liveness doubt, or a repeat check-in when Config.VerifyRepeat is set
// (remembered on c for the check-in). A close second-best is the rule's.
func (k *Kiosk) risk(ctx context.Context, c *Candidate) (facecheck.Risk, error) {
	if k.cfg.LivenessMin > 0 {
		if l := k.liveness(); !math.IsNaN(float64(l)) && l < k.cfg.LivenessMin {
			return facecheck.RiskLiveness, nil
		}
	}
	if k.cfg.VerifyRepeat {
		repeat, err := k.repeat(ctx, c)
		if err != nil {
			return facecheck.RiskNone, err
		}
		if repeat {
			return facecheck.RiskRepeat, nil
		}
	}
	return facecheck.RiskNone, nil
}

// repeat reports whether c's attendee checked in earlier today, read once
// per decision.
func (k *Kiosk) repeat(ctx context.Context, c *Candidate) (bool, error) {
	if !c.repeatKnown {
		r, err := k.store.HasCheckedIn(ctx, c.AttendeeID, k.today())
		if err != nil {
			return false, err
		}
		c.repeat, c.repeatKnown = r, true
	}
	return c.repeat, nil
}

// liveness is the worst liveness score of the fused frames (NaN: not run).
func (k *Kiosk) liveness() float32 {
	l := float32(math.NaN())
	for _, v := range k.live {
		if !math.IsNaN(float64(v)) && (math.IsNaN(float64(l)) || v < l) {
			l = v
		}
	}
	return l
}

func (k *Kiosk) today() time.Time {
	y, mo, d := k.clock().In(k.cfg.Location).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, k.cfg.Location)
}

// Answer answers the pending "Are you NAME?" question and returns the
// events it caused.
func (k *Kiosk) Answer(ctx context.Context, yes bool) ([]Event, error) {
	k.events = nil
	if k.state != StateConfirm || k.cand == nil {
		return nil, ErrNoQuestion
	}
	c := k.cand
	k.cand = nil
	if !yes {
		k.setState(StateCooldown)
		k.emit(Event{Kind: EventResult, Result: &Result{Outcome: OutcomeDeclined, AttendeeID: c.AttendeeID, Name: c.Name,
			Score: c.Score, Margin: c.Margin, LatencyMS: k.latency(), ApproachMS: k.approach()}})
		return k.events, nil
	}
	err := k.checkIn(ctx, c, api.MethodConfirm)
	return k.events, err
}

// checkIn records c's check-in by method, or welcomes a repeat without
// recording it again.
func (k *Kiosk) checkIn(ctx context.Context, c *Candidate, method string) error {
	now := k.clock()
	r := &Result{Outcome: OutcomeCheckedIn, AttendeeID: c.AttendeeID, Name: c.Name, Info: c.attendee.Info, Method: method,
		Score: c.Score, Margin: c.Margin, Frames: len(k.embeds)}
	repeat, err := k.repeat(ctx, c)
	if err != nil {
		k.setState(StateError)
		k.emit(Event{Kind: EventError, Err: err.Error()})
		return err
	}
	if repeat {
		r.Outcome = OutcomeRepeat
	} else {
		r.CheckInID = uuid.NewString()
		ci := api.CheckIn{ID: r.CheckInID, AttendeeID: c.AttendeeID, Method: method, Score: c.Score, Margin: c.Margin,
			At: now, Capture: k.capture(c, method)}
		r.Captured = ci.Capture != nil
		if _, err := k.store.RecordCheckIn(ctx, ci); err != nil {
			k.setState(StateError)
			k.emit(Event{Kind: EventError, Err: err.Error()})
			return err
		}
	}
	r.LatencyMS, r.ApproachMS = k.latency(), k.approach()
	k.setState(StateWelcome)
	k.emit(Event{Kind: EventResult, Result: r})
	return nil
}

// captureLead is how far above Accept (and its margin above Margin) a face
// match must be for its capture to be sent: a capture teaches the gallery
// a new face of the attendee, so one false accept would become a standing
// one. It is the default early-decision lead, the point above which one
// frame's noise changes no outcome on the dev faces (measure.EarlyDecision).
// Matches proved by QR or short code need no lead.
const captureLead = DefaultEarlyLead

// capture is the template of the face that matched, sealed for c's
// attendee, to send with check-in c (Config.CaptureTemplates), or nil.
// Only attendees stored with CaptureConsent get one: an unknown attendee
// or a failed lookup sends nothing. A failure to look up or to seal costs
// the capture, never the check-in.
func (k *Kiosk) capture(c *Candidate, method string) *api.SealedTemplate {
	if !k.cfg.CaptureTemplates || len(k.cfg.CodeKey) == 0 || k.matched == nil || !api.CaptureMethod(method) {
		return nil
	}
	if method == api.MethodFace && (c.Score < k.cfg.Accept+captureLead || c.Margin < k.cfg.Margin+captureLead) {
		return nil
	}
	attendeeID := c.AttendeeID
	if c.lookupErr != nil {
		k.emit(Event{Kind: EventError, Err: fmt.Sprintf("capture for %s not sent: %v", attendeeID, c.lookupErr)})
		return nil
	}
	if !c.known || !c.attendee.CaptureConsent {
		return nil
	}
	st, err := api.SealTemplate(k.cfg.CodeKey, attendeeID, k.matched.Wire())
	if err != nil {
		k.emit(Event{Kind: EventError, Err: fmt.Sprintf("capture for %s not sent: %v", attendeeID, err)})
		return nil
	}
	return &st
}

// latency is measured from the frame the face was first framed in the
// guide, centred at a usable size (from the first face when it never was).
func (k *Kiosk) latency() float64 {
	from := k.framed
	if from.IsZero() {
		from = k.start
	}
	return ms(k.clock().Sub(from))
}

func (k *Kiosk) approach() float64 { return ms(k.clock().Sub(k.start)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// PromptFor maps a quality-gate reason to the prompt shown for it.
func PromptFor(r engine.Reason) Prompt {
	switch r {
	case engine.ReasonNoFace:
		return PromptNone
	case engine.ReasonTooSmall:
		return PromptComeCloser
	case engine.ReasonTooBig:
		return PromptStepBack
	case engine.ReasonCut, engine.ReasonOffCentre:
		return PromptCentre
	case engine.ReasonManyFaces:
		return PromptOnePerson
	case engine.ReasonMovement:
		return PromptHoldStill
	case engine.ReasonYaw, engine.ReasonPitch, engine.ReasonRoll:
		return PromptLookStraight
	case engine.ReasonEyesClosed:
		return PromptOpenEyes
	case engine.ReasonTooDark:
		return PromptTooDark
	case engine.ReasonTooBright:
		return PromptTooBright
	case engine.ReasonBlur:
		return PromptBlurry
	}
	return PromptLookStraight
}

// faceInfo normalises the main face's box and scores its fit in the guide.
func faceInfo(a *engine.Analysis, im engine.Image, g engine.Gates) *FaceInfo {
	b := a.Face.Box
	w, h := float32(max(1, im.W)), float32(max(1, im.H))
	fi := &FaceInfo{
		Box:        Rect{X: b.X1 / w, Y: b.Y1 / h, W: b.W() / w, H: b.H() / h},
		Blur:       float64(a.Measures.Blur),
		Brightness: float64(a.Measures.Brightness),
		Yaw:        a.Measures.Pose.Yaw, Pitch: a.Measures.Pose.Pitch, Roll: a.Measures.Pose.EyeRoll,
	}
	frac := b.H() / h
	if g.MinFace > 0 {
		fi.Presence = min(1, frac/g.MinFace)
	}
	c := b.Center()
	target := (g.MinFace + g.MaxFace) / 2
	off := math.Hypot(float64(c.X/w-0.5), float64(c.Y/h-0.5)) * 2
	size := 0.0
	if target > 0 {
		size = math.Abs(float64(frac-target)) / float64(target)
	}
	fi.GuideFit = float32(max(0, 1-off-size))
	return fi
}
