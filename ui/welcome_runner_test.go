package ui

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/facecheck/facecheck/internal/demo"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
)

// uiLoop is the test's UI goroutine: the Fyne test driver runs fyne.Do
// on the caller's goroutine, so the runner's events, the App's timers and
// the preview are all posted here and run one at a time, as the real
// driver does on its main goroutine.
type uiLoop struct {
	ch      chan func()
	dropped atomic.Int64
}

func (l *uiLoop) post(f func()) {
	select {
	case l.ch <- f:
	default:
		l.dropped.Add(1) // the test fails on it: an event the screen never saw
	}
}

// loopClock is the real clock with its callbacks run on the UI loop.
type loopClock struct{ l *uiLoop }

func (c loopClock) Now() time.Time { return time.Now() }
func (c loopClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, func() { c.l.post(f) })
}

// TestRunnerWelcomeAlwaysNamed drives the real kiosk: the window demo's
// kiosk.Station (real models, a SQLite database with two dev faces
// enrolled, a generated video of them and then of someone not enrolled
// walking up, with nobody there first) and its threaded kiosk.Runner at
// the video's own rate, into the real screens (App) in a Fyne test
// window, answering "Are you NAME?" with yes as the person would. After
// every event, timer and preview frame it reads the welcome screen while
// it shows: it must always greet an enrolled person by name. The window
// demo showed "Welcome, !" right after a real welcome: the person walked
// away (idle) while the welcome was still up, idle cleared the result
// under it and the next render lost the name.
func TestRunnerWelcomeAlwaysNamed(t *testing.T) {
	if testing.Short() {
		t.Skip("real engine")
	}
	faces := testenv.Faces(t)
	models := testenv.Models(t)
	loop := &uiLoop{ch: make(chan func(), 1<<14)}
	var app atomic.Pointer[App]
	var observe func(kiosk.Event) // set before app, read on the loop once app is
	cfg := kiosk.StationConfig{
		Models: models.Dir,
		Kiosk:  kiosk.DefaultConfig(),
		Runner: &kiosk.RunnerOptions{}, // the video's own rate, one pass
		OnEvent: func(e kiosk.Event) {
			loop.post(func() {
				if a := app.Load(); a != nil {
					a.Handle(e)
					observe(e)
				}
			})
		},
		Who: "ui",
	}
	var log strings.Builder
	cleanup, err := demo.Window(&cfg, faces, 2, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	people, err := st.DB.ListAttendees(ctx)
	if err != nil || len(people) != 2 {
		t.Fatalf("enrolled %d people (%v)\n%s", len(people), err, log.String())
	}

	fa := test.NewTempApp(t)
	a, err := New(fa, Options{
		EventName:  "DevDay",
		Controller: st.Runner,
		Frames:     st.Runner.LatestFrame,
		Clock:      loopClock{loop},
		Font:       theme.DefaultTextFont(),
		PINs:       &MemoryPINStore{},
		// Longer than the kiosk's 4 s, so that on a slow machine too the
		// person walks away (idle) while their welcome is still up.
		WelcomeTimeout: 8 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, a.Content())
	w.Resize(fyne.NewSize(1280, 800))
	var named []string // every greeting the welcome may show
	for _, p := range people {
		if p.Name == "" {
			t.Fatalf("attendee %s has no name", p.ID)
		}
		named = append(named, a.tr.T("welcome.title", p.Name), a.tr.T("welcome.repeat", p.Name))
	}

	// What the screen went through, for the failure message and to prove
	// the run reached the moment the defect needs.
	var (
		trace        []string
		welcomes     []string // distinct greetings shown
		bad          []string
		confirms     int
		idleUnder    int // idle events handled while the welcome stayed up
		eventsUnder  int // any event handled while the welcome was up
		welcomeShown bool
	)
	check := func(after string) {
		if a.Screen() != ScreenWelcome {
			return
		}
		title := a.welcome.title.Text
		if len(welcomes) == 0 || welcomes[len(welcomes)-1] != title {
			welcomes = append(welcomes, title)
		}
		for _, s := range named {
			if title == s {
				return
			}
		}
		bad = append(bad, fmt.Sprintf("%q after %s", title, after))
	}
	observe = func(e kiosk.Event) {
		trace = append(trace, fmt.Sprintf("%s/%s", e.Kind, e.State))
		if a.Screen() == ScreenConfirm && e.Kind == kiosk.EventCandidate {
			confirms++
			test.Tap(a.confirm.yes) // the person says yes: st.Runner.Answer
		}
		if welcomeShown && a.Screen() == ScreenWelcome {
			eventsUnder++
			if e.State == kiosk.StateIdle {
				idleUnder++
			}
		}
		welcomeShown = a.Screen() == ScreenWelcome
		check(fmt.Sprintf("event %s/%s", e.Kind, e.State))
	}
	app.Store(a)

	runDone := make(chan error, 1)
	go func() { runDone <- st.Runner.Run(ctx) }()
	preview := time.NewTicker(100 * time.Millisecond)
	defer preview.Stop()
	var settle <-chan time.Time // after the video: the welcome's return
	for done := false; !done; {
		select {
		case f := <-loop.ch:
			f()
			check("a timer or event")
		case <-preview.C:
			a.PreviewFrame()
			check("a preview frame")
		case err := <-runDone:
			if err != nil {
				t.Fatalf("runner: %v", err)
			}
			runDone = nil
			settle = time.After(max(a.opts.WelcomeTimeout, a.opts.NotFoundTimeout) + time.Second)
		case <-settle:
			done = true
		case <-ctx.Done():
			t.Fatalf("the video did not end: %s", strings.Join(trace, " "))
		}
	}
	for drained := false; !drained; { // what the last second posted
		select {
		case f := <-loop.ch:
			f()
			check("a timer or event")
		default:
			drained = true
		}
	}
	t.Logf("%d events, %d identity prompts answered yes; greetings shown %q; %d events (%d idle) arrived under a welcome",
		len(trace), confirms, welcomes, eventsUnder, idleUnder)
	if n := loop.dropped.Load(); n > 0 {
		t.Errorf("%d events or timers dropped: the screen did not see the whole run", n)
	}
	if len(bad) > 0 {
		t.Errorf("the welcome screen greeted without an enrolled person's name: %q\nevents: %s", bad, strings.Join(trace, " "))
	}
	if len(welcomes) == 0 {
		t.Fatalf("no welcome shown in the whole run (nobody checked in)\nevents: %s\n%s", strings.Join(trace, " "), log.String())
	}
	if idleUnder == 0 {
		t.Errorf("no idle event reached the screen while a welcome was up: the run never tested the moment the name was lost\nevents: %s", strings.Join(trace, " "))
	}
	if a.Screen() != ScreenMain {
		t.Errorf("after the run the screen is %s, want main", a.Screen())
	}
}
