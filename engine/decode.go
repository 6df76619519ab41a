package engine

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // registered decoders: what registration uploads and datasets use
	_ "image/jpeg"
	_ "image/png"
	"os"

	"gocv.io/x/gocv"
)

// Limits on decoded images, all checked against the header before any pixel
// memory is allocated. MaxPixels bounds the picture; MaxDecodeBytes bounds
// the memory a full decode takes (the decoder's own image plus the BGR copy),
// so a highly compressible file cannot expand to gigabytes; MinSide rejects
// images no face can be found in. Only 8-bit channels are accepted.
const (
	MaxPixels      = 50_000_000
	MaxDecodeBytes = 64 << 20
	MinSide        = 16
	// MaxSide is the longest side kept after decoding: larger photos are
	// scaled down, as the detector sees 320x240 and landmarks a 64x64 crop.
	MaxSide = 1920
)

// ErrImageTooLarge is the ErrBadImage of an image whose header asks for
// more pixels, bytes per pixel or decoding memory than the limits allow.
var ErrImageTooLarge = fmt.Errorf("%w: too large", ErrBadImage)

// DecodeImage decodes a JPEG, PNG or GIF, checking its header against the
// limits before decoding. A JPEG far larger than MaxSide is decoded at 1/2,
// 1/4 or 1/8 scale by libjpeg, never at full size; its EXIF orientation is
// applied, so a phone photo taken sideways comes out upright. Grayscale,
// paletted, CMYK and alpha images are converted to BGR; images larger than
// MaxSide are scaled down.
func DecodeImage(b []byte) (Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("%w: not a JPEG, PNG or GIF image (%v)", ErrBadImage, err)
	}
	if cfg.Width < MinSide || cfg.Height < MinSide {
		return Image{}, fmt.Errorf("%w: %s is %dx%d pixels, too small for a face (at least %dx%d)", ErrBadImage, format, cfg.Width, cfg.Height, MinSide, MinSide)
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if pixels > MaxPixels {
		return Image{}, fmt.Errorf("%w: %s is %dx%d pixels, more than the %d megapixel limit: scale it down", ErrImageTooLarge, format, cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	bpp := decodedBytesPerPixel(cfg.ColorModel)
	if bpp == 0 {
		return Image{}, fmt.Errorf("%w: %s with more than 8 bits per channel: save it as an 8-bit JPEG or PNG", ErrImageTooLarge, format)
	}
	var im Image
	if format == "jpeg" {
		im, err = decodeJPEG(b, cfg, bpp)
	} else {
		if need := pixels * (bpp + 3); need > MaxDecodeBytes {
			return Image{}, fmt.Errorf("%w: %s of %dx%d pixels needs %d MiB to decode, more than %d MiB: scale it down",
				ErrImageTooLarge, format, cfg.Width, cfg.Height, need>>20, MaxDecodeBytes>>20)
		}
		im, err = decodeStd(b, format)
	}
	if err != nil {
		return Image{}, err
	}
	return Downscale(im, MaxSide), nil
}

// decodeJPEG decodes at the largest reduction that keeps the long side at
// least MaxSide (nothing the pipeline uses is lost) and, whatever the
// size, within MaxDecodeBytes; then it applies the EXIF orientation.
func decodeJPEG(b []byte, cfg image.Config, bpp int64) (Image, error) {
	long := max(cfg.Width, cfg.Height)
	f := 1
	for f < 8 && long/(2*f) >= MaxSide {
		f *= 2
	}
	for f < 8 && int64(cfg.Width/f)*int64(cfg.Height/f)*(bpp+3) > MaxDecodeBytes {
		f *= 2
	}
	var im Image
	var err error
	if f == 1 {
		im, err = decodeStd(b, "jpeg")
	} else {
		im, err = decodeReducedJPEG(b, f)
	}
	if err != nil {
		return Image{}, err
	}
	return orient(im, jpegOrientation(b)), nil
}

// decodeReducedJPEG lets libjpeg decode at 1/f scale (f is 2, 4 or 8): it
// scales in the inverse DCT, so the full-size picture never exists in
// memory. OpenCV's own orientation handling is off; orient does it for
// both decoders alike.
func decodeReducedJPEG(b []byte, f int) (Image, error) {
	flag := map[int]gocv.IMReadFlag{2: gocv.IMReadReducedColor2, 4: gocv.IMReadReducedColor4, 8: gocv.IMReadReducedColor8}[f]
	m, err := gocv.IMDecode(b, flag|gocv.IMReadIgnoreOrientation)
	if err != nil {
		return Image{}, fmt.Errorf("%w: corrupt jpeg image: %v", ErrBadImage, err)
	}
	defer m.Close()
	if m.Empty() || m.Type() != gocv.MatTypeCV8UC3 {
		return Image{}, fmt.Errorf("%w: corrupt jpeg image", ErrBadImage)
	}
	return imageFromMat(m), nil
}

func decodeStd(b []byte, format string) (Image, error) {
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("%w: corrupt %s image: %v", ErrBadImage, format, err)
	}
	return FromImage(src), nil
}

// decodedBytesPerPixel is the memory per pixel of the image the standard
// decoders return for a header's color model, 0 for more than 8 bits per
// channel. YCbCr counts as 4:4:4, its largest layout.
func decodedBytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.Gray16Model, color.Alpha16Model, color.RGBA64Model, color.NRGBA64Model:
		return 0
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	// Unknown models are converted through RGBA64 values but stored as
	// 8-bit; count them as the widest 8-bit layout.
	return 4
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

// fromImageStrip is the rows converted at a time by FromImage: the RGBA
// scratch is one strip, not a second full-size copy of the picture.
const fromImageStrip = 64

// FromImage converts any image.Image to an engine Image through image/draw,
// which has fast paths for the YCbCr and paletted images decoders return.
func FromImage(src image.Image) Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	im := Image{W: w, H: h, Pix: make([]byte, w*h*3)}
	rgba := image.NewRGBA(image.Rect(0, 0, w, min(h, fromImageStrip)))
	for y0 := 0; y0 < h; y0 += fromImageStrip {
		n := min(fromImageStrip, h-y0)
		strip := rgba.SubImage(image.Rect(0, 0, w, n)).(*image.RGBA)
		// Transparent pixels become black, as an alpha-less camera would see them.
		draw.Draw(strip, strip.Bounds(), image.Black, image.Point{}, draw.Src)
		draw.Draw(strip, strip.Bounds(), src, image.Pt(b.Min.X, b.Min.Y+y0), draw.Over)
		out := im.Pix[y0*w*3 : (y0+n)*w*3]
		for i, j := 0, 0; j < len(out); i, j = i+4, j+3 {
			out[j], out[j+1], out[j+2] = strip.Pix[i+2], strip.Pix[i+1], strip.Pix[i]
		}
	}
	return im
}
