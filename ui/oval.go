package ui

import (
	"image"
	"image/color"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/facecheck/facecheck/kiosk"
)

// GuideState is what the oval's outline colour says.
type GuideState int

// Guide states, from nobody found to recognised.
const (
	GuideSearching  GuideState = iota // white: looking for a face
	GuideAdjust                       // amber: a prompt asks the person to move
	GuideHold                         // cyan: everything fits, hold still
	GuideRecognised                   // green: identified
)

// Color is the outline colour of the state.
func (s GuideState) Color() color.NRGBA {
	switch s {
	case GuideAdjust:
		return color.NRGBA{0xff, 0xa6, 0x2b, 0xff}
	case GuideHold:
		return color.NRGBA{0x2b, 0xd4, 0xff, 0xff}
	case GuideRecognised:
		return color.NRGBA{0x3c, 0xdc, 0x78, 0xff}
	}
	return color.NRGBA{0xff, 0xff, 0xff, 0xff}
}

// Ellipse is an axis-aligned ellipse in pixels.
type Ellipse struct{ CX, CY, RX, RY float64 }

// GuideEllipse is where the face guide sits in a w×h image: centred, with
// the radii the kiosk gates faces on (kiosk.GuideRadii).
func GuideEllipse(w, h int) Ellipse {
	rx, ry := kiosk.GuideRadii(w, h)
	return Ellipse{CX: float64(w) / 2, CY: float64(h) / 2, RX: rx, RY: ry}
}

// distance approximates the signed distance in pixels from (x, y) to the
// ellipse outline (negative inside) by a first-order expansion of the
// implicit function f = (dx/rx)² + (dy/ry)² − 1: d ≈ f/|∇f|.
func (e Ellipse) distance(x, y float64) float64 {
	nx, ny := (x-e.CX)/e.RX, (y-e.CY)/e.RY
	f := nx*nx + ny*ny - 1
	gx, gy := 2*nx/e.RX, 2*ny/e.RY
	g := math.Hypot(gx, gy)
	if g < 1e-9 {
		return -math.Min(e.RX, e.RY)
	}
	return f / g
}

// guideThickness is the outline width for a w×h guide, in pixels.
func guideThickness(h int) float64 {
	return math.Max(4, float64(h)/90)
}

// RenderGuide draws the face guide into a new w×h image (premultiplied
// alpha): transparent inside the ellipse, dim outside it, and an
// anti-aliased outline of the given colour and thickness on it.
func RenderGuide(w, h int, outline color.NRGBA, dim color.NRGBA, thickness float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	e := GuideEllipse(w, h)
	half := thickness / 2
	// Premultiplied colours.
	dr, dg, db, da := premul(dim)
	or, og, ob, oa := premul(outline)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			d := e.distance(float64(x)+0.5, float64(y)+0.5)
			var r, g, b, a float64
			if d > 0 { // outside: dimmed
				r, g, b, a = dr, dg, db, da
			}
			if cov := half + 0.5 - math.Abs(d); cov > 0 { // on the outline
				cov = math.Min(cov, 1)
				r = or*cov + r*(1-cov)
				g = og*cov + g*(1-cov)
				b = ob*cov + b*(1-cov)
				a = oa*cov + a*(1-cov)
			}
			i := 4 * x
			row[i], row[i+1], row[i+2], row[i+3] = uint8(r+0.5), uint8(g+0.5), uint8(b+0.5), uint8(a+0.5)
		}
	}
	return img
}

func premul(c color.NRGBA) (r, g, b, a float64) {
	a = float64(c.A)
	return float64(c.R) * a / 255, float64(c.G) * a / 255, float64(c.B) * a / 255, a
}

// guideDim is the veil outside the oval: dark enough to pull the eye to
// the oval, light enough to still see oneself.
var guideDim = color.NRGBA{0, 0, 0, 0x99}

// Oval is the face guide as a Fyne raster: it redraws only when its size
// or state changes.
type Oval struct {
	raster *canvas.Raster

	mu     sync.Mutex
	state  GuideState
	cached *image.RGBA
	key    [3]int // w, h, state of cached
}

// NewOval returns a face guide in the searching state.
func NewOval() *Oval {
	o := &Oval{}
	o.raster = canvas.NewRaster(o.draw)
	o.raster.ScaleMode = canvas.ImageScaleFastest
	return o
}

// Object is the canvas object to put over the preview.
func (o *Oval) Object() fyne.CanvasObject { return o.raster }

// State is the current guide state.
func (o *Oval) State() GuideState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state
}

// SetState changes the outline colour; call it on the UI goroutine.
func (o *Oval) SetState(s GuideState) {
	o.mu.Lock()
	changed := o.state != s
	o.state = s
	o.mu.Unlock()
	if changed {
		o.raster.Refresh()
	}
}

func (o *Oval) draw(w, h int) image.Image {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := [3]int{w, h, int(o.state)}
	if o.cached == nil || o.key != key {
		o.cached = RenderGuide(w, h, o.state.Color(), guideDim, guideThickness(h))
		o.key = key
	}
	return o.cached
}
