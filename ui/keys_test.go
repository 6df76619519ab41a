package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/kiosk"
)

// keyboard types on the harness window as the desktop driver does: to the
// focused widget, else to the canvas handlers BindKeys set.
type keyboard struct {
	t *testing.T
	c fyne.Canvas
}

func newKeyboard(h *harness) keyboard {
	c := h.win.Canvas()
	h.app.BindKeys(c)
	return keyboard{t: h.t, c: c}
}

func (k keyboard) press(names ...fyne.KeyName) {
	for _, n := range names {
		ev := &fyne.KeyEvent{Name: n}
		if f := k.c.Focused(); f != nil {
			f.TypedKey(ev)
		} else {
			k.c.OnTypedKey()(ev)
		}
	}
}

func (k keyboard) typ(s string) {
	for _, r := range s {
		if f := k.c.Focused(); f != nil {
			f.TypedRune(r)
		} else {
			k.c.OnTypedRune()(r)
		}
	}
}

// ctrlComma is Ctrl+comma (Cmd+comma on macOS), which the driver sends to
// the canvas when the focused widget takes no shortcuts.
func (k keyboard) ctrlComma() {
	k.c.(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault})
}

func TestKeysIdentityPrompt(t *testing.T) {
	h := newHarness(t, nil)
	kb := newKeyboard(h)
	confirm := func() {
		h.app.Handle(kiosk.Event{Kind: kiosk.EventCandidate, State: kiosk.StateConfirm, Candidate: &kiosk.Candidate{Name: "Ada"}})
		h.wantScreen(ScreenConfirm)
	}
	confirm()
	kb.typ("y")
	kb.typ("N")
	kb.press(fyne.KeyReturn)
	kb.press(fyne.KeyEscape)
	kb.typ("x") // not an answer
	want := []bool{true, false, true, false}
	if got := h.ctl.answers; len(got) != len(want) || got[0] != true || got[1] != false || got[2] != true || got[3] != false {
		t.Fatalf("answers = %v, want %v", got, want)
	}

	// Tab reaches both big buttons; Enter presses the focused one, and
	// Y / N still answer while a button has the focus.
	h.ctl.answers = nil
	test.FocusNext(kb.c)
	if kb.c.Focused() != h.app.confirm.yes {
		t.Fatalf("first Tab focused %T, want Yes", kb.c.Focused())
	}
	test.FocusNext(kb.c)
	if kb.c.Focused() != h.app.confirm.no {
		t.Fatalf("second Tab focused %T, want No", kb.c.Focused())
	}
	kb.press(fyne.KeyReturn) // presses No
	kb.typ("y")
	kb.press(fyne.KeySpace) // presses No again
	if got := h.ctl.answers; len(got) != 3 || got[0] || !got[1] || got[2] {
		t.Fatalf("answers with No focused = %v, want [false true false]", got)
	}

	// A new screen drops the focus: keys do not land on a button gone.
	h.app.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome,
		Result: &kiosk.Result{Outcome: kiosk.OutcomeCheckedIn, AttendeeID: "a1", Name: "Ann Lee"}})
	if f := kb.c.Focused(); f != nil {
		t.Errorf("focus kept on %T after the screen changed", f)
	}
}

func TestKeysKeypad(t *testing.T) {
	h := newHarness(t, nil)
	kb := newKeyboard(h)
	h.state(kiosk.StateSecondVerify)
	h.wantScreen(ScreenSecond)
	kb.typ("12a34")
	kb.press(fyne.KeyBackspace)
	if got := h.app.second.code.Text; got != "123" {
		t.Fatalf("typed code = %q, want 123", got)
	}
	kb.press(fyne.KeyReturn)
	if len(h.ctl.codes) != 1 || h.ctl.codes[0] != "123" {
		t.Fatalf("codes = %v", h.ctl.codes)
	}
	kb.press(fyne.KeyEnter) // the number pad's Enter
	kb.press(fyne.KeyEscape)
	if len(h.ctl.codes) != 2 || h.ctl.cancels != 1 {
		t.Fatalf("codes %v, cancels %d after keypad Enter and Escape", h.ctl.codes, h.ctl.cancels)
	}
	if got := h.app.second.code.Text; got != "_" {
		t.Errorf("code after Escape = %q, want empty", got)
	}

	// Tab onto a key, then digits still type into the code.
	test.FocusNext(kb.c)
	if _, ok := kb.c.Focused().(*keyButton); !ok {
		t.Fatalf("Tab focused %T, want a keypad button", kb.c.Focused())
	}
	kb.typ("7")
	kb.press(fyne.KeySpace) // presses the focused "1"
	if got := h.app.second.code.Text; got != "71" {
		t.Errorf("code = %q, want 71", got)
	}
}

