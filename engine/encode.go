package engine

import (
	"fmt"
	"time"

	"gocv.io/x/gocv"
)

// Encoded is one face taken from a still image: where it is, its landmarks
// and its embedding, plus how long each step took.
type Encoded struct {
	Face      Face
	Faces     int // faces detected in the image
	Landmarks Landmarks
	Embedding Embedding
	Timings   Timings
}

// Timings are per-step durations of one pass of the pipeline.
type Timings struct {
	Detect, Landmarks, Gates, Align, Embed, Liveness, Pose, Eyes time.Duration
}

// Encode runs detect → landmarks → align → embed on a still image and
// returns the largest face. It is what registration photos and eval go
// through; a kiosk frame goes through Analyze and the quality gates instead.
func (e *Engine) Encode(im Image) (Encoded, error) {
	var out Encoded
	m, err := matView(im)
	if err != nil {
		return out, err
	}
	defer keep(im)
	defer m.Close()
	t0 := time.Now()
	faces, err := e.detectMat(m)
	if err != nil {
		return out, err
	}
	if len(faces) == 0 {
		// A close-up whose face fills the photo (a selfie held too near, a
		// tight crop) is missed by a detector trained on faces with context
		// around them: look again with a margin added.
		faces, err = e.detectPadded(m, 0.3)
		if err != nil {
			return out, err
		}
	}
	t1 := time.Now()
	out.Timings.Detect = t1.Sub(t0)
	if len(faces) == 0 {
		return out, fmt.Errorf("encode: %w", ErrNoFace)
	}
	out.Faces = len(faces)
	out.Face = faces[mainFace(faces, im.W, im.H)]
	p, err := e.prepare(m)
	if err != nil {
		return out, err
	}
	defer p.Close()
	out.Landmarks, err = e.landmarksGray(p.gray, out.Face.Box)
	if err != nil {
		return out, err
	}
	t2 := time.Now()
	out.Timings.Landmarks = t2.Sub(t1)
	a, err := alignMat(m, out.Landmarks)
	if err != nil {
		return out, err
	}
	defer a.Close()
	t3 := time.Now()
	out.Timings.Align = t3.Sub(t2)
	out.Embedding, err = e.embedAligned(a)
	if err == nil {
		err = e.addContextView(m, out.Landmarks, out.Embedding)
	}
	out.Timings.Embed = time.Since(t3)
	return out, err
}

// addContextView adds, for still photos, the embedding of a second
// alignment that shows the face with more context (reference points pulled
// towards the centre by Config.StillContext), then renormalises v. Two views
// of one face average out part of the alignment's error; a kiosk fuses
// several frames instead, so its per-frame path skips this.
func (e *Engine) addContextView(frame gocv.Mat, lm Landmarks, v Embedding) error {
	k := e.cfg.StillContext
	if k <= 0 || k == 1 {
		return nil
	}
	b, err := alignMatScaled(frame, lm, k)
	if err != nil {
		return err
	}
	defer b.Close()
	w, err := e.embedAligned(b)
	if err != nil {
		return err
	}
	for i := range v {
		v[i] += w[i]
	}
	Normalize(v)
	return nil
}
