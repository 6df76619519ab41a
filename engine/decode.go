package engine

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif" // registered decoders: what registration uploads and datasets use
	_ "image/jpeg"
	_ "image/png"
	"os"
)

// Limits on decoded images. MaxPixels stops decompression bombs before any
// pixel memory is allocated; MinSide rejects images no face can be found in.
const (
	MaxPixels = 50_000_000
	MinSide   = 16
	// MaxSide is the longest side kept after decoding: larger photos are
	// scaled down, as the detector sees 320x240 and landmarks a 64x64 crop.
	MaxSide = 1920
)

// DecodeImage decodes a JPEG, PNG or GIF, checking its header against the
// limits before decoding. Grayscale, paletted, CMYK and alpha images are
// converted to BGR; images larger than MaxSide are scaled down.
func DecodeImage(b []byte) (Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("%w: not a JPEG, PNG or GIF image (%v)", ErrBadImage, err)
	}
	if cfg.Width < MinSide || cfg.Height < MinSide {
		return Image{}, fmt.Errorf("%w: %s is %dx%d pixels, too small for a face (at least %dx%d)", ErrBadImage, format, cfg.Width, cfg.Height, MinSide, MinSide)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Image{}, fmt.Errorf("%w: %s is %dx%d pixels, more than the %d megapixel limit: scale it down", ErrBadImage, format, cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("%w: corrupt %s image: %v", ErrBadImage, format, err)
	}
	return Downscale(FromImage(src), MaxSide), nil
}

// LoadImage reads and decodes an image file.
func LoadImage(path string) (Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("load image: %w", err)
	}
	im, err := DecodeImage(b)
	if err != nil {
		return Image{}, fmt.Errorf("load image %s: %w", path, err)
	}
	return im, nil
}

// FromImage converts any image.Image to an engine Image through image/draw,
// which has fast paths for the YCbCr and paletted images decoders return.
func FromImage(src image.Image) Image {
	b := src.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	// Transparent pixels become black, as an alpha-less camera would see them.
	draw.Draw(rgba, rgba.Bounds(), image.Black, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Over)
	im := Image{W: b.Dx(), H: b.Dy(), Pix: make([]byte, b.Dx()*b.Dy()*3)}
	for i, j := 0, 0; i < len(rgba.Pix); i, j = i+4, j+3 {
		im.Pix[j], im.Pix[j+1], im.Pix[j+2] = rgba.Pix[i+2], rgba.Pix[i+1], rgba.Pix[i]
	}
	return im
}
