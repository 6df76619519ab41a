package engine

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// AlignSize is the side of the aligned face the feature model takes.
const AlignSize = 112

// arcfaceRef are the ArcFace reference positions of the five alignment
// points in a 112x112 crop.
var arcfaceRef = [5]Point{
	{X: 38.2946, Y: 51.6963}, {X: 73.5318, Y: 51.5014}, {X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655}, {X: 70.7299, Y: 92.2041},
}

// Align warps the face with landmarks lm onto the ArcFace 112x112 reference
// with a similarity transform (rotation, uniform scale, translation).
func (e *Engine) Align(im Image, lm Landmarks) (Image, error) {
	m, err := matView(im)
	if err != nil {
		return Image{}, err
	}
	defer keep(im)
	defer m.Close()
	a, err := alignMat(m, lm)
	if err != nil {
		return Image{}, err
	}
	defer a.Close()
	return imageFromMat(a), nil
}

func alignMat(frame gocv.Mat, lm Landmarks) (gocv.Mat, error) {
	return alignMatScaled(frame, lm, 1)
}

func alignMatScaled(frame gocv.Mat, lm Landmarks, k float32) (gocv.Mat, error) {
	five := lm.Five()
	ref := make([]Point, len(arcfaceRef))
	for i, p := range arcfaceRef {
		ref[i] = Point{X: 56 + (p.X-56)*k, Y: 56 + (p.Y-56)*k}
	}
	s, err := fitSimilarity(five[:], ref)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("align: %w: %v", ErrNoFace, err)
	}
	t := s.mat()
	defer t.Close()
	out := gocv.NewMat()
	gocv.WarpAffineWithParams(frame, &out, t, image.Pt(AlignSize, AlignSize), gocv.InterpolationLinear, gocv.BorderReplicate, colorBlack)
	return out, nil
}

// Embed returns the L2-normalised 512-d feature of the face with landmarks lm.
func (e *Engine) Embed(im Image, lm Landmarks) (Embedding, error) {
	return e.embed(im, lm, false)
}

// embed aligns and embeds; still adds the still-photo context view.
func (e *Engine) embed(im Image, lm Landmarks, still bool) (Embedding, error) {
	m, err := matView(im)
	if err != nil {
		return nil, err
	}
	defer keep(im)
	defer m.Close()
	a, err := alignMat(m, lm)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	v, err := e.embedAligned(a)
	if err != nil || !still {
		return v, err
	}
	return v, e.addContextView(m, lm, v)
}

// EmbedAligned returns the feature of an already aligned 112x112 BGR face.
func (e *Engine) EmbedAligned(aligned Image) (Embedding, error) {
	if aligned.W != AlignSize || aligned.H != AlignSize {
		return nil, fmt.Errorf("embed: %w: aligned face is %dx%d, want %dx%d", ErrBadImage, aligned.W, aligned.H, AlignSize, AlignSize)
	}
	m, err := matView(aligned)
	if err != nil {
		return nil, err
	}
	defer keep(aligned)
	defer m.Close()
	return e.embedAligned(m)
}

func (e *Engine) embedAligned(a gocv.Mat) (Embedding, error) {
	v, err := e.featureOnce(a)
	if err != nil {
		return nil, err
	}
	if e.cfg.FlipEmbed {
		f := gocv.NewMat()
		defer f.Close()
		gocv.Flip(a, &f, 1)
		w, err := e.featureOnce(f)
		if err != nil {
			return nil, err
		}
		// Sum of the two normalised vectors: each view counts equally.
		Normalize(v)
		Normalize(w)
		for i := range v {
			v[i] += w[i]
		}
	}
	return Normalize(v), nil
}

func (e *Engine) featureOnce(a gocv.Mat) (Embedding, error) {
	blob := gocv.BlobFromImage(a, 1.0/128, image.Pt(AlignSize, AlignSize), gocv.NewScalar(127, 127, 127, 0), true, false)
	defer blob.Close()
	e.feature.SetInput(blob, "input")
	out := e.feature.Forward("")
	defer out.Close()
	v, err := out.DataPtrFloat32()
	if err != nil || len(v) != Dim {
		return nil, fmt.Errorf("embed: %w: %d values, want %d (%v)", ErrModel, len(v), Dim, err)
	}
	return append(Embedding(nil), v...), nil
}
