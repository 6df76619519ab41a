package kiosk

import (
	"math"

	"github.com/facecheck/facecheck/engine"
)

// prompt applies hysteresis: p shows once it was asked for PromptFrames
// frames in a row; force shows it at once.
func (k *Machine) prompt(p Prompt, force bool) {
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

// blockingIssue returns the first quality issue that matters now. Closed
// eyes are a blink in progress, not a problem, once the face is settled.
//
// A face off the guide oval is a framing issue too (engine.ReasonOffCentre:
// "centre your face"), after the engine's own framing issues and before
// stillness, pose and the rest: nothing is decided on a face still walking
// in, half outside the frame, however still its visible part looks.
func (k *Machine) blockingIssue(a *engine.Analysis, w, h int) (engine.Issue, bool) {
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
