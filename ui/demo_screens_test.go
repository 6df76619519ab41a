package ui

import (
	"image"
	"testing"

	"fyne.io/fyne/v2"
)

// TestDemoScreensNoPatchBehindLanguages: the idle screen of `facecheck ui
// --demo-screens` (the screenshots of every screen in en/ja/ko) showed a
// dark red square behind the unselected 日本語 button. It was no button
// state: the synthetic preview drew a red marker in the frame's top-left
// corner, which the mirrored preview puts top right, behind the language
// buttons. Behind an unselected language button the demo preview is now
// the plain dimmed picture, with no saturated colour.
func TestDemoScreensNoPatchBehindLanguages(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Frames = syntheticFrames() })
	a := h.app
	a.PreviewFrame()
	img := h.win.Canvas().Capture()
	for _, lang := range []string{"ja", "ko"} {
		b := a.main.langs[lang]
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
		r := image.Rect(int(pos.X), int(pos.Y), int(pos.X+b.Size().Width), int(pos.Y+b.Size().Height))
		if r.Empty() || !r.In(img.Bounds()) {
			t.Fatalf("%s button at %v, outside the %v window", lang, r, img.Bounds())
		}
		for y := r.Min.Y; y < r.Max.Y; y += 2 {
			for x := r.Min.X; x < r.Max.X; x += 2 {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				r8, g8, b8 := int(cr>>8), int(cg>>8), int(cb>>8)
				if r8 > 2*max(g8, b8)+16 {
					t.Fatalf("%s button (unselected) at %v: red patch behind it, pixel (%d,%d) = (%d,%d,%d)", lang, r, x, y, r8, g8, b8)
				}
			}
		}
	}
}
