package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/i18n"
)

// The models screen (issue 6, errors a person can act on): a kiosk
// started without its face models, or with damaged ones, opens on this
// screen instead of exiting with a terminal message nobody at a venue
// sees. It says which files are wrong, what to do, and downloads them
// with one button; the kiosk then starts in the same window. Like the
// rest of the UI it holds no logic of its own: the download and the
// start-up are functions from the caller.

// ModelProblem is one model file that failed verification.
type ModelProblem struct {
	File    string // file name in the model directory
	Damaged bool   // present but the wrong size or sha256; false: missing
}

// FetchFailed says why downloading the models did not work, as a reason
// code the models screen explains in words: "network" (the registry
// cannot be reached), "damaged" (what arrived failed the sha256 check), "disk" (the
// model directory cannot be written); any other reason gets a general
// sentence. Err is shown under the explanation for whoever fixes it.
type FetchFailed struct {
	Reason string
	Err    error
}

func (e *FetchFailed) Error() string { return e.Err.Error() }
func (e *FetchFailed) Unwrap() error { return e.Err }

// ModelsOptions configure the models screen.
type ModelsOptions struct {
	Language string        // "en" (default), "ja", "ko"
	Font     fyne.Resource // default: LoadFont(Language), else Fyne's font
	// Dir is the model directory, named on the screen (where the files
	// belong, and the command IT can run instead).
	Dir      string
	Problems []ModelProblem
	// Fetch downloads and verifies the models, writing progress lines to
	// log and the bytes so far to progress (the screen's bar; total 0 when
	// unknown). It runs off the UI goroutine; ctx ends when the person
	// quits. Its error is explained in plain words (see FetchFailed).
	Fetch func(ctx context.Context, log io.Writer, progress func(done, total int64)) error
	// Start continues the kiosk's start-up once Fetch succeeded, putting
	// the kiosk on the window itself. It runs off the UI goroutine; its
	// error is shown with Try again.
	Start func() error
	// Quit closes the window; default: quits the Fyne app.
	Quit func()
}

// modelsPhase is where the models screen is.
type modelsPhase int

const (
	modelsIdle     modelsPhase = iota // problems shown, nothing tried yet
	modelsFetching                    // Fetch running
	modelsStarting                    // Fetch done, Start running
	modelsFailed                      // Fetch or Start failed: Try again
	modelsStarted                     // the kiosk has taken over the window
)

// maxLogLines is how many of the download's last progress lines show:
// enough for IT to see what went wrong, few enough that the screen fits
// 1280x800 with the failure explained above them.
const maxLogLines = 4

// ModelsScreen is the "face models are missing" screen. Build it with
// NewModelsScreen, put Content in the window and BindKeys on its canvas.
type ModelsScreen struct {
	fa   fyne.App
	opts ModelsOptions
	tr   *Translator
	root *fyne.Container

	title, files, todo *widget.Label
	status             *widget.Label // what is happening, or what went wrong
	log                *widget.Label // the download's last lines
	bar                *widget.ProgressBar
	download, quit     *keyButton

	phase  modelsPhase
	lines  []string
	cancel context.CancelFunc // of the running Fetch
	inline bool               // tests: run Fetch and Start on the UI goroutine
}

// NewModelsScreen builds the screen in the kiosk theme (it sets fa's
// theme, as New does). It returns an error only for a language without
// translations.
func NewModelsScreen(fa fyne.App, opts ModelsOptions) (*ModelsScreen, error) {
	if opts.Language == "" {
		opts.Language = i18n.Default
	}
	tr, err := NewTranslator(opts.Language)
	if err != nil {
		return nil, err
	}
	applyTheme(fa, opts.Font, tr.Lang())
	m := &ModelsScreen{fa: fa, opts: opts, tr: tr}
	m.build()
	return m, nil
}

func (m *ModelsScreen) build() {
	tr := m.tr
	var missing, damaged []string
	for _, p := range m.opts.Problems {
		if p.Damaged {
			damaged = append(damaged, p.File)
		} else {
			missing = append(missing, p.File)
		}
	}
	title := tr.T("models.title_missing")
	if len(damaged) > 0 && len(missing) == 0 {
		title = tr.T("models.title_damaged")
	}
	var files []string
	if len(missing) > 0 {
		files = append(files, tr.T("models.missing", strings.Join(missing, ", ")))
	}
	if len(damaged) > 0 {
		files = append(files, tr.T("models.damaged", strings.Join(damaged, ", ")))
	}
	m.title = wrapLabel(title, theme.SizeNameHeadingText, widget.MediumImportance)
	m.files = wrapLabel(strings.Join(files, "\n"), theme.SizeNameText, widget.WarningImportance)
	if len(files) == 0 {
		m.files.Hide()
	}
	// What the files are for and what to do, in one label: the screen must
	// fit 1280x800 with a failure and the download's last lines shown too.
	m.todo = wrapLabel(tr.T("models.explain", m.opts.Dir)+"\n"+tr.T("models.todo", m.opts.Dir),
		theme.SizeNameText, widget.MediumImportance)
	m.download = newKeyButton(m, tr.T("models.download"), theme.DownloadIcon(), m.Download)
	m.download.Importance = widget.HighImportance
	m.quit = newKeyButton(m, tr.T("models.quit"), theme.CancelIcon(), m.Quit)
	buttons := container.NewHBox(bigButton(m.download, bigButtonW+220, 100), bigButton(m.quit, 220, 100))
	m.status = wrapLabel("", theme.SizeNameSubHeadingText, widget.MediumImportance)
	m.status.Hide()
	m.log = widget.NewLabel("")
	m.log.TextStyle = fyne.TextStyle{Monospace: true}
	m.log.SizeName = theme.SizeNameCaptionText
	m.log.Truncation = fyne.TextTruncateEllipsis // one screen line each
	m.log.Hide()
	m.bar = widget.NewProgressBar()
	m.bar.Hide()
	bar := canvas.NewRectangle(colError)
	bar.SetMinSize(fyne.NewSize(0, 24))
	body := container.NewVBox(layout.NewSpacer(), m.title, m.files, m.todo,
		container.NewCenter(buttons), m.status, m.bar, m.log, layout.NewSpacer())
	m.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewBorder(bar, nil, nil, nil, container.NewPadded(body)))
}

