package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

// Sizes of the kiosk's own large type, in Fyne units.
const (
	promptTextSize = 48
	titleTextSize  = 60
	bigButtonW     = 320
	bigButtonH     = 130
	keyW, keyH     = 150, 100
	maxDim         = 0.7 // how dark the idle screen gets (alpha of the black veil)
)

// build creates every screen in the current language.
func (a *App) build() {
	a.main = newMainScreen(a)
	a.confirm = newConfirmScreen(a)
	a.second = newSecondScreen(a)
	a.welcome = newResultScreen(colSuccess, "", "", nil)
	a.notFound = newResultScreen(colWarning, a.tr.T("notfound.title"), a.tr.T("notfound.help"),
		a.newButton(a.tr.T("notfound.retry"), nil, a.leaveNotFound))
	a.errScr = newResultScreen(colError, a.tr.T("error.title"), "", nil)
	a.camera = newCameraPanel(a)
	a.errScr.body.Objects = append(a.errScr.body.Objects[:len(a.errScr.body.Objects)-1],
		a.camera.root, layout.NewSpacer())
	a.pin = newPINScreen(a)
	a.settings = newSettingsScreen(a)
	a.staff = newStaffScreen(a)
	a.screens = map[Screen]fyne.CanvasObject{
		ScreenMain:     a.main.root,
		ScreenConfirm:  a.confirm.root,
		ScreenSecond:   a.second.root,
		ScreenWelcome:  a.welcome.root,
		ScreenNotFound: a.notFound.root,
		ScreenError:    a.errScr.root,
		ScreenPIN:      a.pin.root,
		ScreenSettings: a.settings.root,
		ScreenStaff:    a.staff.root,
	}
	a.main.setSync(a.tr, a.sync)
	a.main.setBrightness(a.presence)
}

// leaveNotFound is the not-found screen's "try again": back to the main
// screen at once.
func (a *App) leaveNotFound() {
	if a.opts.Controller != nil {
		a.opts.Controller.Cancel()
	}
	if a.returnT != nil {
		a.returnT.Stop()
		a.returnT = nil
	}
	a.screen = ScreenMain
	a.render()
}

// bigText is a centred line of large type.
func bigText(s string, size float32, c color.Color) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size
	t.TextStyle = fyne.TextStyle{Bold: true}
	t.Alignment = fyne.TextAlignCenter
	return t
}

// wrapLabel is a centred, wrapping label in a theme size.
func wrapLabel(s string, size fyne.ThemeSizeName, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	l.SizeName = size
	l.Importance = imp
	return l
}

// bigButton gives b a large fixed touch target.
func bigButton(b fyne.CanvasObject, w, h float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(w, h), b)
}

// mainScreen is the preview, the oval guide, the prompt band, the idle
// overlay and a footer with the sync status and the settings button.
type mainScreen struct {
	root     *fyne.Container
	preview  *canvas.Image
	oval     *Oval
	veil     *canvas.Rectangle // darkens the whole screen when nobody is there
	prompt   *canvas.Text
	band     *fyne.Container // prompt background, hidden when no prompt
	idle     *fyne.Container // event name and "look here"
	syncText *canvas.Text
	gear     *keyButton
	// eventLine is the idle screen's "Welcome to EVENT".
	eventLine *widget.Label
	// langs are the attendee's language buttons (EN / 日本語 / 한국어),
	// top right of the main screen, above the idle dimming.
	langs   map[string]*keyButton
	overlay *overlay // face-size boxes and live measurements, when switched on
}

func newMainScreen(a *App) *mainScreen {
	m := &mainScreen{}
	m.preview = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 4, 3)))
	m.preview.FillMode = canvas.ImageFillContain
	m.preview.ScaleMode = canvas.ImageScaleFastest
	bg := canvas.NewRectangle(color.NRGBA{0x10, 0x10, 0x10, 0xff})
	m.oval = NewOval()
	m.veil = canvas.NewRectangle(color.NRGBA{0, 0, 0, 0})

	m.prompt = bigText("", promptTextSize, colForeground)
	bandBG := canvas.NewRectangle(color.NRGBA{0, 0, 0, 0xc0})
	m.band = container.NewStack(bandBG, container.NewPadded(m.prompt))
	m.band.Hide()

	event := bigText(a.opts.EventName, titleTextSize, colForeground)
	arrow := bigText("▲", 72, colAccent)
	look := bigText(a.tr.T("idle.look_here"), 40, colAccent)
	welcomeLine := wrapLabel("", theme.SizeNameSubHeadingText, widget.MediumImportance)
	if a.opts.EventName != "" {
		welcomeLine.SetText(a.tr.T("idle.event", a.opts.EventName))
		event.Text = ""
	}
	m.eventLine = welcomeLine
	m.idle = container.NewVBox(container.NewCenter(arrow), container.NewCenter(look), layout.NewSpacer(),
		welcomeLine, container.NewCenter(event), layout.NewSpacer())

	m.syncText = canvas.NewText("", colDisabled)
	m.syncText.TextSize = 20
	m.gear = a.newButton("", theme.SettingsIcon(), a.OpenAdmin)
	m.gear.Importance = widget.LowImportance
	footer := container.NewBorder(nil, nil, container.NewPadded(m.syncText), container.NewHBox(newStaffButton(a), m.gear))

	m.overlay = newOverlay(a, 22)
	m.root = container.NewStack(
		bg, m.preview, m.oval.Object(), m.overlay.boxes,
		container.NewBorder(nil, container.NewVBox(m.band, footer), nil, nil),
		m.veil,
		container.NewPadded(m.idle),
		container.NewPadded(container.NewBorder(container.NewHBox(m.overlay.readout), nil, nil, nil)),
		container.NewPadded(container.NewBorder(m.langRow(a), nil, nil, nil)),
	)
	return m
}

// langRow is the attendee's language choice: one button per language in
// its own name, the current one highlighted. A tap switches the whole flow
// for this attendee; the kiosk returns to its default language when they
// leave (App.attendeeLeft).
func (m *mainScreen) langRow(a *App) fyne.CanvasObject {
	row := container.NewHBox(layout.NewSpacer())
	m.langs = map[string]*keyButton{}
	for _, l := range Languages() {
		code, name := l[0], l[1]
		if code == "en" {
			name = "EN"
		}
		b := a.newButton(name, nil, func() { a.ChooseLanguage(code) })
		if code == a.tr.Lang() {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.LowImportance
		}
		m.langs[code] = b
		row.Add(b)
	}
	return row
}

func (m *mainScreen) update(a *App) {
	m.oval.SetState(a.guideState())
	txt := a.promptText()
	if txt != m.prompt.Text {
		m.prompt.Text = txt
		m.prompt.Refresh()
	}
	if txt == "" {
		m.band.Hide()
	} else {
		m.band.Show()
	}
	if a.state == kiosk.StateIdle {
		m.idle.Show()
	} else {
		m.idle.Hide()
	}
	m.setBrightness(a.presence)
}

// setBrightness sets the veil: fully dark at 0 presence, clear at 1.
func (m *mainScreen) setBrightness(p float32) {
	if p < 0 {
		p = 0
	} else if p > 1 {
		p = 1
	}
	alpha := uint8(maxDim * (1 - p) * 255)
	if c, ok := m.veil.FillColor.(color.NRGBA); ok && c.A == alpha {
		return
	}
	m.veil.FillColor = color.NRGBA{0, 0, 0, alpha}
	m.veil.Refresh()
}

func (m *mainScreen) setFrame(img *image.RGBA) {
	m.preview.Image = img
	m.preview.Refresh()
}

