package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/testenv"
)

// Registration through the real engine: a real face is enrolled, a group
// photo and a blank image are refused with their reasons.
func TestRegistrationWithRealEngine(t *testing.T) {
	testenv.Models(t)
	faces := testenv.Faces(t)
	m, out := runMain(t, t.TempDir())
	defer m.Close()
	if m.Encoder == nil {
		t.Fatal("no engine wired although the models are there")
	}
	url := regexp.MustCompile(`http://\S+/register/\S+`).FindString(out)
	if url == "" {
		t.Fatalf("no registration URL in:\n%s", out)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	post := func(email, photo string) (int, string) {
		t.Helper()
		img, err := os.ReadFile(filepath.Join(faces, photo))
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("name", "Test Person")
		w.WriteField("email", email)
		w.WriteField("consent", "yes")
		fw, _ := w.CreateFormFile("photo", filepath.Base(photo))
		fw.Write(img)
		w.Close()
		resp, err := c.Post(url, w.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		photo, email string
		status       int
		want         string
	}{
		{"images/colin_powell/lfw_Colin_Powell_0001.jpg", "colin@example.com", http.StatusSeeOther, ""},
		{"groups/face_recognition__two_people.jpg", "two@example.com", http.StatusUnprocessableEntity, "more than one face"},
	}
	for _, tt := range tests {
		status, body := post(tt.email, tt.photo)
		if status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: status %d, want %d with %q; body:\n%.400s", tt.photo, status, tt.status, tt.want, body)
		}
	}
}

// phoneJPEG stores upright as a phone held with EXIF orientation o would:
// the stored pixels are turned so that a viewer applying o shows upright.
func phoneJPEG(t *testing.T, upright image.Image, o int) []byte {
	t.Helper()
	b := upright.Bounds()
	w, h := b.Dx(), b.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	stored := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// (sx, sy) is the stored pixel a viewer shows at (x, y).
			var sx, sy int
			switch o {
			case 1:
				sx, sy = x, y
			case 2:
				sx, sy = sw-1-x, y
			case 3:
				sx, sy = sw-1-x, sh-1-y
			case 4:
				sx, sy = x, sh-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, sh-1-x
			case 7:
				sx, sy = sw-1-y, sh-1-x
			case 8:
				sx, sy = sw-1-y, x
			}
			stored.Set(sx, sy, upright.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, stored, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	var tiff bytes.Buffer
	tiff.WriteString("II\x2a\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8))
	binary.Write(&tiff, binary.LittleEndian, uint16(1))
	binary.Write(&tiff, binary.LittleEndian, []uint16{0x0112, 3})
	binary.Write(&tiff, binary.LittleEndian, uint32(1))
	binary.Write(&tiff, binary.LittleEndian, []uint16{uint16(o), 0})
	binary.Write(&tiff, binary.LittleEndian, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, buf.Bytes()[2:]...)
}

// A selfie registers whichever way the phone was held: the eight EXIF
// orientations of the same photo are all enrolled.
func TestRegistrationEXIFOrientations(t *testing.T) {
	testenv.Models(t)
	faces := testenv.Faces(t)
	m, out := runMain(t, t.TempDir())
	defer m.Close()
	regURL := regexp.MustCompile(`http://\S+/register/\S+`).FindString(out)
	f, err := os.Open(filepath.Join(faces, "images/colin_powell/lfw_Colin_Powell_0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	upright, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	for o := 1; o <= 8; o++ {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("name", "Phone Person")
		w.WriteField("email", fmt.Sprintf("phone%d@example.com", o))
		w.WriteField("consent", "yes")
		fw, _ := w.CreateFormFile("photo", "selfie.jpg")
		fw.Write(phoneJPEG(t, upright, o))
		w.Close()
		resp, err := c.Post(regURL, w.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			reason := regexp.MustCompile(`data-reason="([^"]*)"`).FindSubmatch(page)
			t.Errorf("orientation %d: status %d, reason %q", o, resp.StatusCode, reason)
		}
	}
}
