package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Full keyboard use (issue 6, accessibility): a kiosk with a keyboard and
// no touch screen, or a staff member who prefers keys, can do everything.
//
//	identity prompt     Y / Enter = yes, N / Escape = no
//	short-code keypad   digits, Backspace, Enter = OK, Escape = cancel
//	PIN pad             digits, Backspace, Enter, Escape = cancel
//	settings, staff     Escape closes
//	not found           Enter or Escape goes back
//	models missing      Enter = download (or try again), Escape = quit
//	anywhere            F2 or Ctrl+comma (Cmd+comma on macOS) asks for the admin PIN
//	buttons             Tab / Shift+Tab move the focus, Space or Enter press
//
// Fyne hands a key to the focused widget, and to the canvas handlers only
// when nothing has the focus. So the buttons and entries of these screens
// are thin extensions that pass on the keys they do not use themselves;
// every key ends in typedKey or typedRune, which map it to what the
// screen's buttons do.

// BindKeys installs the keyboard handlers on the canvas that shows
// Content (the kiosk window's). Call it once, on the UI goroutine.
func (a *App) BindKeys(c fyne.Canvas) {
	c.SetOnTypedKey(a.typedKey)
	c.SetOnTypedRune(a.typedRune)
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { a.openAdminByKey() })
}

// typedKey handles a key that no widget used.
func (a *App) typedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyF2 {
		a.openAdminByKey()
		return
	}
	enter := ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter
	esc := ev.Name == fyne.KeyEscape
	switch a.Screen() {
	case ScreenConfirm:
		if enter || esc {
			a.answer(enter)
		}
	case ScreenSecond:
		switch {
		case enter:
			a.keypad("ok")
		case ev.Name == fyne.KeyBackspace:
			a.keypad("del")
		case esc:
			a.cancelSecond()
		}
	case ScreenNotFound:
		if enter || esc {
			a.leaveNotFound()
		}
	case ScreenPIN:
		switch {
		case esc:
			a.CloseAdmin()
		case enter:
			a.submitPIN()
		case ev.Name == fyne.KeyBackspace:
			a.focus(a.pin.pin)
			a.pin.pin.TypedKey(ev)
		}
	case ScreenSettings, ScreenStaff:
		if esc {
			a.CloseAdmin()
		}
	}
}

// typedRune handles a character that no widget used.
func (a *App) typedRune(r rune) {
	switch a.Screen() {
	case ScreenConfirm:
		switch r {
		case 'y', 'Y':
			a.answer(true)
		case 'n', 'N':
			a.answer(false)
		}
	case ScreenSecond:
		if r >= '0' && r <= '9' {
			a.keypad(string(r))
		}
	case ScreenPIN:
		if r >= '0' && r <= '9' {
			// Focus was elsewhere (a button): the digit goes to the PIN.
			a.focus(a.pin.pin)
			a.pin.pin.TypedRune(r)
		}
	}
}

// openAdminByKey is F2 / Ctrl+comma: the PIN prompt, unless an admin
// screen is already open.
func (a *App) openAdminByKey() {
	if a.admin == "" {
		a.OpenAdmin()
	}
}

// unfocus drops the keyboard focus, so keys typed after a screen change
// do not go to a widget of the screen that is gone.
func (a *App) unfocus() {
	if d := fyne.CurrentApp().Driver(); d != nil {
		if c := d.CanvasForObject(a.root); c != nil {
			c.Unfocus()
		}
	}
}

// keyTarget is what gets the keys a focused button does not use: the
// kiosk App, or the models screen shown before it exists.
type keyTarget interface {
	typedKey(ev *fyne.KeyEvent)
	typedRune(r rune)
}

// keyButton is a button that, when focused, presses on Space or Enter and
// passes every other key on to the screen.
type keyButton struct {
	widget.Button
	a keyTarget
}

func (a *App) newButton(text string, icon fyne.Resource, tapped func()) *keyButton {
	return newKeyButton(a, text, icon, tapped)
}

func newKeyButton(k keyTarget, text string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{a: k}
	b.Text, b.Icon, b.OnTapped = text, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey presses the button on Space or Enter; other keys are the
// screen's.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeySpace, fyne.KeyReturn, fyne.KeyEnter:
		b.Button.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	default:
		b.a.typedKey(ev)
	}
}

// TypedRune passes characters (Y, N, digits) on to the screen.
func (b *keyButton) TypedRune(r rune) { b.a.typedRune(r) }

// keyEntry is an entry that leaves its screen on Escape (Fyne's entry
// ignores it), so an admin typing in a field can still close the pane.
type keyEntry struct {
	widget.Entry
	a *App
}

func (a *App) newEntry(password bool) *keyEntry {
	e := &keyEntry{a: a}
	if password {
		e.Password = true // the reveal button is added by the renderer
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey hands Escape and F2 to the screen, everything else to the
// entry.
func (e *keyEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape || ev.Name == fyne.KeyF2 {
		e.a.typedKey(ev)
		return
	}
	e.Entry.TypedKey(ev)
}
