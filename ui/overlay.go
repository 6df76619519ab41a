package ui

import (
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"github.com/facecheck/facecheck/kiosk"
)

// The overlays make the face settings visible on the preview, so an admin
// tuning them sees what they do: the minimum and maximum face size as
// boxes centred in the guide, the detected face's box, and the measures
// the quality gates judge (size, blur, brightness, head pose) next to
// their limits. They show on the settings pane's preview, and on the
// kiosk screen too while "show overlays" is on.

// Limit names a quality-gate limit the overlays show. A SettingSpec with
// a Limit feeds it; cmd/facecheck maps the kiosk settings.
type Limit string

// Limits.
const (
	LimitMinFace       Limit = "min_face" // face box height / frame height
	LimitMaxFace       Limit = "max_face"
	LimitMinBlur       Limit = "min_blur" // variance of the Laplacian
	LimitMinBrightness Limit = "min_brightness"
	LimitMaxBrightness Limit = "max_brightness"
	LimitMaxYaw        Limit = "max_yaw" // degrees
	LimitMaxPitch      Limit = "max_pitch"
	LimitMaxRoll       Limit = "max_roll"
)

// faceAspect is the width of a drawn size box as a fraction of its height:
// roughly the shape of the detector's face boxes. Only the height is a
// setting.
const faceAspect = 0.8

// prefsOverlaysKey is the preferences key of the "show overlays" switch.
const prefsOverlaysKey = "show_overlays"

var (
	colMinBox  = color.NRGBA{0xff, 0xd4, 0x00, 0xff} // accent: the size to reach
	colMaxBox  = color.NRGBA{0xff, 0x6b, 0x6b, 0xff} // the size not to pass
	colFaceBox = color.NRGBA{0x2b, 0xd4, 0xff, 0xff}
)

// contained is where a fw×fh frame shows in an area of size with
// canvas.ImageFillContain: scaled to fit, centred.
func contained(size fyne.Size, fw, fh float32) (fyne.Position, fyne.Size) {
	if fw <= 0 || fh <= 0 || size.Width <= 0 || size.Height <= 0 {
		return fyne.Position{}, size
	}
	s := min(size.Width/fw, size.Height/fh)
	w, h := fw*s, fh*s
	return fyne.NewPos((size.Width-w)/2, (size.Height-h)/2), fyne.NewSize(w, h)
}

// sizeBox is the box of a face frac of the frame's height tall, centred
// where the guide is (the centre of the preview area).
func sizeBox(size, frame fyne.Size, frac float32) (fyne.Position, fyne.Size) {
	_, img := contained(size, frame.Width, frame.Height)
	h := frac * img.Height
	w := faceAspect * h
	return fyne.NewPos((size.Width-w)/2, (size.Height-h)/2), fyne.NewSize(w, h)
}

// faceRect is where a face box (normalised to the frame, as the camera
// sees it) shows on the mirrored preview.
func faceRect(size, frame fyne.Size, r kiosk.Rect) (fyne.Position, fyne.Size) {
	off, img := contained(size, frame.Width, frame.Height)
	x := 1 - r.X - r.W // mirrored like the preview
	return fyne.NewPos(off.X+x*img.Width, off.Y+r.Y*img.Height), fyne.NewSize(r.W*img.Width, r.H*img.Height)
}

// overlayLayout places the size boxes, their labels and the face box
// (objects in that order: min, max, face, min label, max label).
type overlayLayout struct {
	frame            fyne.Size
	minFace, maxFace float32     // 0: no box
	face             *kiosk.Rect // nil: no face box
}

