package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/testenv"
)

// TestUIScreensLanguages walks every kiosk screen in a real window under
// Xvfb in English, then in Japanese and Korean as an attendee's tap on the
// language buttons gives them (facecheck ui --demo-screens), into
// $FACECHECK_ARTIFACTS/ui-languages (else a temp dir): look at them for
// tofu and clipped text. It fails on a missing or blank screen, and when
// an idle screen is really the previous attendee's "not found" (the walk
// showed it in place of Korean idle), or when a red patch shows behind the
// language buttons of an idle screen.
func TestUIScreensLanguages(t *testing.T) {
	x := newXvfbRun(t)
	shots := filepath.Join(filepath.Dir(x.shots), "ui-languages")
	if err := os.RemoveAll(shots); err != nil {
		t.Fatal(err)
	}
	args := x.args("ui", "--demo-screens", shots, "--size", fmt.Sprintf("%dx%d", xvfbW, xvfbH), "--event", "東京開発者会議 2026")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "FYNE_SCALE=1", "LANG=en_US.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("facecheck ui --demo-screens: %v\n%s", err, out.String())
	}
	screens := []string{"1-idle", "2-guide", "3-hold", "4-confirm", "5-second", "6-welcome", "7-notfound", "10-out-of-order"}
	for _, lang := range []string{"en", "ja", "ko"} {
		imgs := map[string]image.Image{}
		for _, s := range screens {
			path := filepath.Join(shots, lang+"-"+s+".png")
			img := testenv.LoadPNG(t, path)
			if sd := testenv.LumaStdDev(img); sd < 8 {
				t.Errorf("%s looks blank (luma std dev %.1f)", path, sd)
			}
			imgs[s] = img
		}
		if sameImage(imgs["1-idle"], imgs["7-notfound"]) {
			t.Errorf("%s: the idle screen is the not-found screen", lang)
		}
		if x, y, ok := redPixel(imgs["1-idle"], image.Rect(xvfbW-340, 0, xvfbW, 100)); ok {
			t.Errorf("%s: a red patch behind the language buttons at (%d,%d) of the idle screen", lang, x, y)
		}
	}
	t.Logf("screens in %s", shots)
}

// redPixel finds a pixel in r of img whose red dominates (r > 2·max(g,b)
// + 16): the demo preview's corner marker showed so behind the unselected
// language buttons, dimmed to (31,0,0). The buttons' yellow and white and
// the dimmed preview are not.
func redPixel(img image.Image, r image.Rectangle) (x, y int, ok bool) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if int(cr>>8) > 2*int(max(cg, cb)>>8)+16 {
				return x, y, true
			}
		}
	}
	return 0, 0, false
}

// sameImage reports whether a and b have the same pixels on a 16-px grid.
func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 16 {
		for x := r.Min.X; x < r.Max.X; x += 16 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}
