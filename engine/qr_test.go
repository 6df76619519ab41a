package engine

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"github.com/skip2/go-qrcode"
)

// qrFrame is a 640x480 grey frame with a QR code of payload pasted in.
func qrFrame(t *testing.T, payload string, size int) Image {
	t.Helper()
	b, err := qrcode.Encode(payload, qrcode.Medium, size)
	if err != nil {
		t.Fatal(err)
	}
	code, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	at := image.Pt(200, 100)
	draw.Draw(dst, code.Bounds().Add(at), code, code.Bounds().Min, draw.Src)
	return FromImage(dst)
}

func TestQRReaderDecodesShortCode(t *testing.T) {
	r := NewQRReader()
	defer r.Close()
	for _, payload := range []string{"7KQ2-M9XD", "https://checkin.example.org/r?code=AB12CD"} {
		res, err := r.Read(qrFrame(t, payload, 256))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Found || res.Text != payload {
			t.Fatalf("Read = %+v, want %q", res, payload)
		}
	}
	blank := qrFrame(t, "x", 256)
	for i := range blank.Pix {
		blank.Pix[i] = 128
	}
	res, err := r.Read(blank)
	if err != nil || res.Found || res.Text != "" {
		t.Fatalf("blank frame: %+v %v", res, err)
	}
	if _, err := r.Read(Image{W: 10, H: 10}); err == nil {
		t.Fatal("invalid image accepted")
	}
	r.Close()
	if _, err := r.Read(qrFrame(t, "x", 128)); err != ErrClosedQR {
		t.Fatalf("after Close: %v", err)
	}
}

func TestShortCodeFromQR(t *testing.T) {
	for in, want := range map[string]string{
		"7KQ2M9XD":                          "7KQ2M9XD",
		" 7kq2-m9xd \n":                     "7kq2-m9xd",
		"facecheck:ABC123":                  "ABC123",
		"https://x.example/r?code=AB12&z=1": "AB12",
		"https://x.example/r/AB12/":         "AB12",
		"":                                  "",
	} {
		if got := ShortCodeFromQR(in); got != want {
			t.Errorf("ShortCodeFromQR(%q) = %q, want %q", in, got, want)
		}
	}
}
