package engine

import (
	"image"

	"gocv.io/x/gocv"
)

// Downscale returns im scaled so its longest side is at most maxSide (im
// itself when it already fits or is invalid).
func Downscale(im Image, maxSide int) Image {
	long := max(im.W, im.H)
	if long <= maxSide || !im.Valid() {
		return im
	}
	m, err := matView(im)
	if err != nil {
		return im
	}
	defer keep(im)
	defer m.Close()
	w := im.W * maxSide / long
	h := im.H * maxSide / long
	out := gocv.NewMat()
	defer out.Close()
	gocv.Resize(m, &out, image.Pt(max(1, w), max(1, h)), 0, 0, gocv.InterpolationArea)
	return imageFromMat(out)
}
