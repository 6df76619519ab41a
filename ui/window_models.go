package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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
// of the manifest's package, sha256 checked, progress a line a quarter),
// ended by the window's ctx too, with its failure given a reason the
// screen explains in words.
func fetchModels(ctx context.Context, st *models.Store) func(context.Context, io.Writer) error {
	return func(uctx context.Context, log io.Writer) error {
		fctx, cancel := context.WithCancel(uctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		// What npm says goes to the screen and is kept to tell a network
		// failure from others (Fetch's error has only npm's stdout). Fetch
		// writes it from one goroutine at a time (exec waits for its copy).
		var out bytes.Buffer
		screen := &npmLines{w: log}
		st.Progress = models.ProgressLine(screen, false) // a line a quarter
		err := st.Fetch(fctx, io.MultiWriter(screen, &out))
		screen.Flush()
		if err != nil {
			return &FetchFailed{Reason: fetchReason(err, out.String()), Err: err}
		}
		return nil
	}
}

// npmNoise matches the lines of an npm error that only fill the screen:
// blank ones, and the indented stack frames and fields of the error
// object (the code, the request that failed and npm's advice stay).
var npmNoise = regexp.MustCompile(`^npm (error|ERR!)(\s*$|\s{2,}|\s*\}\s*$)`)

// npmLines passes on the lines written to it except npmNoise.
type npmLines struct {
	w   io.Writer
	buf []byte
}

func (n *npmLines) Write(p []byte) (int, error) {
	n.buf = append(n.buf, p...)
	for {
		i := bytes.IndexByte(n.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := n.buf[:i+1]
		n.buf = n.buf[i+1:]
		if !npmNoise.Match(bytes.TrimRight(line, "\r\n")) {
			if _, err := n.w.Write(line); err != nil {
				return len(p), err
			}
		}
	}
}

// Flush passes on a last line without a newline.
func (n *npmLines) Flush() {
	if len(n.buf) > 0 && !npmNoise.Match(n.buf) {
		n.w.Write(append(n.buf, '\n'))
	}
	n.buf = nil
}

// npmNetworkErrors are the error codes npm prints when the registry
// cannot be reached (node's system errors; "network" starts npm's own
// explanation lines).
var npmNetworkErrors = []string{"enotfound", "eai_again", "econnrefused", "econnreset", "etimedout",
	"enetunreach", "ehostunreach", "network"}

// fetchReason is the ui.FetchFailed reason for a failed Fetch, from its
// error and what npm printed.
func fetchReason(err error, output string) string {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "npm_missing"
	case errors.Is(err, models.ErrNetwork):
		return "network"
	case modelsProblem(err):
		return "damaged"
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS):
		return "disk"
	}
	low := strings.ToLower(output + "\n" + err.Error())
	for _, code := range npmNetworkErrors {
		if strings.Contains(low, code) {
			return "network"
		}
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
	how, err := captureWindow(win, path)
	if err != nil {
		return fmt.Errorf("ui: screenshot 0-models-missing: %w", err)
	}
	fmt.Fprintf(stdout, "screenshot 0-models-missing %s (%s)\n", path, how)
	return nil
}
