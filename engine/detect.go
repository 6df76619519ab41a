package engine

import (
	"fmt"
	"image"
	"image/color"
	"sort"

	"gocv.io/x/gocv"
)

var colorBlack = color.RGBA{0, 0, 0, 255}

// Detect finds faces in a frame. Boxes are in frame pixels, sorted largest
// first (the person at the kiosk is the nearest face).
func (e *Engine) Detect(im Image) ([]Face, error) {
	m, err := matView(im)
	if err != nil {
		return nil, err
	}
	defer keep(im)
	defer m.Close()
	return e.detectMat(m)
}

func (e *Engine) detectMat(frame gocv.Mat) ([]Face, error) {
	c := e.cfg
	// BlobFromImage resizes, swaps BGR to RGB and applies (x-127)/128 in one
	// pass, which is what the package's JS does pixel by pixel.
	blob := gocv.BlobFromImage(frame, 1.0/128, image.Pt(c.DetectWidth, c.DetectHeight),
		gocv.NewScalar(127, 127, 127, 0), true, false)
	defer blob.Close()
	e.detect.SetInput(blob, "input")
	outs := e.detect.ForwardLayers([]string{"scores", "boxes"})
	defer func() {
		for i := range outs {
			outs[i].Close()
		}
	}()
	if len(outs) != 2 {
		return nil, fmt.Errorf("detect: %w: %d outputs, want 2", ErrModel, len(outs))
	}
	scores, err := outs[0].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("detect scores: %w: %v", ErrModel, err)
	}
	boxes, err := outs[1].DataPtrFloat32()
	if err != nil {
		return nil, fmt.Errorf("detect boxes: %w: %v", ErrModel, err)
	}
	n := len(scores) / 2
	if len(boxes) != n*4 {
		return nil, fmt.Errorf("detect: %w: %d scores but %d box values", ErrModel, n, len(boxes))
	}
	fw, fh := float32(frame.Cols()), float32(frame.Rows())
	return decodeDetections(scores, boxes, fw, fh, c), nil
}

// decodeDetections turns the detector's per-anchor outputs into faces:
// confidence filter, top-k by score, greedy NMS, keep-top-k, sort by size.
// Kept free of OpenCV so it is unit-tested and benchmarked on its own.
func decodeDetections(scores, boxes []float32, fw, fh float32, c Config) []Face {
	var cand []Face
	for i := 0; i < len(scores)/2; i++ {
		s := scores[2*i+1]
		if s < c.Confidence {
			continue
		}
		b := Box{boxes[4*i] * fw, boxes[4*i+1] * fh, boxes[4*i+2] * fw, boxes[4*i+3] * fh}
		if b.W() <= 1 || b.H() <= 1 {
			continue
		}
		cand = append(cand, Face{Box: b, Score: s})
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i].Score > cand[j].Score })
	if len(cand) > c.TopK {
		cand = cand[:c.TopK]
	}
	var kept []Face
	for _, f := range cand {
		ok := true
		for _, k := range kept {
			if f.Box.IoU(k.Box) > c.NMSIoU {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, f)
			if len(kept) == c.KeepTopK {
				break
			}
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Box.Area() > kept[j].Box.Area() })
	return kept
}

// detectPadded detects on the frame with a border of frac x its size on
// every side and maps the boxes back to frame pixels.
func (e *Engine) detectPadded(frame gocv.Mat, frac float32) ([]Face, error) {
	px, py := int(float32(frame.Cols())*frac), int(float32(frame.Rows())*frac)
	padded := gocv.NewMat()
	defer padded.Close()
	gocv.CopyMakeBorder(frame, &padded, py, py, px, px, gocv.BorderConstant, colorBlack)
	faces, err := e.detectMat(padded)
	if err != nil {
		return nil, err
	}
	for i := range faces {
		b := &faces[i].Box
		b.X1, b.X2 = b.X1-float32(px), b.X2-float32(px)
		b.Y1, b.Y2 = b.Y1-float32(py), b.Y2-float32(py)
	}
	return faces, nil
}

// mainFace picks the subject among faces sorted largest first: of the faces
// at least half the largest's area, the one nearest the frame centre. Size
// alone lets a large false detection (a shoulder, a patterned background)
// beat the real face beside it; the kiosk's guide, like a photographer,
// puts the subject in the middle.
func mainFace(faces []Face, w, h int) int {
	if len(faces) == 0 {
		return -1
	}
	cx, cy := float32(w)/2, float32(h)/2
	dist := func(f Face) float32 {
		c := f.Box.Center()
		return (c.X-cx)*(c.X-cx) + (c.Y-cy)*(c.Y-cy)
	}
	best := 0
	for i := 1; i < len(faces); i++ {
		if faces[i].Box.Area() >= faces[0].Box.Area()/2 && dist(faces[i]) < dist(faces[best]) {
			best = i
		}
	}
	return best
}
