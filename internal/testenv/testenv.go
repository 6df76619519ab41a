// Package testenv finds what tests need from outside the repository: the
// verified models and the labelled dev faces (../shared/data/faces). When CI
// is set, anything missing fails the test instead of skipping it, so a green
// CI run always means the real models ran on real faces.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/facecheck/facecheck/models"
)

// repoRoot is the module root, found from this file's location.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// Models returns the verified model store.
func Models(tb testing.TB) *models.Store {
	tb.Helper()
	st, err := models.Open("")
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.Verify(); err != nil {
		missing(tb, "models not available: %v", err)
	}
	return st
}

// Faces returns the labelled faces directory (with labels.csv and images/).
func Faces(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FACECHECK_FACES")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "..", "shared", "data", "faces")
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.csv")); err != nil {
		missing(tb, "labelled faces not found (set FACECHECK_FACES): %v", err)
	}
	return dir
}
