package ui

import (
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/facecheck/facecheck/kiosk"
)

func TestMain(m *testing.M) {
	// Fyne logs "Error parsing user locale C" without it (DESIGN.md).
	os.Setenv("LANG", "en_US.UTF-8")
	os.Exit(m.Run())
}

// fakeController records the kiosk calls (wtf mock style).
type fakeController struct {
	answers []bool
	codes   []string
	cancels int
}

func (c *fakeController) Answer(yes bool)        { c.answers = append(c.answers, yes) }
func (c *fakeController) SubmitCode(code string) { c.codes = append(c.codes, code) }
func (c *fakeController) Cancel()                { c.cancels++ }

// fakeClock fires AfterFunc callbacks when Advance passes their time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves time on and runs the due callbacks in time order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due, rest []*fakeTimer
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			due = append(due, t)
		default:
			rest = append(rest, t)
		}
	}
	c.timers = rest
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		if !t.stopped {
			t.stopped = true
			t.f()
		}
	}
}

// harness is an App in a test window with fakes behind it.
type harness struct {
	t     *testing.T
	app   *App
	ctl   *fakeController
	clock *fakeClock
	win   fyne.Window
	pins  *MemoryPINStore
	apply []map[string]string
}

func newHarness(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	fa := test.NewTempApp(t)
	h := &harness{t: t, ctl: &fakeController{}, clock: newFakeClock(), pins: &MemoryPINStore{}}
	opts := Options{
		EventName:  "DevDay 2025",
		Controller: h.ctl,
		Clock:      h.clock,
		Font:       theme.DefaultTextFont(), // keep tests off the 20 MB system font
		PINs:       h.pins,
		ApplySettings: func(m map[string]string) error {
			h.apply = append(h.apply, m)
			return nil
		},
	}
	if mod != nil {
		mod(&opts)
	}
	a, err := New(fa, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.app = a
	h.win = test.NewTempWindow(t, a.Content())
	h.win.Resize(fyne.NewSize(1280, 800))
	return h
}

func (h *harness) state(s kiosk.State) {
	h.app.Handle(kiosk.Event{Kind: kiosk.EventState, State: s})
}

// openSettings sets the admin PIN 0000 and opens the settings pane with
// it, through the gear and the PIN prompt.
func (h *harness) openSettings() {
	h.t.Helper()
	kiosk.NewPINGuard(h.pins, nil).Set("0000")
	test.Tap(h.app.main.gear)
	test.Type(h.app.pin.pin, "0000")
	test.Tap(h.app.pin.submit)
	h.wantScreen(ScreenSettings)
}

func (h *harness) wantScreen(want Screen) {
	h.t.Helper()
	if got := h.app.Screen(); got != want {
		h.t.Fatalf("screen = %q, want %q", got, want)
	}
}
