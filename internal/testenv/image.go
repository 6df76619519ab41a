package testenv

import (
	"image"
	"image/png"
	"math"
	"os"
	"testing"
)

// LoadPNG decodes the PNG at path (a screenshot a test took).
func LoadPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// LumaStdDev is the standard deviation of an image's luma, sampled every
// third pixel: near 0 for a blank screen, well above 8 for a drawn one.
func LumaStdDev(img image.Image) float64 {
	b := img.Bounds()
	var s, s2, n float64
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := 0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(bl>>8)
			s += l
			s2 += l * l
			n++
		}
	}
	if n == 0 {
		return 0
	}
	m := s / n
	return math.Sqrt(max(0, s2/n-m*m))
}
