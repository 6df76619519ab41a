package ui

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"github.com/facecheck/facecheck/models"
)

// modelsProblem reports whether err is a model file missing or failing
// verification: what the models screen can fix by downloading them.
func modelsProblem(err error) bool {
	return errors.Is(err, models.ErrMissing) || errors.Is(err, models.ErrTruncated) || errors.Is(err, models.ErrHash)
}

// showModels opens the window on the models screen for err (from
// open): it downloads the models as `facecheck models fetch` does and
// then finishes the start-up in the same window. With --fetch-models the
// download starts at once; otherwise, with --shots, it saves the screen as
// 0-models-missing.png and closes the window, downloading nothing.
func (w *window) showModels(err error) error {
	st, oerr := models.Open(w.o.Station.Models)
	if oerr != nil {
		return oerr
	}
	fmt.Fprintf(w.o.Stderr, "ui: %v; the window asks to download them\n", err)
	m, err := NewModelsScreen(w.fa, ModelsOptions{
		Language: w.o.Language,
		Dir:      st.Dir,
		Problems: modelProblems(st),
		Fetch:    fetchModels(w.ctx, st),
		Start:    w.startAfterFetch,
	})
	if err != nil {
		return err
	}
	w.win.SetContent(m.Content())
	m.BindKeys(w.win.Canvas())
	if w.o.FetchNow {
		// As if the button were pressed, once the window runs; the
		// screen still shows the progress and any failure.
		fyne.Do(m.Download)
		return nil
	}
	if w.o.Shots != "" {
		go func() {
			w.shotErr = shootModels(w.ctx, w.o.Shots, w.win, w.o.Stdout)
			w.cancel() // closes the window
		}()
	}
	return nil
}

// startAfterFetch is the models screen's Start: the rest of a normal
// start-up, off the UI goroutine but for attach.
func (w *window) startAfterFetch() error {
	if err := w.open(); err != nil {
		return err
	}
	var err error
	fyne.DoAndWait(func() { err = w.attach() })
	if err != nil {
		w.mu.Lock()
		if w.station != nil { // so Try again opens afresh
			w.station.Close()
			w.station = nil
		}
		w.mu.Unlock()
		return err
	}
	w.run()
	return nil
}

// modelProblems lists the model files that fail verification, missing or
// damaged (wrong size or sha256), for the models screen to name.
func modelProblems(st *models.Store) []ModelProblem {
	var out []ModelProblem
	for _, m := range st.Manifest.Models {
		if _, err := st.Path(m.Name); err != nil {
			out = append(out, ModelProblem{File: m.File, Damaged: !errors.Is(err, models.ErrMissing)})
		}
	}
	return out
}

// fetchModels is the models screen's Fetch: models.Store.Fetch (download
// of the manifest's package, sha256 checked), ended by the window's ctx
// too, with its bytes reported to progress (the screen's bar) and a line
// a quarter to log, and its failure given a reason the screen explains in
// words.
func fetchModels(ctx context.Context, st *models.Store) func(context.Context, io.Writer, func(done, total int64)) error {
	return func(uctx context.Context, log io.Writer, progress func(done, total int64)) error {
		fctx, cancel := context.WithCancel(uctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		line := models.ProgressLine(log, false) // a line a quarter
		st.Progress = func(done, total int64) {
			line(done, total)
			if progress != nil {
				progress(done, total)
			}
		}
		if err := st.Fetch(fctx, log); err != nil {
			return &FetchFailed{Reason: fetchReason(err), Err: err}
		}
		return nil
	}
}

// fetchReason is the ui.FetchFailed reason for a failed Fetch.
func fetchReason(err error) string {
	switch {
	case errors.Is(err, models.ErrNetwork):
		return "network"
	case modelsProblem(err):
		return "damaged"
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS):
		return "disk"
	}
	return ""
}

// shootModels is --shots on the models screen: one screenshot once the
// window is up.
func shootModels(ctx context.Context, dir string, win fyne.Window, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("ui: screenshots: closed before the models screen showed")
	case <-time.After(2 * time.Second): // window mapped and drawn
	}
	path := filepath.Join(dir, "0-models-missing.png")
	// A loaded machine may map the window before it is drawn: shoot again,
	// a second apart, until the picture is not one flat colour.
	for try := 1; ; try++ {
		how, err := captureWindow(win, path)
		if err != nil {
			return fmt.Errorf("ui: screenshot 0-models-missing: %w", err)
		}
		if try == 15 || !flatPNG(path) {
			fmt.Fprintf(stdout, "screenshot 0-models-missing %s (%s)\n", path, how)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ui: screenshots: closed before the models screen was drawn")
		case <-time.After(time.Second):
		}
	}
}

// flatPNG reports whether the PNG at path is one colour (or unreadable):
// a window not drawn yet.
func flatPNG(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	img, err := png.Decode(f)
	return err != nil || blank(img)
}