// Content is the root object to set on the window.
func (m *ModelsScreen) Content() fyne.CanvasObject { return m.root }

// BindKeys installs Enter (download, try again) and Escape (quit) on the
// window's canvas. The kiosk's own BindKeys replaces them once it starts.
func (m *ModelsScreen) BindKeys(c fyne.Canvas) {
	c.SetOnTypedKey(m.typedKey)
	c.SetOnTypedRune(m.typedRune)
}

func (m *ModelsScreen) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		m.Download()
	case fyne.KeyEscape:
		m.Quit()
	}
}

func (m *ModelsScreen) typedRune(rune) {}

// Download runs Fetch, then Start, off the UI goroutine, showing the
// progress and then the outcome; it is also Try again. It does nothing
// while a download or the start-up is under way. Call it on the UI
// goroutine.
func (m *ModelsScreen) Download() {
	if m.phase == modelsFetching || m.phase == modelsStarting || m.phase == modelsStarted || m.opts.Fetch == nil {
		return
	}
	m.lines = nil
	m.log.SetText("")
	m.log.Hide()
	m.bar.SetValue(0)
	m.bar.Hide()
	m.setPhase(modelsFetching, m.tr.T("models.downloading"), widget.MediumImportance)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	w := &lineWriter{line: func(s string) { fyne.Do(func() { m.addLine(s) }) }}
	fetch, start := m.opts.Fetch, m.opts.Start
	m.async(func() {
		defer cancel()
		err := fetch(ctx, w, func(done, total int64) { fyne.Do(func() { m.setProgress(done, total) }) })
		w.Flush()
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err == nil && start != nil {
			fyne.Do(func() { m.setPhase(modelsStarting, m.tr.T("models.starting"), widget.SuccessImportance) })
			if err = start(); err != nil {
				err = &startFailed{err}
			}
		}
		fyne.Do(func() {
			if err != nil {
				m.fail(err)
				return
			}
			m.phase = modelsStarted
		})
	})
}

// startFailed marks an error of Start (the models are fine).
type startFailed struct{ err error }

func (e *startFailed) Error() string { return e.err.Error() }
func (e *startFailed) Unwrap() error { return e.err }

// Quit stops a download under way and closes the window.
func (m *ModelsScreen) Quit() {
	if m.cancel != nil {
		m.cancel()
	}
	if m.opts.Quit != nil {
		m.opts.Quit()
		return
	}
	m.fa.Quit()
}

// fail says in plain words what went wrong, adds the error itself to the
// lines below, and offers Try again.
func (m *ModelsScreen) fail(err error) {
	var msg string
	var sf *startFailed
	var ff *FetchFailed
	switch {
	case errors.As(err, &sf):
		msg = m.tr.T("models.start_failed", errorText(m.tr, "models: start", sf.err))
	case errors.As(err, &ff) && ff.Reason == "disk":
		msg = m.tr.T("models.fail.disk", m.opts.Dir)
	case errors.As(err, &ff) && (ff.Reason == "network" || ff.Reason == "damaged"):
		msg = m.tr.T("models.fail." + ff.Reason)
	default:
		msg = m.tr.T("models.fail.other")
	}
	if sf == nil {
		for _, l := range strings.Split(err.Error(), "\n") {
			m.addLine(l)
		}
	}
	m.download.SetText(m.tr.T("models.retry"))
	m.download.SetIcon(theme.ViewRefreshIcon())
	m.setPhase(modelsFailed, msg, widget.DangerImportance)
}

// setPhase shows the status line of a phase and enables the download
// button only where pressing it does something.
func (m *ModelsScreen) setPhase(p modelsPhase, status string, imp widget.Importance) {
	m.phase = p
	m.status.Importance = imp
	m.status.SetText(status)
	m.status.Show()
	if p == modelsFetching || p == modelsStarting {
		m.download.Disable()
	} else {
		m.download.Enable()
	}
}

// setProgress shows the download's bytes on the bar; an unknown total
// leaves the bar hidden (the lines still say how much came).
func (m *ModelsScreen) setProgress(done, total int64) {
	if total <= 0 {
		return
	}
	m.bar.SetValue(min(float64(done)/float64(total), 1))
	m.bar.Show()
}

// addLine appends a progress line, keeping the last maxLogLines.
func (m *ModelsScreen) addLine(s string) {
	s = strings.TrimRight(s, "\r ")
	if s == "" {
		return
	}
	m.lines = append(m.lines, s)
	if n := len(m.lines); n > maxLogLines {
		m.lines = m.lines[n-maxLogLines:]
	}
	m.log.SetText(strings.Join(m.lines, "\n"))
	m.log.Show()
}

func (m *ModelsScreen) async(f func()) {
	if m.inline {
		f()
		return
	}
	go f()
}

// lineWriter hands each complete line written to it to line; Fetch may
// write from more than one goroutine.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Flush hands on a last line without a newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
