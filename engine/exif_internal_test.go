package engine

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"gocv.io/x/gocv"
)

// StoredAs and WithOrientation make EXIF test photos for the external tests.
var (
	StoredAs        = storedAs
	WithOrientation = withOrientation
)

// withOrientation inserts an EXIF APP1 segment carrying orientation o right
// after the SOI marker of a JPEG, as a phone camera writes it.
func withOrientation(tb testing.TB, jpg []byte, o int) []byte {
	tb.Helper()
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8)) // IFD0 offset
	binary.Write(&tiff, binary.BigEndian, uint16(1)) // one entry
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, []uint16{uint16(o), 0})
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// storedAs is the picture a camera stores for upright with orientation o:
// the inverse of orient (6 and 8 undo each other, the rest undo themselves).
func storedAs(upright Image, o int) Image {
	switch o {
	case 6:
		return orient(upright, 8)
	case 8:
		return orient(upright, 6)
	}
	return orient(upright, o)
}

func encodeJPEG(tb testing.TB, im Image, o int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, im.RGBA(false), &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return withOrientation(tb, buf.Bytes(), o)
}

// quadrants is a 96x64 picture whose four quadrants have different
// colours: every one of the eight orientations moves them differently.
func quadrants() (Image, [4]color.RGBA) {
	cs := [4]color.RGBA{{220, 30, 30, 255}, {30, 200, 30, 255}, {30, 30, 220, 255}, {240, 240, 240, 255}}
	rgba := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 96; x++ {
			rgba.Set(x, y, cs[(y/32)*2+x/48])
		}
	}
	return FromImage(rgba), cs
}

// quadrantColour is the BGR pixel at the centre of quadrant q.
func quadrantColour(im Image, q int) [3]byte {
	x := im.W/4 + (q%2)*im.W/2
	y := im.H/4 + (q/2)*im.H/2
	i := (y*im.W + x) * 3
	return [3]byte{im.Pix[i], im.Pix[i+1], im.Pix[i+2]}
}

func near(a [3]byte, c color.RGBA) bool {
	d := func(x, y byte) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a[0], c.B) < 24 && d(a[1], c.G) < 24 && d(a[2], c.R) < 24
}

// All eight EXIF orientations come out upright, the way OpenCV's own EXIF
// handling (an independent reading of the standard) shows them too.
func TestDecodeImageAppliesEXIFOrientation(t *testing.T) {
	upright, cs := quadrants()
	for o := 1; o <= 8; o++ {
		b := encodeJPEG(t, storedAs(upright, o), o)
		if got := jpegOrientation(b); got != o {
			t.Errorf("orientation %d read as %d", o, got)
		}
		im, err := DecodeImage(b)
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		m, err := gocv.IMDecode(b, gocv.IMReadColor)
		if err != nil {
			t.Fatal(err)
		}
		ref := imageFromMat(m)
		m.Close()
		for name, got := range map[string]Image{"DecodeImage": im, "OpenCV": ref} {
			if got.W != upright.W || got.H != upright.H {
				t.Errorf("orientation %d: %s gives %dx%d, want %dx%d", o, name, got.W, got.H, upright.W, upright.H)
				continue
			}
			for q, c := range cs {
				if px := quadrantColour(got, q); !near(px, c) {
					t.Errorf("orientation %d: %s quadrant %d is BGR %v, want %v", o, name, q, px, c)
				}
			}
		}
	}
}

// Malformed EXIF never panics nor reads out of bounds, and means upright.
func TestJPEGOrientationMalformed(t *testing.T) {
	good := withOrientation(t, []byte{0xFF, 0xD8, 0xFF, 0xD9}, 6)
	tests := map[string][]byte{
		"empty":          nil,
		"not a jpeg":     []byte("GIF89a"),
		"truncated":      good[:20],
		"long segment":   append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, "Exif\x00\x00"...),
		"bad tiff":       append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10}, "Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08"...),
		"ifd past end":   append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10}, "Exif\x00\x00MM\x00\x2a\x7f\x00\x00\x08"...),
		"scan then exif": append([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}, good[2:]...),
	}
	for name, b := range tests {
		if o := jpegOrientation(b); o != 1 {
			t.Errorf("%s: orientation %d, want 1", name, o)
		}
	}
	if o := jpegOrientation(good); o != 6 {
		t.Errorf("well-formed: orientation %d, want 6", o)
	}
}
