package engine

import "fmt"

// PhotoGates are the quality gates for a registration photo rather than a
// kiosk frame: framing is looser (a selfie may be a close-up), movement does
// not apply, but the face must be sharp, open-eyed, frontal and alone.
func PhotoGates() Gates {
	g := DefaultGates()
	g.MinFace, g.MaxFace = 0.12, 10 // close-ups are fine: the padded retry finds them
	g.EdgeMargin = 0.25
	g.MaxMovement = 1e9
	g.MinBlur = 15
	g.MinBrightness, g.MaxBright = 35, 235
	// Bystanders in the background of a photo are smaller than the person
	// registering; a second face almost as large is a second person.
	g.SecondFaceRatio = 0.75
	g.MaxYaw, g.MaxPitch = 35, 30
	g.MinEyesOpen = 0.15
	return g
}

// RejectedError is a photo that is readable but not good enough to enrol;
// Issues says why, most important first.
type RejectedError struct {
	Issues []Issue
}

func (r *RejectedError) Error() string {
	return fmt.Sprintf("photo not good enough: %v", r.Issues)
}

// EnrolPhoto runs a registration photo through the same detection,
// landmarks and gates as the kiosk (with PhotoGates and the pose network) and
// returns its embedding, or a *RejectedError naming the failed gates.
func (e *Engine) EnrolPhoto(im Image) (Encoded, error) {
	g := PhotoGates()
	a, err := e.Analyze(im, AnalyzeOptions{Gates: g, Pose: true})
	if err != nil {
		return Encoded{}, err
	}
	if len(a.Faces) == 0 {
		// The padded retry of Encode finds faces filling the whole photo.
		enc, err := e.Encode(im)
		if err != nil {
			return Encoded{}, &RejectedError{Issues: []Issue{{Reason: ReasonNoFace}}}
		}
		return enc, nil
	}
	if len(a.Issues) > 0 {
		return Encoded{}, &RejectedError{Issues: a.Issues}
	}
	emb, err := e.embed(im, a.Landmarks, true)
	if err != nil {
		return Encoded{}, err
	}
	return Encoded{Face: a.Face, Faces: len(a.Faces), Landmarks: a.Landmarks, Embedding: emb, Timings: a.Timings}, nil
}