func (l *overlayLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	place := func(box, label fyne.CanvasObject, frac float32, below bool) {
		if frac <= 0 {
			box.Hide()
			label.Hide()
			return
		}
		pos, sz := sizeBox(size, l.frame, frac)
		box.Move(pos)
		box.Resize(sz)
		box.Show()
		ls := label.MinSize()
		label.Resize(ls)
		if below {
			label.Move(fyne.NewPos(pos.X+4, pos.Y+sz.Height+2))
		} else {
			label.Move(fyne.NewPos(pos.X+4, pos.Y-ls.Height-2))
		}
		label.Show()
	}
	place(objs[0], objs[3], l.minFace, true)
	place(objs[1], objs[4], l.maxFace, false)
	if l.face == nil {
		objs[2].Hide()
		return
	}
	pos, sz := faceRect(size, l.frame, *l.face)
	objs[2].Move(pos)
	objs[2].Resize(sz)
	objs[2].Show()
}

func (l *overlayLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.Size{} }

// readout line keys, in display order.
var readoutKeys = []string{"size", "blur", "brightness", "yaw", "pitch", "roll"}

// overlay is one preview's boxes (laid over the preview) and readout
// (placed by the screen).
type overlay struct {
	lay                     *overlayLayout
	boxes                   *fyne.Container
	minBox, maxBox, faceBox *canvas.Rectangle
	minLabel, maxLabel      *canvas.Text
	readout                 *fyne.Container
	noFace                  *canvas.Text
	lines                   map[string]*canvas.Text
}

func newOverlay(a *App, textSize float32) *overlay {
	o := &overlay{lay: &overlayLayout{frame: fyne.NewSize(4, 3)}, lines: map[string]*canvas.Text{}}
	box := func(c color.NRGBA, w float32) *canvas.Rectangle {
		r := canvas.NewRectangle(color.Transparent)
		r.StrokeColor, r.StrokeWidth = c, w
		return r
	}
	label := func(s string, c color.NRGBA) *canvas.Text {
		t := canvas.NewText(s, c)
		t.TextSize = 18
		t.TextStyle.Bold = true
		return t
	}
	o.minBox, o.maxBox, o.faceBox = box(colMinBox, 3), box(colMaxBox, 3), box(colFaceBox, 2)
	o.minLabel, o.maxLabel = label(a.tr.T("overlay.min"), colMinBox), label(a.tr.T("overlay.max"), colMaxBox)
	o.boxes = container.New(o.lay, o.minBox, o.maxBox, o.faceBox, o.minLabel, o.maxLabel)

	text := func() *canvas.Text {
		t := canvas.NewText("", colForeground)
		t.TextSize = textSize
		return t
	}
	o.noFace = text()
	o.noFace.Text = a.tr.T("overlay.no_face")
	list := container.NewVBox(o.noFace)
	for _, k := range readoutKeys {
		o.lines[k] = text()
		o.lines[k].Hide() // until a face is seen
		list.Add(o.lines[k])
	}
	o.readout = container.NewStack(canvas.NewRectangle(color.NRGBA{0, 0, 0, 0xb0}), container.NewPadded(list))
	return o
}

// setVisible shows or hides the whole overlay.
func (o *overlay) setVisible(on bool) {
	if on == o.boxes.Visible() && on == o.readout.Visible() {
		return
	}
	if on {
		o.boxes.Show()
		o.readout.Show()
	} else {
		o.boxes.Hide()
		o.readout.Hide()
	}
}