func (m *mainScreen) setSync(tr *Translator, s *kiosk.SyncStatus) {
	txt := ""
	switch {
	case s == nil || s.State == kiosk.SyncUnpaired:
	case s.Online:
		txt = tr.T("sync.online")
		m.syncText.Color = colDisabled
	case s.State == api.SyncStarting:
		txt = tr.T("sync.starting")
		m.syncText.Color = colDisabled
	case s.State == api.SyncDegraded:
		// The server answers, but not as it should (or the disk is full):
		// staff should look, as for offline.
		txt = tr.T("sync.degraded", s.Queued)
		m.syncText.Color = colWarning
	default:
		txt = tr.T("sync.offline", s.Queued)
		m.syncText.Color = colWarning
	}
	m.syncText.Text = txt
	m.syncText.Refresh()
}

// confirmScreen asks "Are you NAME?" with big Yes and No.
type confirmScreen struct {
	root     *fyne.Container
	question *widget.Label
	yes, no  *keyButton
}

func newConfirmScreen(a *App) *confirmScreen {
	c := &confirmScreen{}
	c.question = wrapLabel("", theme.SizeNameHeadingText, widget.MediumImportance)
	c.yes = a.newButton(a.tr.T("confirm.yes"), theme.ConfirmIcon(), func() { a.answer(true) })
	c.yes.Importance = widget.HighImportance
	c.no = a.newButton(a.tr.T("confirm.no"), theme.CancelIcon(), func() { a.answer(false) })
	buttons := container.NewHBox(layout.NewSpacer(), bigButton(c.yes, bigButtonW, bigButtonH),
		layout.NewSpacer(), bigButton(c.no, bigButtonW, bigButtonH), layout.NewSpacer())
	c.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewVBox(layout.NewSpacer(), c.question, layout.NewSpacer(), buttons, layout.NewSpacer()))
	return c
}

// answer is the person's Yes or No to "Are you NAME?".
func (a *App) answer(yes bool) {
	if a.opts.Controller != nil {
		a.opts.Controller.Answer(yes)
	}
}

func (c *confirmScreen) setName(tr *Translator, name string) {
	c.question.SetText(tr.T("confirm.question", name))
}

// secondScreen asks for the registration QR code or a short code typed on
// an on-screen keypad.
type secondScreen struct {
	root   *fyne.Container
	msg    *widget.Label // why the last code did not work
	code   *canvas.Text
	keys   map[string]*keyButton // "0".."9", "del", "ok"
	cancel *keyButton
}

// maxCodeLen bounds the typed code; registration codes are short.
const maxCodeLen = 8

func newSecondScreen(a *App) *secondScreen {
	s := &secondScreen{keys: map[string]*keyButton{}}
	title := wrapLabel(a.tr.T("second.title"), theme.SizeNameHeadingText, widget.MediumImportance)
	qr := wrapLabel("▣  "+a.tr.T("second.qr"), theme.SizeNameSubHeadingText, widget.WarningImportance)
	hint := wrapLabel(a.tr.T("second.code"), theme.SizeNameText, widget.MediumImportance)
	s.code = bigText("", 56, colAccent)
	s.code.TextStyle = fyne.TextStyle{Monospace: true, Bold: true}
	s.msg = wrapLabel("", theme.SizeNameText, widget.DangerImportance)
	s.msg.Hide()
	codeBox := container.NewStack(canvas.NewRectangle(colInput), container.NewPadded(s.code))

	grid := container.NewGridWrap(fyne.NewSize(keyW, keyH))
	for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok"} {
		var b *keyButton
		switch k {
		case "del":
			b = a.newButton("", theme.ContentUndoIcon(), func() { a.keypad(k) })
		case "ok":
			b = a.newButton(a.tr.T("second.submit"), nil, func() { a.keypad(k) })
			b.Importance = widget.HighImportance
		default:
			b = a.newButton(k, nil, func() { a.keypad(k) })
		}
		s.keys[k] = b
		grid.Add(b)
	}
	s.cancel = a.newButton(a.tr.T("common.cancel"), nil, a.cancelSecond)
	keypad := container.NewGridWrap(fyne.NewSize(3*keyW+2*theme.Padding(), 4*keyH+3*theme.Padding()), grid)
	left := container.NewVBox(layout.NewSpacer(), title, qr, layout.NewSpacer())
	right := container.NewVBox(layout.NewSpacer(), hint, codeBox, s.msg, container.NewCenter(keypad),
		container.NewCenter(bigButton(s.cancel, bigButtonW, 80)), layout.NewSpacer())
	s.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewPadded(container.NewGridWithColumns(2, left, right)))
	return s
}

