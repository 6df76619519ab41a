package kiosk

import (
	"testing"

	"github.com/facecheck/facecheck/engine"
)

func TestPromptForEveryReason(t *testing.T) {
	for _, r := range []engine.Reason{engine.ReasonTooSmall, engine.ReasonTooBig, engine.ReasonCut, engine.ReasonOffCentre, engine.ReasonManyFaces,
		engine.ReasonMovement, engine.ReasonYaw, engine.ReasonPitch, engine.ReasonRoll, engine.ReasonEyesClosed,
		engine.ReasonTooDark, engine.ReasonTooBright, engine.ReasonBlur} {
		if PromptFor(r) == PromptNone {
			t.Errorf("reason %s has no prompt", r)
		}
	}
	if PromptFor(engine.ReasonNoFace) != PromptNone {
		t.Error("no face should clear the prompt")
	}
}

func TestFramedInGuide(t *testing.T) {
	box := func(cx, cy, h float32) engine.Box {
		return engine.Box{X1: cx - 0.4*h, Y1: cy - h/2, X2: cx + 0.4*h, Y2: cy + h/2}
	}
	// 640x480: the guide oval's radii are 131 px across and 168 px down;
	// the centre may be a third of them (43.7, 56 px) off.
	tests := []struct {
		name   string
		box    engine.Box
		issues []engine.Reason
		w, h   int
		want   bool
	}{
		{"centred", box(320, 240, 216), nil, 640, 480, true},
		{"a little off", box(350, 215, 216), nil, 640, 480, true},
		{"sliding in", box(267, 240, 216), nil, 640, 480, false},
		{"too high", box(320, 180, 216), nil, 640, 480, false},
		{"centred but too small", box(320, 240, 90), []engine.Reason{engine.ReasonTooSmall}, 640, 480, false},
		{"centred but cut", box(320, 240, 216), []engine.Reason{engine.ReasonCut}, 640, 480, false},
		{"centred, not still", box(320, 240, 216), []engine.Reason{engine.ReasonMovement}, 640, 480, true},
		{"portrait frame", box(240, 320, 300), nil, 480, 640, true},
		{"no frame size", box(320, 240, 216), nil, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &engine.Analysis{Faces: []engine.Face{{Box: tc.box}}}
			a.Face = a.Faces[0]
			for _, r := range tc.issues {
				a.Issues = append(a.Issues, engine.Issue{Reason: r})
			}
			if got := framedInGuide(a, tc.w, tc.h); got != tc.want {
				t.Errorf("framedInGuide = %v, want %v", got, tc.want)
			}
		})
	}
}
