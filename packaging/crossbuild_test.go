package packaging

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestCrossBuild builds every package of the module that needs no cgo
// (those `CGO_ENABLED=0 go list` finds buildable: the server, its store,
// the kiosk's storage, models, api, calibrate, the camera listing, ...) for Windows and macOS,
// and vets those whose tests need no cgo either: nothing Linux-only may
// sit outside a build-tagged file. The cgo packages (engine, kiosk, ui and
// the commands, through gocv and Fyne) need a C toolchain for the target;
// packaging/README.md says how far that is proven.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the module for two more systems")
	}
	list := func(args ...string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list", "-e"}, args...)...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	build := list("-f", "{{if not .Error}}{{if not .DepsErrors}}{{.ImportPath}}{{end}}{{end}}", "./...")
	// vet checks a package with its tests: only where none of its test
	// variants (internal and _test package) has an error.
	var vet, bad []string
	for _, line := range list("-test", "-f", "{{if .ForTest}}{{.ForTest}}={{if or .Error .DepsErrors}}bad{{else}}ok{{end}}{{end}}", "./...") {
		p, state, _ := strings.Cut(line, "=")
		if state == "bad" {
			bad = append(bad, p)
		} else if !contains(vet, p) {
			vet = append(vet, p)
		}
	}
	vet = slices.DeleteFunc(vet, func(p string) bool { return contains(bad, p) })
	const mod = "github.com/facecheck/facecheck"
	for _, want := range []string{"/server", "/server/store", "/storage", "/models", "/api", "/internal/version", "/camera"} {
		if !contains(build, mod+want) {
			t.Errorf("%s does not build without cgo any more (or go list failed): %v", mod+want, build)
		}
	}
	// The camera listing's Windows (SetupAPI) and macOS (system_profiler)
	// code and its tests with fake enumerators are vetted for those systems.
	if !contains(vet, mod+"/camera") {
		t.Errorf("%s/camera is not vetted without cgo any more: %v", mod, vet)
	}
	t.Logf("without cgo: build %d packages, vet %d", len(build), len(vet))
	for _, goos := range []string{"windows", "darwin"} {
		for _, step := range [][]string{append([]string{"build"}, build...), append([]string{"vet"}, vet...)} {
			cmd := exec.Command("go", step...)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH=amd64")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s go %s: %v\n%s", goos, step[0], err, out)
			}
		}
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }
