package main

import (
	"strings"
	"testing"
)

// --version (and `version`) print one line naming the build, without
// opening a window or touching the models.
func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		var stdout, stderr strings.Builder
		if err := run(t.Context(), []string{arg}, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if got := stdout.String(); !strings.HasPrefix(got, "facecheck ") || !strings.Contains(got, "(commit ") || strings.Count(got, "\n") != 1 {
			t.Errorf("%s printed %q", arg, got)
		}
	}
}
