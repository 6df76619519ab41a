package ui

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoFyneLocaleError runs this test binary again under the locales of
// containers, CI, services and bare terminals (LANG=C, C.UTF-8, POSIX)
// and fails when Fyne logs that it cannot parse the locale: ui's import
// of syslocale must set one first.
func TestNoFyneLocaleError(t *testing.T) {
	if os.Getenv("FACECHECK_LOCALE_CHILD") != "" {
		return // the child: loading the packages is the test
	}
	for _, lang := range []string{"C", "C.UTF-8", "POSIX"} {
		t.Run(lang, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestNoFyneLocaleError$", "-test.count=1")
			var env []string
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); k != "LC_ALL" && k != "LC_MESSAGES" && k != "LANG" && k != "LANGUAGE" {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, "LANG="+lang, "FACECHECK_LOCALE_CHILD=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if strings.Contains(string(out), "locale") {
				t.Errorf("under LANG=%s the kiosk logs:\n%s", lang, out)
			}
		})
	}
}
