// Package ui is the kiosk's Fyne front end: camera preview with the oval
// face guide, prompts, the identity prompt, second verification, welcome
// and not-found screens, and the settings pane behind an admin PIN (with
// a live preview of what the face settings do, and pairing with the
// server). Every screen also works from the keyboard (keys.go).
//
// It renders kiosk.Event values and calls back through the small
// Controller interface and the functions in Options; it holds no business
// logic and knows nothing of the engine or storage. Handle may be called
// from any goroutine. Run (window.go) is the kiosk window as
// `facecheck ui` starts it: it opens a kiosk.Station and puts an App on
// it, or first the models screen when the models need downloading. This
// is the only package that imports Fyne.
package ui

import (
	"context"
	"errors"
	"image"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/kiosk"
)

// Controller is what the UI asks of the kiosk core. Calls come from the UI
// goroutine and must not block.
type Controller interface {
	// Answer is the person's reply to "Are you NAME?".
	Answer(yes bool)
	// SubmitCode is the short code typed on the second-verification keypad.
	SubmitCode(code string)
	// Cancel abandons the current approach (second verification, not found).
	Cancel()
}

// FrameSource returns the latest camera frame, or nil when there is none
// yet. It is polled at the preview rate, must not block, and may return
// the same image again; the UI never modifies it.
type FrameSource func() image.Image

// Screen names what the kiosk shows.
type Screen string

// Screens.
const (
	ScreenMain     Screen = "main" // preview, oval, prompts, idle overlay
	ScreenConfirm  Screen = "confirm"
	ScreenSecond   Screen = "second_verify"
	ScreenWelcome  Screen = "welcome"
	ScreenNotFound Screen = "not_found"
	ScreenError    Screen = "error"
	ScreenPIN      Screen = "pin"
	ScreenSettings Screen = "settings"
	ScreenStaff    Screen = "staff" // walk-up enrolment, today's count, manual check-in
)

// Options configure an App. Zero values get the defaults noted.
type Options struct {
	EventName  string        // shown on the idle screen
	Language   string        // "en" (default), "ja", "ko"
	Controller Controller    // required for the confirm and second-verification screens
	Frames     FrameSource   // nil: no preview (the oval still shows)
	FPS        int           // preview rate; default 20
	Clock      Clock         // default: the real clock
	Font       fyne.Resource // default: LoadFont(Language), else Fyne's font

	WelcomeTimeout  time.Duration // welcome screen, then back to main; default 4s
	NotFoundTimeout time.Duration // not-found screen; default 10s
	PromptMinShow   time.Duration // a shown prompt stays at least this; default 1.2s
	PromptSettle    time.Duration // a new prompt must be steady this long; default 250ms

	// Settings are listed in the settings pane; ApplySettings receives the
	// changed keys and values once all of them validate. Its error is shown.
	Settings      []SettingSpec
	ApplySettings func(changed map[string]string) error
	// ResetSettings drops every local override and returns the values now
	// in force (event defaults, else built-in ones); nil hides the button.
	ResetSettings func() (map[string]string, error)
	// PINs stores the admin PIN hash; default: the Fyne app's preferences.
	PINs PINStore
	// OnLanguage is told when an admin switches language, to persist it.
	OnLanguage func(lang string)
	// PairedEvent is the name of the event the kiosk is paired with ("":
	// none), read again after the settings screen pairs it: the idle
	// screen greets with it instead of EventName.
	PairedEvent func() string
	// Staff backs staff mode (behind the admin PIN); nil shows it disabled.
	Staff Staff
	// Camera lets the error screen switch camera when the camera is gone
	// (nil: no camera choice shown). CameraChoices are offered as buttons
	// (default "0".."3"); a file path can be typed too.
	Camera        CameraControl
	CameraChoices []string
	// ListCameras lists this machine's cameras for the settings pane's
	// camera field (camera.List); nil shows no list, only the entry.
	ListCameras func(ctx context.Context) ([]camera.Device, error)
	// PairedWith is the server the kiosk is paired with at start ("": not
	// paired); the settings pane's Server section shows it.
	PairedWith string
	// Pair pairs the kiosk with the server at serverURL by a one-time code
	// from the admin dashboard, then starts syncing. The Server section
	// calls it off the UI goroutine (it waits on the network); nil offers
	// no pairing from the window.
	Pair func(ctx context.Context, serverURL, code string) error
}