// F2 and Ctrl+comma ask for the PIN; the PIN pad takes digits, Backspace
// and Enter; Escape leaves the PIN screen, the settings pane and staff
// mode, also while typing in a field.
func TestKeysAdmin(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Settings = gateSpecs() })
	a := h.app
	kb := newKeyboard(h)

	kb.press(fyne.KeyF2)
	h.wantScreen(ScreenPIN)
	if a.pin.mode != pinSet || kb.c.Focused() != a.pin.pin {
		t.Fatalf("F2: mode %v, focus %T; want set, the PIN field", a.pin.mode, kb.c.Focused())
	}
	kb.typ("24689")
	kb.press(fyne.KeyBackspace, fyne.KeyReturn) // Enter after the new PIN: on to the repeat
	if kb.c.Focused() != a.pin.repeat {
		t.Fatalf("Enter in the new PIN focused %T, want the repeat field", kb.c.Focused())
	}
	kb.typ("2468")
	kb.press(fyne.KeyReturn)
	h.wantScreen(ScreenSettings)
	if ok, _ := kiosk.NewPINGuard(h.pins, nil).Check("2468"); !ok {
		t.Fatal("PIN typed on the keyboard not stored")
	}
	kb.press(fyne.KeyF2) // already in: nothing
	h.wantScreen(ScreenSettings)
	kb.press(fyne.KeyEscape)
	h.wantScreen(ScreenMain)

	// Ctrl+comma; a wrong PIN; Escape from the focused PIN field.
	kb.ctrlComma()
	h.wantScreen(ScreenPIN)
	kb.typ("1111")
	kb.press(fyne.KeyReturn)
	if got := a.pin.errText.Text; got != "Wrong PIN" {
		t.Errorf("wrong PIN by keyboard: %q", got)
	}
	kb.press(fyne.KeyEscape)
	h.wantScreen(ScreenMain)

	// Digits reach the PIN field even when a button has the focus.
	kb.press(fyne.KeyF2)
	kb.c.Focus(a.pin.submit)
	kb.typ("2468")
	kb.press(fyne.KeyBackspace)
	kb.typ("8")
	if got := a.pin.pin.Text; got != "2468" {
		t.Fatalf("PIN field = %q", got)
	}
	kb.press(fyne.KeyReturn)
	h.wantScreen(ScreenSettings)

	// Escape while typing in a settings field closes the pane.
	kb.c.Focus(a.settings.fields[0].entry)
	kb.typ("5")
	kb.press(fyne.KeyEscape)
	h.wantScreen(ScreenMain)

	// Staff mode: Escape closes it too.
	tapButtonLabelled(t, a.main.root, "Staff")
	kb.typ("2468")
	kb.press(fyne.KeyReturn)
	h.wantScreen(ScreenStaff)
	kb.c.Focus(a.staff.search)
	kb.press(fyne.KeyEscape)
	h.wantScreen(ScreenMain)
}

func TestKeysNotFound(t *testing.T) {
	h := newHarness(t, nil)
	kb := newKeyboard(h)
	h.app.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound, Result: &kiosk.Result{Outcome: kiosk.OutcomeNotFound}})
	h.wantScreen(ScreenNotFound)
	kb.press(fyne.KeyReturn)
	h.wantScreen(ScreenMain)
	if h.ctl.cancels != 1 {
		t.Errorf("cancels = %d, want 1", h.ctl.cancels)
	}
}
