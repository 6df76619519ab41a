package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// fakeFetch answers the models screen's Fetch with the next error, after
// writing a progress line and reporting half the bytes, and counts the
// calls.
type fakeFetch struct {
	errs   []error
	calls  int
	starts int
	quits  int
}

func (f *fakeFetch) fetch(ctx context.Context, log io.Writer, progress func(done, total int64)) error {
	f.calls++
	fmt.Fprintf(log, "models: downloading faceplugin-face-recognition-js@0.0.1\n")
	progress(20<<20, 40<<20)
	if len(f.errs) == 0 {
		fmt.Fprint(log, "models: 6 verified in /tmp/m") // no newline: flushed at the end
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func newModelsHarness(t *testing.T, f *fakeFetch, startErr error, problems ...ModelProblem) (*ModelsScreen, keyboard) {
	t.Helper()
	fa := test.NewTempApp(t)
	m, err := NewModelsScreen(fa, ModelsOptions{
		Font:     theme.DefaultTextFont(),
		Dir:      "/tmp/m",
		Problems: problems,
		Fetch:    f.fetch,
		Start: func() error {
			f.starts++
			return startErr
		},
		Quit: func() { f.quits++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.inline = true
	win := test.NewTempWindow(t, m.Content())
	win.Resize(fyne.NewSize(1280, 800))
	m.BindKeys(win.Canvas())
	return m, keyboard{t: t, c: win.Canvas()}
}

// The screen names the files and what is wrong with them, in plain words.
func TestModelsScreenNamesFiles(t *testing.T) {
	m, _ := newModelsHarness(t, &fakeFetch{}, nil,
		ModelProblem{File: "fr_detect.onnx"}, ModelProblem{File: "fr_eye.onnx"}, ModelProblem{File: "fr_pose.onnx", Damaged: true})
	if got := m.title.Text; got != "The face models are missing" {
		t.Errorf("title = %q", got)
	}
	for _, want := range []string{"Missing: fr_detect.onnx, fr_eye.onnx", "Damaged (wrong size or contents): fr_pose.onnx"} {
		if !strings.Contains(m.files.Text, want) {
			t.Errorf("files = %q, want %q in it", m.files.Text, want)
		}
	}
	if !strings.Contains(m.todo.Text, "facecheck models fetch --dir /tmp/m") || !strings.Contains(m.todo.Text, "belong in /tmp/m") {
		t.Errorf("what to do does not name the directory: %q", m.todo.Text)
	}
	if m.download.Text != "Download the models now" || m.download.Disabled() {
		t.Errorf("download button %q (disabled %v)", m.download.Text, m.download.Disabled())
	}

	damaged, _ := newModelsHarness(t, &fakeFetch{}, nil, ModelProblem{File: "fr_pose.onnx", Damaged: true})
	if got := damaged.title.Text; got != "The face models are damaged" {
		t.Errorf("only damaged files: title = %q", got)
	}
}

// Download fetches, shows the progress lines and starts the kiosk.
func TestModelsScreenDownloadStarts(t *testing.T) {
	f := &fakeFetch{}
	m, _ := newModelsHarness(t, f, nil, ModelProblem{File: "fr_detect.onnx"})
	tapButtonLabelled(t, m.Content(), "Download the models now")
	if f.calls != 1 || f.starts != 1 {
		t.Fatalf("fetch %d, start %d times; want 1 and 1", f.calls, f.starts)
	}
	if m.phase != modelsStarted {
		t.Errorf("phase = %v, want started", m.phase)
	}
	if !m.log.Visible() || !strings.Contains(m.log.Text, "downloading") || !strings.Contains(m.log.Text, "6 verified") {
		t.Errorf("progress lines = %q", m.log.Text)
	}
	if !m.bar.Visible() || m.bar.Value != 0.5 {
		t.Errorf("progress bar visible %v at %v, want shown at 0.5", m.bar.Visible(), m.bar.Value)
	}
	if got := m.status.Text; got != "The models are downloaded and checked. Starting the kiosk…" {
		t.Errorf("status = %q", got)
	}
	// Pressing again does nothing once the kiosk has the window.
	m.Download()
	if f.calls != 1 {
		t.Errorf("fetched again after the start")
	}
}

// A failed download says why in plain words, keeps the error for IT, and
// Try again (the button or Enter) fetches again and then starts.
func TestModelsScreenFailureTryAgain(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&FetchFailed{Reason: "network", Err: errors.New("fetch models: GET x: connection refused")},
			"Cannot reach the internet to download the models."},
		{&FetchFailed{Reason: "damaged", Err: errors.New("model file has the wrong sha256")},
			"The downloaded models failed the safety check"},
		{&FetchFailed{Reason: "disk", Err: errors.New("permission denied")},
			"The models cannot be saved in /tmp/m"},
		{errors.New("something odd"), "The download did not work. Press Try again"},
	} {
		f := &fakeFetch{errs: []error{c.err}}
		m, kb := newModelsHarness(t, f, nil, ModelProblem{File: "fr_detect.onnx"})
		kb.press(fyne.KeyReturn) // Enter = download
		if f.calls != 1 || f.starts != 0 {
			t.Fatalf("%v: fetch %d, start %d times; want 1 and 0", c.err, f.calls, f.starts)
		}
		if !strings.HasPrefix(m.status.Text, c.want) || !m.status.Visible() {
			t.Errorf("%v: status %q, want %q…", c.err, m.status.Text, c.want)
		}
		if !strings.Contains(m.log.Text, c.err.Error()) {
			t.Errorf("%v: the error is not in the lines below: %q", c.err, m.log.Text)
		}
		if m.download.Text != "Try again" || m.download.Disabled() {
			t.Errorf("%v: button %q (disabled %v), want Try again", c.err, m.download.Text, m.download.Disabled())
		}
		tapButtonLabelled(t, m.Content(), "Try again")
		if f.calls != 2 || f.starts != 1 || m.phase != modelsStarted {
			t.Errorf("%v: after Try again fetch %d, start %d times, phase %v", c.err, f.calls, f.starts, m.phase)
		}
	}
}

// The models are fine but the kiosk does not start: say so, and Try again.
func TestModelsScreenStartFails(t *testing.T) {
	f := &fakeFetch{}
	m, kb := newModelsHarness(t, f, errors.New("open kiosk.db: permission denied"))
	kb.press(fyne.KeyEnter)
	// The error's code in words; its own text is for the log only.
	want := "The models are ready, but the kiosk could not start: Something went wrong on this kiosk; the details are in its log (code: internal)"
	if m.status.Text != want {
		t.Errorf("status = %q, want %q", m.status.Text, want)
	}
	if m.download.Text != "Try again" || m.phase != modelsFailed {
		t.Errorf("button %q, phase %v", m.download.Text, m.phase)
	}
	kb.press(fyne.KeyReturn)
	if f.calls != 2 || f.starts != 2 {
		t.Errorf("Enter did not try again: fetch %d, start %d", f.calls, f.starts)
	}
}

// Escape and the Quit button quit; a press while a download runs is
// ignored.
func TestModelsScreenQuitAndBusy(t *testing.T) {
	f := &fakeFetch{}
	m, kb := newModelsHarness(t, f, nil)
	kb.press(fyne.KeyEscape)
	tapButtonLabelled(t, m.Content(), "Quit")
	if f.quits != 2 {
		t.Errorf("quits = %d, want 2 (Escape, button)", f.quits)
	}
	if f.calls != 0 {
		t.Error("quitting fetched")
	}
	m.setPhase(modelsFetching, "", 0)
	kb.press(fyne.KeyReturn)
	if f.calls != 0 || !m.download.Disabled() {
		t.Errorf("Enter during a download fetched again (%d) or the button is enabled", f.calls)
	}
}

// Japanese and Korean have the screen too.
func TestModelsScreenLanguages(t *testing.T) {
	for lang, want := range map[string]string{"ja": "顔認識モデルがありません", "ko": "얼굴 인식 모델이 없습니다"} {
		m, err := NewModelsScreen(test.NewTempApp(t), ModelsOptions{Language: lang, Font: theme.DefaultTextFont(), Dir: "/tmp/m",
			Problems: []ModelProblem{{File: "fr_detect.onnx"}}})
		if err != nil {
			t.Fatal(err)
		}
		if m.title.Text != want || !strings.Contains(m.files.Text, "fr_detect.onnx") {
			t.Errorf("%s: title %q, files %q", lang, m.title.Text, m.files.Text)
		}
	}
}
