package measure

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// PlotROC draws TAR against log10(FAR) from 1e-5 to 1 as a PNG.
func PlotROC(path, title string, pts []Point) error {
	const W, H, L, R, T, B = 640, 480, 60, 20, 40, 50
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.White)
	x := func(far float64) int {
		return L + int((math.Log10(max(far, 1e-5))+5)/5*float64(W-L-R))
	}
	y := func(tar float64) int { return H - B - int(tar*float64(H-T-B)) }
	grid := color.RGBA{220, 220, 220, 255}
	for e := -5; e <= 0; e++ {
		xx := x(math.Pow(10, float64(e)))
		fill(img, image.Rect(xx, T, xx+1, H-B), grid)
		label(img, xx-12, H-B+16, fmt.Sprintf("1e%d", e))
	}
	for t := 0.0; t <= 1.0001; t += 0.1 {
		yy := y(t)
		fill(img, image.Rect(L, yy, W-R, yy+1), grid)
		label(img, L-34, yy+4, fmt.Sprintf("%.1f", t))
	}
	fill(img, image.Rect(L, T, L+1, H-B), color.Black)
	fill(img, image.Rect(L, H-B, W-R, H-B+1), color.Black)
	label(img, L, 24, title)
	label(img, W/2-60, H-12, "false accept rate (log)")
	label(img, 4, T-8, "TAR")
	blue := color.RGBA{20, 80, 200, 255}
	for i := 1; i < len(pts); i++ {
		line(img, x(pts[i-1].FAR), y(pts[i-1].TAR), x(pts[i].FAR), y(pts[i].TAR), blue)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("roc plot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("roc plot: %w", err)
	}
	return f.Close()
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	r = r.Intersect(img.Bounds())
	for yy := r.Min.Y; yy < r.Max.Y; yy++ {
		for xx := r.Min.X; xx < r.Max.X; xx++ {
			img.Set(xx, yy, c)
		}
	}
}

func label(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// line draws a 2-pixel line with Bresenham's algorithm.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fill(img, image.Rect(x0, y0, x0+2, y0+2), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
