package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/internal/testenv"
)

// `facecheck-server models fetch` downloads the models from a registry on
// 127.0.0.1 into --dir, then `models verify` passes; verify of an empty
// directory fails with 1; a wrong subcommand is a usage error.
func TestRunModels(t *testing.T) {
	testenv.NPMRegistry(t, testenv.Models(t), "")
	dir := filepath.Join(t.TempDir(), "models")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"verify", "--dir", dir}, 1, ""},
		{[]string{"fetch", "--dir", dir}, 0, "models: 6 verified in " + dir},
		{[]string{"verify", "--dir", dir}, 0, "models: all 6 verified in " + dir},
		{[]string{"pull"}, 2, ""},
	} {
		var stdout, stderr strings.Builder
		if code := runModels(t.Context(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stdout.String(), tc.stdout) {
			t.Errorf("models %v: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout)
		}
	}
}