// App is the kiosk UI. Build it with New, put Content in a window, feed it
// events with Handle and start the preview with RunPreview.
type App struct {
	fa   fyne.App
	opts Options
	tr   *Translator
	root *fyne.Container

	// Kiosk-driven state (UI goroutine only).
	state     kiosk.State
	screen    Screen // what the kiosk flow wants shown
	admin     Screen // ScreenPIN or ScreenSettings while an admin is in; "" otherwise
	candidate *kiosk.Candidate
	result    *kiosk.Result
	failure   *kiosk.Event // the last EventError or EventOutOfOrder
	sync      *kiosk.SyncStatus
	prompt    promptFilter
	promptT   Timer
	returnT   Timer
	presence  float32 // smoothed brightness, 0 dark .. 1 bright
	target    float32
	code      string          // typed second-verification code
	face      *kiosk.FaceInfo // latest face seen, for the overlays; nil when nobody is there
	frameSize fyne.Size       // of the latest preview frame, to place the overlays
	// showOverlays: the face-size boxes and measures show on the kiosk
	// screen too (they always show on the settings pane's preview).
	showOverlays bool
	pairedWith   string // server URL, "" when not paired
	// defaultLang is the kiosk's language (Options.Language, or an admin's
	// choice); an attendee's choice (ChooseLanguage) lasts until they leave.
	defaultLang string
	// inFlow: someone went past the idle/approach states since the last
	// language choice, so the next idle means they left.
	inFlow bool

	main     *mainScreen
	screens  map[Screen]fyne.CanvasObject
	confirm  *confirmScreen
	second   *secondScreen
	welcome  *resultScreen
	notFound *resultScreen
	errScr   *resultScreen
	pin      *pinScreen
	settings *settingsScreen
	staff    *staffScreen
	camera   *cameraPanel

	pins     *kiosk.PINGuard
	afterPIN Screen // what the PIN unlocks: ScreenSettings or ScreenStaff
	inline   bool   // tests: run Staff and Pair calls on the UI goroutine

	framePending atomic.Bool
	framesShown  atomic.Uint64
	flip         int
	mirror       [2]*image.RGBA
}

