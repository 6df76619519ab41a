package ui

import (
	"errors"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/kiosk"
)

// PINStore keeps the admin PIN's hash ("" when none is set yet); the
// hashing, checking and lockout are kiosk.PINGuard's.
type PINStore = kiosk.PINStore

// Preferences keys of the admin PIN hash and its lockout.
const (
	prefsPINKey         = "admin_pin_hash"
	prefsPINFailuresKey = "admin_pin_failures"
	prefsPINUntilKey    = "admin_pin_locked_until"
)

type prefsPINStore struct{ p fyne.Preferences }

// NewPreferencesPINStore keeps the PIN hash and its lockout in Fyne app
// preferences, so a restart keeps a lockout in force.
func NewPreferencesPINStore(p fyne.Preferences) PINStore { return prefsPINStore{p} }

func (s prefsPINStore) PINLockout() (int, time.Time) {
	until, err := time.Parse(time.RFC3339Nano, s.p.String(prefsPINUntilKey))
	if err != nil {
		until = time.Time{}
	}
	return s.p.Int(prefsPINFailuresKey), until
}

func (s prefsPINStore) SetPINLockout(failures int, until time.Time) error {
	s.p.SetInt(prefsPINFailuresKey, failures)
	if until.IsZero() {
		s.p.RemoveValue(prefsPINUntilKey)
		return nil
	}
	s.p.SetString(prefsPINUntilKey, until.UTC().Format(time.RFC3339Nano))
	return nil
}

func (s prefsPINStore) PINHash() string { return s.p.String(prefsPINKey) }
func (s prefsPINStore) SetPINHash(h string) error {
	s.p.SetString(prefsPINKey, h)
	return nil
}

// MemoryPINStore keeps the PIN hash in memory (tests, demos).
type MemoryPINStore struct {
	mu   sync.Mutex
	hash string
}

// PINHash returns the stored hash.
func (s *MemoryPINStore) PINHash() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hash
}

// SetPINHash stores h.
func (s *MemoryPINStore) SetPINHash(h string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hash = h
	return nil
}

// pinMode is what the PIN screen is for.
type pinMode int

const (
	pinEnter  pinMode = iota // unlock the settings
	pinSet                   // first use: choose a PIN
	pinChange                // from the settings pane
)

// pinScreen sets, checks or changes the admin PIN.
type pinScreen struct {
	root          *fyne.Container
	mode          pinMode
	title         *widget.Label
	pin, repeat   *keyEntry
	repeatRow     *fyne.Container
	errText       *canvas.Text
	submit, close *keyButton
}

func newPINScreen(a *App) *pinScreen {
	p := &pinScreen{}
	p.title = wrapLabel("", theme.SizeNameHeadingText, widget.MediumImportance)
	p.pin = a.newEntry(true)
	p.repeat = a.newEntry(true)
	p.repeat.SetPlaceHolder(a.tr.T("pin.repeat"))
	p.repeatRow = container.NewVBox(p.repeat)
	p.errText = canvas.NewText("", colError)
	p.errText.TextSize = 26
	p.errText.Alignment = fyne.TextAlignCenter
	p.submit = a.newButton("", nil, func() { a.submitPIN() })
	p.submit.Importance = widget.HighImportance
	p.close = a.newButton(a.tr.T("common.cancel"), nil, a.CloseAdmin)
	p.pin.OnSubmitted = func(string) {
		if p.mode != pinEnter {
			a.focus(p.repeat) // Enter after the new PIN: now repeat it
			return
		}
		a.submitPIN()
	}
	p.repeat.OnSubmitted = func(string) { a.submitPIN() }
	form := container.NewVBox(p.title, p.pin, p.repeatRow, p.errText,
		container.NewGridWithColumns(2, p.close, p.submit))
	p.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewCenter(container.NewGridWrap(fyne.NewSize(560, 440), form)))
	return p
}

func (p *pinScreen) reset(tr *Translator, mode pinMode) {
	p.mode = mode
	p.pin.SetText("")
	p.repeat.SetText("")
	p.errText.Text = ""
	p.errText.Refresh()
	switch mode {
	case pinEnter:
		p.title.SetText(tr.T("pin.enter_title"))
		p.pin.SetPlaceHolder(tr.T("pin.pin"))
		p.submit.SetText(tr.T("pin.unlock"))
		p.repeatRow.Hide()
	case pinSet, pinChange:
		key := "pin.set_title"
		if mode == pinChange {
			key = "pin.change_title"
		}
		p.title.SetText(tr.T(key))
		p.pin.SetPlaceHolder(tr.T("pin.new"))
		p.submit.SetText(tr.T("pin.save"))
		p.repeatRow.Show()
	}
}

func (p *pinScreen) showError(msg string) {
	p.errText.Text = msg
	p.errText.Refresh()
}

// OpenAdmin shows the PIN screen in front of the kiosk flow: choose a PIN
// on first use, else enter it; the settings pane follows. Call it on the
// UI goroutine (the main screen's gear button does).
func (a *App) OpenAdmin() {
	mode := pinEnter
	if !a.pins.IsSet() {
		mode = pinSet
	}
	a.pin.reset(a.tr, mode)
	a.admin = ScreenPIN
	a.afterPIN = ScreenSettings
	a.render()
	a.focus(a.pin.pin)
}

// unlocked opens what the PIN was asked for.
func (a *App) unlocked() {
	if a.afterPIN == ScreenStaff {
		a.OpenStaff()
		return
	}
	a.OpenSettings()
}

// CloseAdmin leaves the PIN screen or settings pane for whatever the kiosk
// flow shows now. Call it on the UI goroutine.
func (a *App) CloseAdmin() {
	a.admin = ""
	a.render()
}

func (a *App) focus(w fyne.Focusable) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(a.root); c != nil {
		c.Focus(w)
	}
}

func (a *App) submitPIN() {
	p := a.pin
	switch p.mode {
	case pinEnter:
		ok, err := a.pins.Check(p.pin.Text)
		var locked *kiosk.PINLockedError
		switch {
		case errors.As(err, &locked):
			p.pin.SetText("")
			p.showError(a.tr.T("pin.locked", int(locked.Wait.Round(time.Second)/time.Second)))
			return
		case err != nil:
			p.pin.SetText("")
			p.showError(a.errorText("check admin PIN", err))
			return
		case !ok:
			p.pin.SetText("")
			p.showError(a.tr.T("pin.wrong"))
			return
		}
		a.unlocked()
	case pinSet, pinChange:
		if kiosk.ValidPIN(p.pin.Text) != nil {
			p.showError(a.tr.T("pin.too_short"))
			return
		}
		if p.pin.Text != p.repeat.Text {
			p.repeat.SetText("")
			p.showError(a.tr.T("pin.mismatch"))
			return
		}
		if err := a.pins.Set(p.pin.Text); err != nil {
			p.showError(a.errorText("save admin PIN", err))
			return
		}
		a.unlocked()
	}
}

// changePIN is the settings pane's "Change PIN".
func (a *App) changePIN() {
	a.pin.reset(a.tr, pinChange)
	a.admin = ScreenPIN
	a.afterPIN = ScreenSettings
	a.render()
	a.focus(a.pin.pin)
}

// OpenSettings shows the settings pane without asking for the PIN, for
// callers that authenticated the admin some other way (the screenshot
// demo). Call it on the UI goroutine.
func (a *App) OpenSettings() {
	a.settings.load(a)
	a.settings.preview.Image = a.main.preview.Image // until the next frame
	a.settings.preview.Refresh()
	a.admin = ScreenSettings
	a.render()
}
