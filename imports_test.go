package facecheck_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsStayLight: the shared rules link into the server and the
// kiosk alike, so they must not pull in OpenCV, Fyne or database/sql.
func TestImportsStayLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/facecheck/facecheck").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list gave %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		// database/sql/driver comes with google/uuid (its Value method)
		// and opens no database.
		if strings.HasPrefix(d, "gocv.io/") || strings.HasPrefix(d, "fyne.io/") || d == "database/sql" {
			t.Errorf("facecheck depends on %s", d)
		}
	}
}
