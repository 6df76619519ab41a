package ui

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestRenderGuide(t *testing.T) {
	const w, h = 640, 480
	outline := GuideHold.Color()
	img := RenderGuide(w, h, outline, guideDim, 6)
	e := GuideEllipse(w, h)

	isOutline := func(x, y float64) bool {
		c := img.RGBAAt(int(x), int(y))
		return c.A == 255 && c.R == outline.R && c.G == outline.G && c.B == outline.B
	}
	isDim := func(x, y float64) bool {
		return img.RGBAAt(int(x), int(y)) == color.RGBA{0, 0, 0, guideDim.A}
	}
	isClear := func(x, y float64) bool {
		return img.RGBAAt(int(x), int(y)) == color.RGBA{}
	}

	t.Run("OutlineOnEllipse", func(t *testing.T) {
		for deg := 0; deg < 360; deg += 15 {
			th := float64(deg) * math.Pi / 180
			x, y := e.CX+e.RX*math.Cos(th), e.CY+e.RY*math.Sin(th)
			if !isOutline(x, y) {
				t.Errorf("%d°: (%.0f,%.0f) = %v, want outline", deg, x, y, img.RGBAAt(int(x), int(y)))
			}
		}
	})
	t.Run("BoundingBoxCornersDimmed", func(t *testing.T) {
		// A rounded rectangle would have its outline near these points.
		for _, p := range [][2]float64{
			{e.CX - e.RX + 3, e.CY - e.RY + 3}, {e.CX + e.RX - 3, e.CY - e.RY + 3},
			{e.CX - e.RX + 3, e.CY + e.RY - 3}, {e.CX + e.RX - 3, e.CY + e.RY - 3},
		} {
			if !isDim(p[0], p[1]) || isOutline(p[0], p[1]) {
				t.Errorf("corner (%.0f,%.0f) = %v, want dimmed", p[0], p[1], img.RGBAAt(int(p[0]), int(p[1])))
			}
		}
	})
	t.Run("NotAStadium", func(t *testing.T) {
		// canvas.Circle in a tall box draws a stadium with straight sides:
		// its outline passes (CX±RX, CY−0.6·RY); an ellipse's does not.
		for _, x := range []float64{e.CX - e.RX + 1, e.CX + e.RX - 1} {
			y := e.CY - 0.6*e.RY
			if !isDim(x, y) {
				t.Errorf("(%.0f,%.0f) = %v, want dimmed (outside the ellipse)", x, y, img.RGBAAt(int(x), int(y)))
			}
		}
	})
	t.Run("InsideClearOutsideDim", func(t *testing.T) {
		if !isClear(e.CX, e.CY) || !isClear(e.CX+0.8*e.RX, e.CY) {
			t.Error("inside the ellipse is not clear")
		}
		if !isDim(2, 2) || !isDim(w-3, h/2) {
			t.Error("outside the ellipse is not dimmed")
		}
	})
	t.Run("Proportions", func(t *testing.T) {
		if e.RY <= e.RX {
			t.Errorf("guide %.0fx%.0f is not taller than wide", 2*e.RX, 2*e.RY)
		}
		portrait := GuideEllipse(300, 1000)
		if 2*portrait.RX > 0.9*300+1 {
			t.Errorf("portrait guide %.0f wide overflows 300", 2*portrait.RX)
		}
	})
}

func TestOvalState(t *testing.T) {
	o := NewOval()
	img := o.draw(200, 200).(*image.RGBA)
	e := GuideEllipse(200, 200)
	if got := img.RGBAAt(int(e.CX), int(e.CY-e.RY)); got.R != 255 || got.G != 255 {
		t.Fatalf("searching outline = %v, want white", got)
	}
	o.SetState(GuideRecognised)
	img = o.draw(200, 200).(*image.RGBA)
	want := GuideRecognised.Color()
	if got := img.RGBAAt(int(e.CX), int(e.CY-e.RY)); got.G != want.G || got.R != want.R {
		t.Fatalf("recognised outline = %v, want %v", got, want)
	}
}

func TestMirror(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.Set(0, 0, color.RGBA{255, 0, 0, 255})
	src.Set(2, 1, color.RGBA{0, 0, 255, 255})
	dst := mirrorInto(nil, src)
	if got := dst.RGBAAt(2, 0); got.R != 255 {
		t.Errorf("top-left red not mirrored to top-right: %v", got)
	}
	if got := dst.RGBAAt(0, 1); got.B != 255 {
		t.Errorf("bottom-right blue not mirrored to bottom-left: %v", got)
	}
	// Non-RGBA sources take the slow path.
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[0] = 200
	if got := mirrorInto(dst, gray).RGBAAt(1, 0); got.R != 200 {
		t.Errorf("gray mirror = %v", got)
	}
}
