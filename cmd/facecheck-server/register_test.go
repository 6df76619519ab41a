package main

import (
	"bytes"
	"fmt"
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
		fw.Write(testenv.PhoneJPEG(t, upright, o))
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
