package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/models"
)

// The models screen names each file that fails verification, missing or
// damaged, and treats exactly those errors as its own.
func TestModelProblems(t *testing.T) {
	dir := t.TempDir()
	st, err := models.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pose, ok := st.Manifest.Lookup("pose")
	if !ok {
		t.Fatal("no pose model in the manifest")
	}
	if err := os.WriteFile(filepath.Join(dir, pose.File), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := modelProblems(st)
	if len(got) != len(st.Manifest.Models) {
		t.Fatalf("%d problems, want one per model (%d): %v", len(got), len(st.Manifest.Models), got)
	}
	for _, p := range got {
		if p.Damaged != (p.File == pose.File) {
			t.Errorf("%s: damaged = %v", p.File, p.Damaged)
		}
	}
	_, perr := st.Path("pose")
	_, merr := st.Path("detect")
	for _, err := range []error{perr, merr, fmt.Errorf("load model detect: %w", merr)} {
		if !modelsProblem(err) {
			t.Errorf("not a models problem: %v", err)
		}
	}
	if modelsProblem(errors.New("open kiosk.db: permission denied")) {
		t.Error("a database error taken for a models problem")
	}
}

// A failed download gets the reason the screen explains: from the real
// Fetch pointed at a registry that refuses connections (127.0.0.1:9,
// nothing leaves the machine).
func TestFetchReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("fetch models: after extraction: %w", models.ErrHash), "damaged"},
		{fmt.Errorf("create model dir: %w", &fs.PathError{Op: "mkdir", Path: "/m", Err: syscall.EACCES}), "disk"},
		{fmt.Errorf("write /m/x: %w", &fs.PathError{Op: "write", Path: "/m/x", Err: syscall.ENOSPC}), "disk"},
		{fmt.Errorf("fetch models: GET x: %w: connection refused", models.ErrNetwork), "network"},
		{errors.New("fetch models: GET x: 404 Not Found"), ""},
	} {
		if got := fetchReason(c.err); got != c.want {
			t.Errorf("%v: reason %q, want %q", c.err, got, c.want)
		}
	}

	fetch := func(t *testing.T) *FetchFailed {
		t.Helper()
		st, err := models.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = fetchModels(context.Background(), st)(ctx, &log, nil)
		var ff *FetchFailed
		if !errors.As(err, &ff) {
			t.Fatalf("fetch: %v, want a *FetchFailed (log %q)", err, log.String())
		}
		t.Logf("reason %q: %v\nlog:\n%s", ff.Reason, err, log.String())
		return ff
	}
	t.Run("no network", func(t *testing.T) {
		t.Setenv(models.EnvURL, "http://127.0.0.1:9/") // refused: nothing leaves the machine
		if ff := fetch(t); ff.Reason != "network" {
			t.Errorf("reason %q, want network", ff.Reason)
		}
	})
}

// The window's download, for real: the models screen's Download runs
// fetchModels (the package's tarball from a registry on 127.0.0.1,
// extraction, sha256) into an empty directory, then its Start,
// which here loads the engine from the fetched files as the kiosk's
// start-up does.
func TestModelsScreenDownloadFromRegistry(t *testing.T) {
	testenv.NPMRegistry(t, testenv.Models(t), "")
	st, err := models.Open(filepath.Join(t.TempDir(), "models"))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	fa := test.NewTempApp(t)
	m, err := NewModelsScreen(fa, ModelsOptions{
		Dir:      st.Dir,
		Problems: modelProblems(st),
		Fetch:    fetchModels(t.Context(), st),
		Start: func() error {
			e, err := engine.New(st, engine.DefaultConfig())
			if err == nil {
				e.Close()
			}
			started <- err
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	test.NewTempWindow(t, m.Content())
	m.Download()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("engine on the downloaded models: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the download did not reach the start in 2 minutes")
	}
	if err := st.Verify(); err != nil {
		t.Fatal(err)
	}
	if problems := modelProblems(st); len(problems) != 0 {
		t.Errorf("problems after the download: %v", problems)
	}
	var shown bool
	var value float64
	fyne.DoAndWait(func() { shown, value = m.bar.Visible(), m.bar.Value })
	if !shown || value != 1 {
		t.Errorf("progress bar shown %v at %v after the download, want full", shown, value)
	}
}
