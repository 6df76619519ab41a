package engine

import (
	"fmt"
	"image"
	"runtime"

	"gocv.io/x/gocv"
)

// matView wraps im's pixels in a Mat without copying. The Mat borrows
// im.Pix: callers keep im alive (runtime.KeepAlive) until the Mat is closed.
func matView(im Image) (gocv.Mat, error) {
	if !im.Valid() {
		return gocv.Mat{}, fmt.Errorf("%w: %dx%d frame with %d bytes", ErrBadImage, im.W, im.H, len(im.Pix))
	}
	m, err := gocv.NewMatFromBytes(im.H, im.W, gocv.MatTypeCV8UC3, im.Pix)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	return m, nil
}

// imageFromMat copies a CV_8UC3 Mat into an Image.
func imageFromMat(m gocv.Mat) Image {
	b := m.ToBytes()
	return Image{W: m.Cols(), H: m.Rows(), Pix: b}
}

// clampRect returns r intersected with the frame; ok is false when nothing is left.
func clampRect(r image.Rectangle, w, h int) (image.Rectangle, bool) {
	r = r.Intersect(image.Rect(0, 0, w, h))
	return r, r.Dx() > 1 && r.Dy() > 1
}

// squareAround is the square of side s centred on c, in integer pixels.
func squareAround(c Point, s float32) image.Rectangle {
	x0 := int(c.X - s/2 + 0.5)
	y0 := int(c.Y - s/2 + 0.5)
	n := int(s + 0.5)
	return image.Rect(x0, y0, x0+n, y0+n)
}

// cropPadded copies r out of src; parts of r outside src are filled with
// replicated border pixels so a face at the frame edge keeps its geometry.
func cropPadded(src gocv.Mat, r image.Rectangle) gocv.Mat {
	w, h := src.Cols(), src.Rows()
	in, ok := clampRect(r, w, h)
	if !ok {
		return gocv.NewMat()
	}
	roi := src.Region(in)
	defer roi.Close()
	out := gocv.NewMat()
	top, left := in.Min.Y-r.Min.Y, in.Min.X-r.Min.X
	bottom, right := r.Max.Y-in.Max.Y, r.Max.X-in.Max.X
	if top == 0 && left == 0 && bottom == 0 && right == 0 {
		roi.CopyTo(&out)
		return out
	}
	gocv.CopyMakeBorder(roi, &out, top, bottom, left, right, gocv.BorderReplicate, colorBlack)
	return out
}

// keep documents a borrow: the Go memory behind a matView must stay alive.
func keep(im Image) { runtime.KeepAlive(im.Pix) }
