package engine

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Landmarks are the 68 iBUG points in frame pixels.
type Landmarks [68]Point

// Five returns the alignment points: eye centres (mean of points 36-41 and
// 42-47), nose tip (30), mouth corners (mean of 48/60 and 54/64), in the
// ArcFace reference order (image-left eye first).
func (l *Landmarks) Five() [5]Point {
	mean := func(idx ...int) Point {
		var p Point
		for _, i := range idx {
			p.X += l[i].X
			p.Y += l[i].Y
		}
		n := float32(len(idx))
		return Point{p.X / n, p.Y / n}
	}
	return [5]Point{
		mean(36, 37, 38, 39, 40, 41),
		mean(42, 43, 44, 45, 46, 47),
		l[30],
		mean(48, 60),
		mean(54, 64),
	}
}

// EyeRoll is the angle of the line between the eye centres, in degrees,
// positive when the image-right eye is lower.
func (l *Landmarks) EyeRoll() float32 {
	f := l.Five()
	return float32(math.Atan2(float64(f[1].Y-f[0].Y), float64(f[1].X-f[0].X)) * 180 / math.Pi)
}

// Bounds is the box around all 68 points.
func (l *Landmarks) Bounds() Box {
	b := Box{l[0].X, l[0].Y, l[0].X, l[0].Y}
	for _, p := range l[1:] {
		b.X1, b.Y1 = min(b.X1, p.X), min(b.Y1, p.Y)
		b.X2, b.Y2 = max(b.X2, p.X), max(b.Y2, p.Y)
	}
	return b
}

// mirror68 maps each iBUG point to its left-right counterpart.
var mirror68 = func() [68]int {
	var m [68]int
	for i := range m {
		m[i] = i
	}
	pair := func(a, b int) { m[a], m[b] = b, a }
	for i := 0; i <= 7; i++ {
		pair(i, 16-i) // jaw
	}
	for i := 0; i < 5; i++ {
		pair(17+i, 26-i) // eyebrows
	}
	pair(31, 35)
	pair(32, 34)
	for _, p := range [][2]int{{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46},
		{48, 54}, {49, 53}, {50, 52}, {55, 59}, {56, 58}, {60, 64}, {61, 63}, {65, 67}} {
		pair(p[0], p[1])
	}
	return m
}()

// Landmarks locates the 68 points of face f.
func (e *Engine) Landmarks(im Image, f Face) (Landmarks, error) {
	m, err := matView(im)
	if err != nil {
		return Landmarks{}, err
	}
	defer keep(im)
	defer m.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(m, &gray, gocv.ColorBGRToGray)
	return e.landmarksGray(gray, f.Box)
}

// landmarksGray runs the landmark network on the detector box. With
// RefineLandmarks set it averages four views — the box and a box grown by
// 10%, each also mirrored — which steadies the points against the
// detector box's jitter and the network's left-right bias (test-time
// augmentation; each pass costs about a millisecond).
func (e *Engine) landmarksGray(gray gocv.Mat, b Box) (Landmarks, error) {
	r := image.Rect(int(b.X1), int(b.Y1), int(b.X2), int(b.Y2))
	if r.Dx() < 4 || r.Dy() < 4 {
		return Landmarks{}, fmt.Errorf("landmarks: %w: face box %v too small", ErrNoFace, r)
	}
	if !e.cfg.RefineLandmarks {
		return e.landmarkPass(gray, r, false)
	}
	dx, dy := b.W()*0.05, b.H()*0.05
	grown := image.Rect(int(b.X1-dx), int(b.Y1-dy), int(b.X2+dx), int(b.Y2+dy))
	var sum Landmarks
	n := 0
	for _, rr := range []image.Rectangle{r, grown} {
		for _, flip := range []bool{false, true} {
			lm, err := e.landmarkPass(gray, rr, flip)
			if err != nil {
				return Landmarks{}, err
			}
			for i := range sum {
				sum[i].X += lm[i].X
				sum[i].Y += lm[i].Y
			}
			n++
		}
	}
	for i := range sum {
		sum[i].X /= float32(n)
		sum[i].Y /= float32(n)
	}
	return sum, nil
}

// landmarkPass runs the landmark network once on rectangle r of a gray
// frame, mirrored when flip is set (points are mapped back).
func (e *Engine) landmarkPass(gray gocv.Mat, r image.Rectangle, flip bool) (Landmarks, error) {
	crop := cropPadded(gray, r)
	defer crop.Close()
	if crop.Empty() {
		return Landmarks{}, fmt.Errorf("landmarks: %w: face box %v outside the frame", ErrNoFace, r)
	}
	if flip {
		gocv.Flip(crop, &crop, 1)
	}
	blob := gocv.BlobFromImage(crop, 1.0/256, image.Pt(64, 64), gocv.NewScalar(0, 0, 0, 0), false, false)
	defer blob.Close()
	e.landmark.SetInput(blob, "input")
	out := e.landmark.Forward("")
	defer out.Close()
	v, err := out.DataPtrFloat32()
	if err != nil || len(v) != 136 {
		return Landmarks{}, fmt.Errorf("landmarks: %w: %d values, want 136 (%v)", ErrModel, len(v), err)
	}
	var lm Landmarks
	w, h := float32(r.Dx()), float32(r.Dy())
	for i := range lm {
		x, y := v[2*i], v[2*i+1]
		j := i
		if flip {
			x, j = 1-x, mirror68[i]
		}
		lm[j] = Point{float32(r.Min.X) + x*w, float32(r.Min.Y) + y*h}
	}
	return lm, nil
}
