package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpExitsZero runs main in a child process: --help prints a usage
// that names the subcommands (loadtest and models were missing) and exits
// 0 (it was 2); a bad flag still exits 2.
func TestHelpExitsZero(t *testing.T) {
	if args := os.Getenv("FACECHECK_SERVER_MAIN_ARGS"); args != "" {
		os.Args = append([]string{"facecheck-server"}, strings.Fields(args)...)
		main()
		return
	}
	for _, tc := range []struct {
		args string
		code int
		want []string
	}{
		{"--help", 0, []string{"loadtest", "models fetch", "--data"}},
		{"-h", 0, []string{"loadtest"}},
		{"--no-such-flag", 2, []string{"loadtest"}},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelpExitsZero$")
		cmd.Env = append(os.Environ(), "FACECHECK_SERVER_MAIN_ARGS="+tc.args)
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("facecheck-server %s: exit %d, want %d\n%s", tc.args, code, tc.code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("facecheck-server %s: usage lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}
