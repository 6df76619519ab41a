package ui

import (
	"image"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/kiosk"
)

// benchApp is an App in a 1280x800 test window fed by frame.
func benchApp(b *testing.B, frame func() image.Image) (*App, fyne.Window) {
	b.Helper()
	fa := test.NewTempApp(b)
	a, err := New(fa, Options{EventName: "DevDay 2025", Controller: &fakeController{}, Frames: frame,
		Font: theme.DefaultTextFont(), PINs: &MemoryPINStore{}})
	if err != nil {
		b.Fatal(err)
	}
	w := test.NewTempWindow(b, a.Content())
	w.Resize(fyne.NewSize(1280, 800))
	return a, w
}

// camFrame is a 640x480 BGR frame as the camera delivers it.
func camFrame() engine.Image {
	im := engine.Image{W: 640, H: 480, Pix: make([]byte, 640*480*3)}
	for i := range im.Pix {
		im.Pix[i] = byte(i * 7)
	}
	return im
}

// BenchmarkPreviewFrame is the preview's per-frame cost without painting:
// the runner's BGR→RGBA conversion of a new 640x480 frame (once per
// frame), the UI's mirroring and the canvas refresh.
func BenchmarkPreviewFrame(b *testing.B) {
	im := camFrame()
	a, _ := benchApp(b, func() image.Image { return im.RGBA(false) })
	b.ReportAllocs()
	for b.Loop() {
		a.PreviewFrame()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fps")
}

// BenchmarkPreviewFramePaint adds painting the whole 1280x800 window with
// the test driver's software painter (preview, oval, veil, texts): an
// upper bound of the render cost, as a GPU paints faster.
func BenchmarkPreviewFramePaint(b *testing.B) {
	im := camFrame()
	a, w := benchApp(b, func() image.Image { return im.RGBA(false) })
	a.Handle(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateHoldStill})
	for b.Loop() {
		a.PreviewFrame()
		w.Canvas().Capture()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fps")
}

// BenchmarkHandleToScreen is the delay between a kiosk state change
// reaching App.Handle and the new screen painted: guide → welcome → idle
// with the result screen's return, alternating so every Handle changes
// the screen.
func BenchmarkHandleToScreen(b *testing.B) {
	im := camFrame()
	a, w := benchApp(b, func() image.Image { return im.RGBA(false) })
	a.PreviewFrame()
	welcome := kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome,
		Result: &kiosk.Result{Outcome: kiosk.OutcomeCheckedIn, Name: "Kim Min-jun"}}
	confirm := kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm,
		Candidate: &kiosk.Candidate{AttendeeID: "a1", Name: "Kim Min-jun"}}
	i := 0
	for b.Loop() {
		ev, want := welcome, ScreenWelcome
		if i%2 == 1 {
			ev, want = confirm, ScreenConfirm
		}
		i++
		a.Handle(ev)
		if a.Screen() != want {
			b.Fatalf("screen %q after %s, want %q", a.Screen(), ev.State, want)
		}
		w.Canvas().Capture()
	}
}
