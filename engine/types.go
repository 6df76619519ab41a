package engine

import (
	"image"
)

// Image is a decoded frame: 8-bit BGR, 3 bytes per pixel, row-major, no
// padding. It is the only pixel type that crosses the package boundary.
type Image struct {
	W, H int
	Pix  []byte
}

// Valid reports whether the image has a size and a buffer that matches it.
func (im Image) Valid() bool {
	return im.W > 0 && im.H > 0 && len(im.Pix) == im.W*im.H*3
}

// RGBA converts the image for display (e.g. a Fyne canvas.Image). When
// mirror is true it is flipped left-right, as a kiosk preview should be.
func (im Image) RGBA(mirror bool) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, im.W, im.H))
	for y := 0; y < im.H; y++ {
		src := im.Pix[y*im.W*3 : (y+1)*im.W*3]
		dst := out.Pix[y*out.Stride : y*out.Stride+im.W*4]
		for x := 0; x < im.W; x++ {
			sx := x
			if mirror {
				sx = im.W - 1 - x
			}
			dst[x*4+0] = src[sx*3+2]
			dst[x*4+1] = src[sx*3+1]
			dst[x*4+2] = src[sx*3+0]
			dst[x*4+3] = 255
		}
	}
	return out
}

// Point is a position in frame pixels.
type Point struct{ X, Y float32 }

// Box is a face box in frame pixels (X1,Y1 top-left, X2,Y2 bottom-right).
type Box struct{ X1, Y1, X2, Y2 float32 }

// W is the box width.
func (b Box) W() float32 { return b.X2 - b.X1 }

// H is the box height.
func (b Box) H() float32 { return b.Y2 - b.Y1 }

// Area is the box area (0 for an inverted box).
func (b Box) Area() float32 { return max(0, b.W()) * max(0, b.H()) }

// Center is the centre of the box.
func (b Box) Center() Point { return Point{(b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2} }

// IoU is the intersection over union of two boxes.
func (b Box) IoU(o Box) float32 {
	ix := max(0, min(b.X2, o.X2)-max(b.X1, o.X1))
	iy := max(0, min(b.Y2, o.Y2)-max(b.Y1, o.Y1))
	inter := ix * iy
	u := b.Area() + o.Area() - inter
	if u <= 0 {
		return 0
	}
	return inter / u
}

// Face is one detection.
type Face struct {
	Box   Box
	Score float32
}

// Pose is head pose in degrees. Roll is also measured from the eye line
// (EyeRoll), which is cheaper and often steadier than the pose network's.
type Pose struct {
	Yaw, Pitch, Roll float32
	EyeRoll          float32
}

// Eyes holds the probability that each eye is open (the subject's left/right
// as seen in the image: Left is the eye on the image's left side).
type Eyes struct {
	Left, Right float32
}