// keypad is one key of the short-code keypad: a digit, "del" or "ok".
func (a *App) keypad(k string) {
	s := a.second
	switch k {
	case "del":
		if n := len(a.code); n > 0 {
			a.code = a.code[:n-1]
		}
	case "ok":
		if a.code != "" && a.opts.Controller != nil {
			a.opts.Controller.SubmitCode(a.code)
		}
	default:
		if len(a.code) < maxCodeLen {
			a.code += k
		}
	}
	if k != "ok" {
		s.setMessage(a.tr, "", nil) // typing again: the old complaint is stale
	}
	s.setCode(a.code)
}

// cancelSecond gives up on second verification.
func (a *App) cancelSecond() {
	a.code = ""
	a.second.setCode("")
	if a.opts.Controller != nil {
		a.opts.Controller.Cancel()
	}
}

func (s *secondScreen) setCode(code string) {
	// Show a placeholder so the empty box keeps its height.
	shown := code
	if shown == "" {
		shown = "_"
	}
	if s.code.Text != shown {
		s.code.Text = shown
		s.code.Refresh()
	}
}

// setMessage shows why a code did not work (code "" hides it), from the
// kiosk's code (kiosk.ECODEWRONG and the others) and its arguments.
func (s *secondScreen) setMessage(tr *Translator, code string, args []int) {
	if code == "" {
		s.msg.SetText("")
		s.msg.Hide()
		return
	}
	text := tr.T("second.wrong")
	switch {
	case code == kiosk.ECODEWRONG && len(args) == 2:
		text += "\n" + tr.T("second.attempts", args[0], args[1])
	case code != kiosk.ECODEWRONG:
		text = eventCodeText(tr, code, args)
	}
	s.msg.SetText(text)
	s.msg.Show()
}

// resultScreen is a full-screen message: welcome, not found, error.
type resultScreen struct {
	root   *fyne.Container
	body   *fyne.Container
	title  *widget.Label
	detail *widget.Label
	bar    *canvas.Rectangle
}

func newResultScreen(accent color.NRGBA, title, detail string, action fyne.CanvasObject) *resultScreen {
	r := &resultScreen{}
	r.title = wrapLabel(title, theme.SizeNameHeadingText, widget.MediumImportance)
	r.detail = wrapLabel(detail, theme.SizeNameSubHeadingText, widget.MediumImportance)
	r.bar = canvas.NewRectangle(accent)
	r.bar.SetMinSize(fyne.NewSize(0, 24))
	body := container.NewVBox(layout.NewSpacer(), r.title, r.detail)
	r.body = body
	if action != nil {
		body.Add(container.NewCenter(bigButton(action, bigButtonW+80, 100)))
	}
	body.Add(layout.NewSpacer())
	r.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewBorder(r.bar, nil, nil, nil, container.NewPadded(body)))
	return r
}

func (r *resultScreen) setWelcome(tr *Translator, res *kiosk.Result, cand *kiosk.Candidate) {
	name, info := "", ""
	repeat := false
	if res != nil {
		name, info, repeat = res.Name, res.Info, res.Outcome == kiosk.OutcomeRepeat
	}
	if name == "" && cand != nil {
		name = cand.Name
	}
	switch {
	case name == "":
		r.title.SetText(tr.T("welcome.plain")) // never "Welcome, !"
	case repeat:
		r.title.SetText(tr.T("welcome.repeat", name))
	default:
		r.title.SetText(tr.T("welcome.title", name))
	}
	r.detail.SetText(info)
}

func (r *resultScreen) setError(tr *Translator, msg string) {
	if msg == "" {
		r.detail.SetText(tr.T("error.help"))
		return
	}
	r.detail.SetText(msg + "\n" + tr.T("error.help"))
}
