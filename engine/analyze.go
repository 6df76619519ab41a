package engine

import (
	"math"
	"time"
)

// Analysis is what one frame says about the person in front of the kiosk:
// every face found, and for the main (largest) one its landmarks, the gate
// measures, the issues, and the liveness score.
type Analysis struct {
	Faces     []Face
	Face      Face // the main face; zero when Faces is empty
	Landmarks Landmarks
	Measures  Measures
	Issues    []Issue // empty: good enough to recognise
	// Liveness is the texture model's live probability, NaN when not run.
	Liveness float32
	Timings  Timings
}

// OK reports whether a face was found and passed every gate.
func (a *Analysis) OK() bool { return len(a.Faces) > 0 && len(a.Issues) == 0 }

// AnalyzeOptions choose the optional, costlier steps.
type AnalyzeOptions struct {
	Gates Gates
	// Prev is the main face's box in the previous frame, for the movement
	// gate; nil skips it.
	Prev     *Box
	Pose     bool // run the pose network (15 ms); else yaw/pitch are 0
	Liveness bool // run the texture anti-spoof network
}

// Analyze runs detection, landmarks, eye state and the quality gates (and
// pose and liveness when asked) on one frame. It does not embed: the kiosk
// embeds only frames that pass, via Embed.
func (e *Engine) Analyze(im Image, o AnalyzeOptions) (*Analysis, error) {
	a := &Analysis{Liveness: float32(math.NaN())}
	m, err := matView(im)
	if err != nil {
		return nil, err
	}
	defer keep(im)
	defer m.Close()
	t0 := time.Now()
	faces, err := e.detectMat(m)
	if err != nil {
		return nil, err
	}
	a.Timings.Detect = time.Since(t0)
	a.Faces = faces
	if len(faces) == 0 {
		a.Issues = []Issue{{Reason: ReasonNoFace}}
		return a, nil
	}
	a.Face = faces[mainFace(faces, im.W, im.H)]
	p, err := e.prepare(m)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	t1 := time.Now()
	if a.Landmarks, err = e.landmarksGray(p.gray, a.Face.Box); err != nil {
		return nil, err
	}
	t2 := time.Now()
	a.Timings.Landmarks = t2.Sub(t1)

	ms := &a.Measures
	b := a.Face.Box
	ms.Faces = 1
	for _, f := range faces {
		if f != a.Face && f.Box.H() >= o.Gates.SecondFaceRatio*b.H() {
			ms.Faces++
		}
	}
	ms.FaceFrac = b.H() / float32(im.H)
	ms.Movement = float32(math.NaN())
	if o.Prev != nil && b.H() > 0 {
		c, pc := b.Center(), o.Prev.Center()
		ms.Movement = float32(math.Hypot(float64(c.X-pc.X), float64(c.Y-pc.Y))) / b.H()
	}
	ms.Brightness, ms.Blur = faceStats(p.gray, b)
	ms.Pose.EyeRoll = a.Landmarks.EyeRoll()
	t3 := time.Now()
	if ms.Eyes, err = e.eyesGray(p.gray, a.Landmarks); err != nil {
		// Eyes too small to crop: the size gate will say why.
		ms.Eyes = Eyes{Left: 1, Right: 1}
	}
	t4 := time.Now()
	a.Timings.Eyes = t4.Sub(t3)
	if o.Pose {
		if ms.Pose, err = e.poseMat(m, b, a.Landmarks); err != nil {
			return nil, err
		}
	}
	t5 := time.Now()
	a.Timings.Pose = t5.Sub(t4)
	a.Issues = o.Gates.Check(*ms, b, im.W, im.H)
	a.Timings.Gates = time.Since(t5) + t3.Sub(t2)
	if o.Liveness {
		t6 := time.Now()
		if a.Liveness, err = e.livenessMat(m, b); err != nil {
			return nil, err
		}
		a.Timings.Liveness = time.Since(t6)
	}
	return a, nil
}
