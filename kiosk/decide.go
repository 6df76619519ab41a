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

// search fuses the embedded frames into t and searches the gallery.
func (k *Machine) search(t *engine.Track) (engine.Match, time.Duration, error) {
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
func (k *Machine) decideEarly(ctx context.Context, frame engine.Image, a *engine.Analysis, t *engine.Track) (bool, error) {
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

func (k *Machine) identify(ctx context.Context, t *engine.Track) error {
	k.setState(StateIdentify)
	k.prompt(PromptNone, true)
	m, took, err := k.search(t)
	if err != nil {
		k.emit(errorEvent(err))
		return err
	}
	k.emit(Event{Kind: EventTiming, Timings: map[string]float64{"search_ms": ms(took)}})
	return k.decide(ctx, m)
}

// canVerify: second verification is on and codes can be checked.
func (k *Machine) canVerify() bool { return k.cfg.SecondVerify && len(k.cfg.CodeKey) > 0 }

// candidate reads match m's attendee from the store, once for the whole
// check-in (name, welcome line, capture consent). An attendee the store
// does not have (or cannot read) is shown by id and sends no capture.
func (k *Machine) candidate(ctx context.Context, m engine.Match) *Candidate {
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
func (k *Machine) decide(ctx context.Context, m engine.Match) error {
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
		k.emit(errorEvent(err))
		return err
	}
	return k.decideCandidate(ctx, c, risk)
}

// decideCandidate acts on the rule's decision for candidate c (score ≥
// Confirm) with the kiosk's own risk.
func (k *Machine) decideCandidate(ctx context.Context, c *Candidate, risk facecheck.Risk) error {
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
func (k *Machine) risk(ctx context.Context, c *Candidate) (facecheck.Risk, error) {
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
func (k *Machine) repeat(ctx context.Context, c *Candidate) (bool, error) {
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
func (k *Machine) liveness() float32 {
	l := float32(math.NaN())
	for _, v := range k.live {
		if !math.IsNaN(float64(v)) && (math.IsNaN(float64(l)) || v < l) {
			l = v
		}
	}
	return l
}

func (k *Machine) today() time.Time {
	y, mo, d := k.clock().In(k.cfg.Location).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, k.cfg.Location)
}

// Answer answers the pending "Are you NAME?" question and returns the
// events it caused.
func (k *Machine) Answer(ctx context.Context, yes bool) ([]Event, error) {
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
func (k *Machine) checkIn(ctx context.Context, c *Candidate, method string) error {
	now := k.clock()
	r := &Result{Outcome: OutcomeCheckedIn, AttendeeID: c.AttendeeID, Name: c.Name, Info: c.attendee.Info, Method: method,
		Score: c.Score, Margin: c.Margin, Frames: len(k.embeds)}
	repeat, err := k.repeat(ctx, c)
	if err != nil {
		k.setState(StateError)
		k.emit(errorEvent(err))
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
			k.emit(errorEvent(err))
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
func (k *Machine) capture(c *Candidate, method string) *api.SealedTemplate {
	if !k.cfg.CaptureTemplates || len(k.cfg.CodeKey) == 0 || k.matched == nil || !api.CaptureMethod(method) {
		return nil
	}
	if method == api.MethodFace && (c.Score < k.cfg.Accept+captureLead || c.Margin < k.cfg.Margin+captureLead) {
		return nil
	}
	attendeeID := c.AttendeeID
	if c.lookupErr != nil {
		k.emit(Event{Kind: EventError, Code: EINTERNAL, Err: fmt.Sprintf("capture for %s not sent: %v", attendeeID, c.lookupErr)})
		return nil
	}
	if !c.known || !c.attendee.CaptureConsent {
		return nil
	}
	st, err := api.SealTemplate(k.cfg.CodeKey, attendeeID, k.matched.Wire())
	if err != nil {
		k.emit(Event{Kind: EventError, Code: EINTERNAL, Err: fmt.Sprintf("capture for %s not sent: %v", attendeeID, err)})
		return nil
	}
	return &st
}

// latency is measured from the frame the face was first framed in the
// guide, centred at a usable size (from the first face when it never was).
func (k *Machine) latency() float64 {
	from := k.framed
	if from.IsZero() {
		from = k.start
	}
	return ms(k.clock().Sub(from))
}

func (k *Machine) approach() float64 { return ms(k.clock().Sub(k.start)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