// New builds the UI in the kiosk theme. It sets fa's theme; it returns an
// error only for a language without translations.
func New(fa fyne.App, opts Options) (*App, error) {
	if opts.Language == "" {
		opts.Language = i18n.Default
	}
	if opts.FPS <= 0 {
		opts.FPS = 20
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.WelcomeTimeout <= 0 {
		opts.WelcomeTimeout = 4 * time.Second
	}
	if opts.NotFoundTimeout <= 0 {
		opts.NotFoundTimeout = 10 * time.Second
	}
	if opts.PromptMinShow <= 0 {
		opts.PromptMinShow = 1200 * time.Millisecond
	}
	if opts.PromptSettle <= 0 {
		opts.PromptSettle = 250 * time.Millisecond
	}
	if opts.PINs == nil {
		opts.PINs = NewPreferencesPINStore(fa.Preferences())
	}
	if opts.Language == "" {
		opts.Language = StartLanguage("")
	}
	if opts.PairedEvent != nil {
		if n := opts.PairedEvent(); n != "" {
			opts.EventName = n
		}
	}
	tr, err := NewTranslator(opts.Language)
	if err != nil {
		return nil, err
	}
	a := &App{
		defaultLang: opts.Language,
		fa:          fa,
		opts:        opts,
		tr:          tr,
		root:        container.NewStack(),
		state:       kiosk.StateIdle,
		screen:      ScreenMain,

		frameSize:    fyne.NewSize(4, 3),
		showOverlays: fa.Preferences().Bool(prefsOverlaysKey),
		pairedWith:   opts.PairedWith,
		pins:         kiosk.NewPINGuard(opts.PINs, nil),
	}
	a.prompt.minShow, a.prompt.settle = opts.PromptMinShow, opts.PromptSettle
	a.applyTheme()
	a.build()
	a.render()
	return a, nil
}

func (a *App) applyTheme() { applyTheme(a.fa, a.opts.Font, a.tr.Lang()) }

// applyTheme sets the kiosk theme on fa with font, else the CJK font for
// lang (LoadFont), else Fyne's.
func applyTheme(fa fyne.App, font fyne.Resource, lang string) {
	if font == nil {
		if f, err := LoadFont(lang); err == nil {
			font = f
		} else {
			fyne.LogError("ui: Korean text will not render", err)
		}
	}
	fa.Settings().SetTheme(NewTheme(font))
}

// Content is the root object to set on the kiosk window.
func (a *App) Content() fyne.CanvasObject { return a.root }

// Screen is what is shown now. Call it on the UI goroutine (or in tests).
func (a *App) Screen() Screen {
	if a.admin != "" {
		return a.admin
	}
	return a.screen
}

// Language is the current language code.
func (a *App) Language() string { return a.tr.Lang() }

// ShownPrompt is the prompt on the kiosk screen now (after the flicker
// filter), PromptNone when there is none. Call it on the Fyne goroutine.
func (a *App) ShownPrompt() kiosk.Prompt { return a.prompt.shown }

// SetLanguage switches every string to lang and rebuilds the screens. Call
// it on the UI goroutine. It returns an error for an unknown language.
func (a *App) SetLanguage(lang string) error {
	if err := a.useLanguage(lang); err != nil {
		return err
	}
	a.defaultLang = lang
	if a.opts.OnLanguage != nil {
		a.opts.OnLanguage(lang)
	}
	return nil
}

// ChooseLanguage is an attendee's tap on a language button: every screen
// switches to lang for them, and back to the kiosk's language once they
// leave. Call it on the UI goroutine.
func (a *App) ChooseLanguage(lang string) {
	if lang == a.tr.Lang() {
		return
	}
	if err := a.useLanguage(lang); err != nil {
		fyne.LogError("ui: choose language", err)
		return
	}
	a.inFlow = false
}

// DefaultLanguage is the kiosk's own language, the one it returns to.
func (a *App) DefaultLanguage() string { return a.defaultLang }

// attendeeLeft returns to the kiosk's language after an attendee who chose
// another one has gone through the flow.
func (a *App) attendeeLeft() {
	a.inFlow = false
	if a.tr.Lang() != a.defaultLang {
		if err := a.useLanguage(a.defaultLang); err != nil {
			fyne.LogError("ui: back to the kiosk language", err)
		}
	}
}

// useLanguage switches every string to lang and rebuilds the screens.
func (a *App) useLanguage(lang string) error {
	tr, err := NewTranslator(lang)
	if err != nil {
		return err
	}
	a.tr = tr
	if a.opts.Font == nil {
		a.applyTheme() // per-language CJK glyph forms
	}
	a.build()
	a.render()
	return nil
}

// pairedEventChanged greets with the event pairing returned.
func (a *App) pairedEventChanged() {
	if a.opts.PairedEvent == nil {
		return
	}
	if n := a.opts.PairedEvent(); n != "" && n != a.opts.EventName {
		a.opts.EventName = n
		a.build()
		a.render()
	}
}

// Handle shows a kiosk event. It is safe to call from any goroutine: the
// work runs on the Fyne UI goroutine (fyne.Do), in event order.
func (a *App) Handle(ev kiosk.Event) {
	fyne.Do(func() { a.handle(ev) })
}

func (a *App) handle(ev kiosk.Event) {
	switch ev.Kind {
	case kiosk.EventPrompt:
		a.setPrompt(ev.Prompt)
	case kiosk.EventFace:
		if ev.Face != nil {
			a.target = ev.Face.Presence
			a.stepBrightness(0.35)
			a.face = ev.Face
			a.updateOverlays()
		}
	case kiosk.EventCandidate:
		a.candidate = ev.Candidate
	case kiosk.EventResult:
		a.result = ev.Result
	case kiosk.EventSync:
		a.sync = ev.Sync
		a.main.setSync(a.tr, a.sync)
		a.settings.server.update(a)
	case kiosk.EventError, kiosk.EventOutOfOrder:
		fyne.LogError("ui: kiosk "+string(ev.Kind)+" "+ev.Code, errors.New(ev.Err))
		a.failure = &ev
		if ev.State == kiosk.StateSecondVerify && a.screen == ScreenSecond {
			// A wrong or unusable code: say so on the keypad, keep the screen.
			a.code = ""
			a.second.setMessage(a.tr, ev.Code, ev.Args)
		}
	}
	if ev.State != "" {
		a.setState(ev)
	}
}

// resultShowing is true while the welcome or not-found screen waits for
// its auto-return: idle, approach and cooldown then only update the main
// screen underneath, so the person can read their result.
func (a *App) resultShowing() bool {
	return (a.screen == ScreenWelcome || a.screen == ScreenNotFound) && a.returnT != nil
}

func (a *App) setState(ev kiosk.Event) {
	prev := a.state
	a.state = ev.State
	switch ev.State {
	case kiosk.StateIdle:
		a.target = 0
		a.prompt.reset()
		a.face = nil
		// The welcome on screen keeps its person until it returns: later
		// events re-render it ("Welcome, !" when they were cleared here).
		if !a.resultShowing() {
			a.candidate, a.result = nil, nil
			if a.inFlow {
				a.attendeeLeft()
			}
			a.show(ScreenMain)
		}
	case kiosk.StateApproach, kiosk.StateCooldown:
		if !a.resultShowing() && ev.State == kiosk.StateApproach {
			a.show(ScreenMain)
		}
	case kiosk.StateGuide, kiosk.StateHoldStill, kiosk.StateLiveness, kiosk.StateIdentify:
		a.inFlow = true
		if a.screen != ScreenMain {
			a.prompt.reset()
		}
		a.show(ScreenMain)
	case kiosk.StateConfirm:
		a.show(ScreenConfirm)
	case kiosk.StateSecondVerify:
		if prev != kiosk.StateSecondVerify {
			a.code = ""
			a.second.setMessage(a.tr, "", nil)
		}
		a.show(ScreenSecond)
	case kiosk.StateWelcome, kiosk.StateNotFound:
		// The kiosk announces the state, then the result: a result screen
		// opens with its result, or the welcome would greet nobody for a
		// moment (it showed "Welcome, !" in the window demo).
		scr := ScreenWelcome
		if ev.State == kiosk.StateNotFound {
			scr = ScreenNotFound
		}
		if ev.Kind == kiosk.EventResult || a.screen == scr {
			a.show(scr)
		}
	case kiosk.StateError:
		if ev.Code != "" {
			a.failure = &ev
		}
		a.show(ScreenError)
	}
	if ev.State != kiosk.StateIdle && ev.State != kiosk.StateCooldown && a.target == 0 {
		a.target = 1 // a state past idle means someone is there, even without face events
	}
	a.render()
}

// show switches the kiosk screen and arms the auto-return of result
// screens.
func (a *App) show(s Screen) {
	if a.returnT != nil && s != a.screen {
		a.returnT.Stop()
		a.returnT = nil
	}
	if s == a.screen && a.returnT != nil {
		return
	}
	a.screen = s
	var d time.Duration
	switch s {
	case ScreenWelcome:
		d = a.opts.WelcomeTimeout
	case ScreenNotFound:
		d = a.opts.NotFoundTimeout
	default:
		return
	}
	var t Timer
	t = a.opts.Clock.AfterFunc(d, func() {
		fyne.Do(func() {
			if a.returnT != t {
				return // superseded
			}
			a.returnT = nil
			a.screen = ScreenMain
			a.candidate, a.result = nil, nil
			if a.inFlow || a.tr.Lang() != a.defaultLang {
				a.attendeeLeft() // the result was read: the next attendee starts in the kiosk's language
			}
			if a.state == kiosk.StateWelcome || a.state == kiosk.StateNotFound || a.state == kiosk.StateCooldown {
				a.state = kiosk.StateIdle
				a.target = 0
			}
			a.prompt.reset()
			a.render()
		})
	})
	a.returnT = t
}

func (a *App) setPrompt(p kiosk.Prompt) {
	if a.promptT != nil {
		a.promptT.Stop()
		a.promptT = nil
	}
	_, wait := a.prompt.update(p, a.opts.Clock.Now())
	if wait > 0 {
		var t Timer
		t = a.opts.Clock.AfterFunc(wait, func() {
			fyne.Do(func() {
				if a.promptT != t {
					return
				}
				a.promptT = nil
				a.setPrompt(a.prompt.pending)
			})
		})
		a.promptT = t
	}
	a.render()
}

// guideState maps the kiosk state and the shown prompt to the oval colour.
func (a *App) guideState() GuideState {
	switch a.state {
	case kiosk.StateIdle, kiosk.StateApproach:
		if a.prompt.shown != kiosk.PromptNone {
			return GuideAdjust
		}
		return GuideSearching
	case kiosk.StateGuide:
		if a.prompt.shown == kiosk.PromptHoldStill {
			return GuideHold
		}
		return GuideAdjust
	case kiosk.StateHoldStill, kiosk.StateLiveness, kiosk.StateIdentify:
		return GuideHold
	case kiosk.StateConfirm, kiosk.StateWelcome, kiosk.StateSecondVerify:
		return GuideRecognised
	}
	return GuideSearching
}

// promptText is the one line under the oval.
func (a *App) promptText() string {
	if p := a.prompt.shown; p != kiosk.PromptNone {
		return a.tr.T("prompt." + string(p))
	}
	switch a.state {
	case kiosk.StateApproach, kiosk.StateHoldStill, kiosk.StateLiveness, kiosk.StateIdentify:
		return a.tr.T("state." + string(a.state))
	}
	return ""
}

// stepBrightness moves the screen brightness a fraction k of the way to
// its target, so it brightens smoothly as a face approaches.
func (a *App) stepBrightness(k float32) {
	if d := a.target - a.presence; d > 0.005 || d < -0.005 {
		a.presence += k * d
	} else {
		a.presence = a.target
	}
	a.main.setBrightness(a.presence)
}

// render puts the current screen in the root and updates its contents.
func (a *App) render() {
	s := a.Screen()
	switch s {
	case ScreenMain:
		a.main.update(a)
	case ScreenConfirm:
		name := ""
		if a.candidate != nil {
			name = a.candidate.Name
		}
		a.confirm.setName(a.tr, name)
	case ScreenSecond:
		a.second.setCode(a.code)
	case ScreenWelcome:
		a.welcome.setWelcome(a.tr, a.result, a.candidate)
	case ScreenNotFound:
		help := a.tr.T("notfound.help")
		if a.result != nil && a.result.Outcome == kiosk.OutcomeCodeRejected {
			help = a.tr.T("notfound.code_rejected")
		}
		a.notFound.detail.SetText(help)
	case ScreenError:
		code, text := a.failureText()
		a.errScr.setError(a.tr, text)
		a.camera.show(a, code)
	case ScreenSettings:
		a.settings.oval.SetState(a.guideState())
	}
	obj := a.screens[s]
	if len(a.root.Objects) != 1 || a.root.Objects[0] != obj {
		a.unfocus()
		a.root.Objects = []fyne.CanvasObject{obj}
		a.root.Refresh()
	}
	a.updateOverlays()
}

// RunPreview polls opts.Frames at opts.FPS and shows each frame mirrored
// until ctx ends. The latest frame wins: while one is waiting for the UI
// goroutine, newer ones are skipped instead of queued.
func (a *App) RunPreview(ctx context.Context) {
	if a.opts.Frames == nil {
		return
	}
	tick := time.NewTicker(time.Second / time.Duration(a.opts.FPS))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.PreviewFrame()
	}
}

