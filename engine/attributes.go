package engine

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// softmax in float64 for stability; returns probabilities.
func softmax(v []float32) []float64 {
	m := float64(v[0])
	for _, x := range v {
		m = math.Max(m, float64(x))
	}
	out := make([]float64, len(v))
	var s float64
	for i, x := range v {
		out[i] = math.Exp(float64(x) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// Pose estimates head yaw, pitch and roll with the pose network on the face
// box grown by a quarter on each side; EyeRoll comes from the landmarks.
func (e *Engine) Pose(im Image, f Face, lm Landmarks) (Pose, error) {
	m, err := matView(im)
	if err != nil {
		return Pose{}, err
	}
	defer keep(im)
	defer m.Close()
	return e.poseMat(m, f.Box, lm)
}

var imagenetMean = [3]float64{0.485, 0.456, 0.406}
var imagenetStd = [3]float32{0.229, 0.224, 0.225}

func (e *Engine) poseMat(frame gocv.Mat, b Box, lm Landmarks) (Pose, error) {
	w, h := b.W(), b.H()
	r := image.Rect(int(b.X1-w/4), int(b.Y1-h/4), int(b.X2+w/4), int(b.Y2+h/4))
	crop := cropPadded(frame, r)
	defer crop.Close()
	if crop.Empty() {
		return Pose{}, fmt.Errorf("pose: %w: box outside the frame", ErrNoFace)
	}
	blob := gocv.BlobFromImage(crop, 1.0/255, image.Pt(224, 224),
		gocv.NewScalar(imagenetMean[0]*255, imagenetMean[1]*255, imagenetMean[2]*255, 0), true, false)
	defer blob.Close()
	data, err := blob.DataPtrFloat32()
	if err != nil {
		return Pose{}, fmt.Errorf("pose: %w", err)
	}
	plane := 224 * 224
	for c := 0; c < 3; c++ {
		inv := 1 / imagenetStd[c]
		for i := c * plane; i < (c+1)*plane; i++ {
			data[i] *= inv
		}
	}
	e.pose.SetInput(blob, "input")
	outs := e.pose.ForwardLayers([]string{"output", "617", "618"})
	defer func() {
		for i := range outs {
			outs[i].Close()
		}
	}()
	var ang [3]float32
	for k := range outs {
		v, err := outs[k].DataPtrFloat32()
		if err != nil || len(v) != 66 {
			return Pose{}, fmt.Errorf("pose: %w: output %d has %d bins, want 66", ErrModel, k, len(v))
		}
		var s float64
		for i, p := range softmax(v) {
			s += p * float64(i)
		}
		ang[k] = float32(s*3 - 99)
	}
	return Pose{Yaw: ang[0], Pitch: ang[1], Roll: ang[2], EyeRoll: lm.EyeRoll()}, nil
}

// Eyes returns the probability that each eye is open, from 24x24 gray crops
// around the eye landmarks.
func (e *Engine) Eyes(im Image, lm Landmarks) (Eyes, error) {
	m, err := matView(im)
	if err != nil {
		return Eyes{}, err
	}
	defer keep(im)
	defer m.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(m, &gray, gocv.ColorBGRToGray)
	return e.eyesGray(gray, lm)
}

func (e *Engine) eyesGray(gray gocv.Mat, lm Landmarks) (Eyes, error) {
	open := func(corner1, corner2 int, lids ...int) (float32, error) {
		var c Point
		for _, i := range lids {
			c.X += lm[i].X / float32(len(lids))
			c.Y += lm[i].Y / float32(len(lids))
		}
		// The package's JS: a square of 1.6 x the corner-to-corner width.
		size := float32(math.Hypot(float64(lm[corner2].X-lm[corner1].X), float64(lm[corner2].Y-lm[corner1].Y))) * 1.6
		if size < 4 {
			return 0, fmt.Errorf("eyes: %w: eye too small (%.1f px)", ErrNoFace, size)
		}
		crop := cropPadded(gray, squareAround(c, size))
		defer crop.Close()
		if crop.Empty() {
			return 0, fmt.Errorf("eyes: %w: eye outside the frame", ErrNoFace)
		}
		blob := gocv.BlobFromImage(crop, 1.0/255, image.Pt(24, 24), gocv.NewScalar(0, 0, 0, 0), false, false)
		defer blob.Close()
		e.eye.SetInput(blob, "input")
		out := e.eye.Forward("")
		defer out.Close()
		v, err := out.DataPtrFloat32()
		if err != nil || len(v) != 2 {
			return 0, fmt.Errorf("eyes: %w: %d values, want 2", ErrModel, len(v))
		}
		return float32(softmax(v)[eyeOpenIndex]), nil
	}
	l, err := open(36, 39, 37, 38, 40, 41)
	if err != nil {
		return Eyes{}, err
	}
	r, err := open(42, 45, 43, 44, 46, 47)
	if err != nil {
		return Eyes{}, err
	}
	return Eyes{Left: l, Right: r}, nil
}

// eyeOpenIndex is the eye model's "open" class, established on the dev
// faces (open eyes in ordinary photos) in TestEyesOpenOnDevFaces.
const eyeOpenIndex = 1

// Liveness returns the texture anti-spoof model's probability that the face
// is a live person rather than a print or a screen.
func (e *Engine) Liveness(im Image, f Face) (float32, error) {
	m, err := matView(im)
	if err != nil {
		return 0, err
	}
	defer keep(im)
	defer m.Close()
	return e.livenessMat(m, f.Box)
}

func (e *Engine) livenessMat(frame gocv.Mat, b Box) (float32, error) {
	// The package's JS: the box scaled 2.7x about its centre, shrunk to fit
	// the frame, then resized to 128x128 and fed raw 0-255 RGB.
	w, h := b.W(), b.H()
	fw, fh := float32(frame.Cols()), float32(frame.Rows())
	s := min((fh-1)/h, (fw-1)/w, 2.7)
	c := b.Center()
	nw, nh := w*s, h*s
	x0, y0 := c.X-nw/2, c.Y-nh/2
	x0 = max(0, min(x0, fw-1-nw))
	y0 = max(0, min(y0, fh-1-nh))
	r, ok := clampRect(image.Rect(int(x0), int(y0), int(x0+nw), int(y0+nh)), frame.Cols(), frame.Rows())
	if !ok {
		return 0, fmt.Errorf("liveness: %w: box outside the frame", ErrNoFace)
	}
	roi := frame.Region(r)
	defer roi.Close()
	blob := gocv.BlobFromImage(roi, 1, image.Pt(128, 128), gocv.NewScalar(0, 0, 0, 0), livenessSwapRB, false)
	defer blob.Close()
	e.liveness.SetInput(blob, "input")
	out := e.liveness.Forward("")
	defer out.Close()
	v, err := out.DataPtrFloat32()
	if err != nil || len(v) != 3 {
		return 0, fmt.Errorf("liveness: %w: %d values, want 3", ErrModel, len(v))
	}
	return float32(softmax(v)[livenessLiveIndex]), nil
}

// The liveness model's channel order and live class; see
// TestLivenessOnDevFaces for how they were checked.
const (
	livenessSwapRB    = true
	livenessLiveIndex = 0
)