// update moves the boxes and rewrites the readout: face is the latest
// face seen (nil: none), frame the camera frame's size.
func (o *overlay) update(tr *Translator, lim map[Limit]float64, face *kiosk.FaceInfo, frame fyne.Size) {
	var box *kiosk.Rect
	if face != nil {
		b := face.Box
		box = &b
	}
	l := o.lay
	minF, maxF := float32(lim[LimitMinFace]), float32(lim[LimitMaxFace])
	if l.frame != frame || l.minFace != minF || l.maxFace != maxF || !sameRect(l.face, box) {
		l.frame, l.minFace, l.maxFace, l.face = frame, minF, maxF, box
		o.boxes.Refresh() // lays out again
	}

	// The readout is laid out again only when a face comes or goes.
	if face == nil {
		if !o.noFace.Visible() {
			o.noFace.Show()
			for _, t := range o.lines {
				t.Hide()
			}
			o.readout.Refresh()
		}
		return
	}
	relayout := o.noFace.Visible()
	o.noFace.Hide()
	limit := func(k Limit) string {
		if v, ok := lim[k]; ok {
			return fmtNum(v)
		}
		return "–"
	}
	pct := func(k Limit) string {
		if v, ok := lim[k]; ok {
			return fmtNum(float64(int(v*100 + 0.5)))
		}
		return "–"
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	// within reports whether v passes the limits present; a readout line
	// whose value fails its gate turns amber.
	within := func(v float64, lo, hi Limit) bool {
		if x, ok := lim[lo]; ok && lo != "" && v < x {
			return false
		}
		if x, ok := lim[hi]; ok && hi != "" && v > x {
			return false
		}
		return true
	}
	abs := func(v float32) float64 {
		if v < 0 {
			return float64(-v)
		}
		return float64(v)
	}
	set := func(k, text string, ok bool) {
		t := o.lines[k]
		c := colForeground
		if !ok {
			c = colWarning
		}
		if relayout {
			t.Show()
		}
		if t.Text != text || t.Color != c {
			t.Text, t.Color = text, c
			t.Refresh()
		}
	}
	size := float64(face.Box.H)
	set("size", tr.T("overlay.size", num(size*100), pct(LimitMinFace), pct(LimitMaxFace)),
		within(size, LimitMinFace, LimitMaxFace))
	set("blur", tr.T("overlay.blur", num(face.Blur), limit(LimitMinBlur)), within(face.Blur, LimitMinBlur, ""))
	set("brightness", tr.T("overlay.brightness", num(face.Brightness), limit(LimitMinBrightness), limit(LimitMaxBrightness)),
		within(face.Brightness, LimitMinBrightness, LimitMaxBrightness))
	set("yaw", tr.T("overlay.yaw", num(float64(face.Yaw)), limit(LimitMaxYaw)), within(abs(face.Yaw), "", LimitMaxYaw))
	set("pitch", tr.T("overlay.pitch", num(float64(face.Pitch)), limit(LimitMaxPitch)), within(abs(face.Pitch), "", LimitMaxPitch))
	set("roll", tr.T("overlay.roll", num(float64(face.Roll)), limit(LimitMaxRoll)), within(abs(face.Roll), "", LimitMaxRoll))
	if relayout {
		o.readout.Refresh()
	}
}

func sameRect(a, b *kiosk.Rect) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// limits are the gate limits in force, read from the settings; while the
// settings pane is open the last valid value typed counts already, so the
// boxes move as the admin edits.
func (a *App) limits() map[Limit]float64 {
	m := map[Limit]float64{}
	for i, spec := range a.opts.Settings {
		if spec.Limit == "" {
			continue
		}
		v := spec.Value
		if a.admin == ScreenSettings && a.settings != nil && i < len(a.settings.fields) && a.settings.fields[i].live != "" {
			v = a.settings.fields[i].live
		}
		if x, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			m[spec.Limit] = x
		}
	}
	return m
}

// updateOverlays redraws the overlays that are on: the settings pane's
// while it is open, the kiosk screen's while switched on.
func (a *App) updateOverlays() {
	mainOn := a.showOverlays && a.Screen() == ScreenMain
	a.main.overlay.setVisible(a.showOverlays)
	if !mainOn && a.Screen() != ScreenSettings {
		return
	}
	lim := a.limits()
	if mainOn {
		a.main.overlay.update(a.tr, lim, a.face, a.frameSize)
	}
	if a.Screen() == ScreenSettings {
		a.settings.overlay.update(a.tr, lim, a.face, a.frameSize)
	}
}

// SetShowOverlays puts the face-size boxes and the live measures on the
// kiosk screen too, or takes them off: the settings pane's switch, which
// the app preferences remember. Call it on the UI goroutine.
func (a *App) SetShowOverlays(on bool) {
	a.showOverlays = on
	a.fa.Preferences().SetBool(prefsOverlaysKey, on)
	if a.settings.overlays.Checked != on {
		a.settings.overlays.SetChecked(on)
	}
	a.updateOverlays()
}