// PreviewFrame shows one frame from opts.Frames now (RunPreview's step,
// exposed for tests and benchmarks). Safe from any goroutine.
func (a *App) PreviewFrame() {
	if a.framePending.Load() {
		return
	}
	src := a.opts.Frames()
	if src == nil {
		return
	}
	// Two buffers: the one shown stays untouched while the next is filled.
	a.flip ^= 1
	dst := mirrorInto(a.mirror[a.flip], src)
	a.mirror[a.flip] = dst
	a.framePending.Store(true)
	fyne.Do(func() {
		a.framePending.Store(false)
		a.stepBrightness(0.15)
		a.main.setFrame(dst)
		a.staffFrame(dst)
		a.settingsFrame(dst)
		if sz := fyne.NewSize(float32(dst.Rect.Dx()), float32(dst.Rect.Dy())); sz != a.frameSize {
			a.frameSize = sz
			a.updateOverlays()
		}
		a.framesShown.Add(1)
	})
}

// FramesShown counts preview frames put on the screen so far, to measure
// the preview's frame rate. Safe from any goroutine.
func (a *App) FramesShown() uint64 { return a.framesShown.Load() }

// mirrorInto writes src flipped left-right into dst (reallocated when the
// size changed), so the preview behaves like a mirror.
func mirrorInto(dst *image.RGBA, src image.Image) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	if s, ok := src.(*image.RGBA); ok {
		for y := 0; y < h; y++ {
			srow := s.Pix[(y+b.Min.Y-s.Rect.Min.Y)*s.Stride+(b.Min.X-s.Rect.Min.X)*4:]
			drow := dst.Pix[y*dst.Stride:]
			for x := 0; x < w; x++ {
				copy(drow[4*(w-1-x):4*(w-x)], srow[4*x:4*x+4])
			}
		}
		return dst
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dst.Set(w-1-x, y, src.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}
