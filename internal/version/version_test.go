package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name             string
		v, c, d          string
		bi               *debug.BuildInfo
		wantLine, wantSh string
	}{
		{"ldflags win", "1.2.0", "feedfacefeedfacefeed", "2026-12-05T08:00:00Z", vcs,
			"1.2.0 (commit feedfacefeed, built 2026-12-05T08:00:00Z, go1.26.8)", "1.2.0+feedfacefeed"},
		{"source build with vcs", "", "", "", vcs,
			"dev (commit 0123456789ab-dirty, built 2026-12-01T10:00:00Z, go1.26.8)", "dev+0123456789ab-dirty"},
		{"go install of a tag", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.0.0"}},
			"1.0.0 (commit unknown, built unknown, go1.26.8)", "1.0.0"},
		{"nothing known", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8"},
			"dev (commit unknown, built unknown, go1.26.8)", "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := resolve(tc.v, tc.c, tc.d, tc.bi)
			if got := in.String(); got != tc.wantLine {
				t.Errorf("String() = %q, want %q", got, tc.wantLine)
			}
			if got := in.Short(); got != tc.wantSh {
				t.Errorf("Short() = %q, want %q", got, tc.wantSh)
			}
		})
	}
}

// TestLinkerFlags builds a tiny program with the -X flags scripts/package
// passes and checks it prints them: the variable names in the script and
// here cannot drift apart silently.
func TestLinkerFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := t.TempDir()
	main := "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/facecheck/facecheck/internal/version\"\n)\n\nfunc main() { fmt.Println(version.Get()) }\n"
	if err := os.MkdirAll(filepath.Join(dir, "p"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The program lives in this module (internal/ is importable only from
	// inside it), in a temporary directory under the package.
	src, err := os.MkdirTemp(".", "linktest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(src) })
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "p", "v")
	const pkg = "github.com/facecheck/facecheck/internal/version"
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X "+pkg+".version=9.8.7 -X "+pkg+".commit=abcdef0123456789 -X "+pkg+".date=2026-12-05T08:00:00Z", "./"+src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "9.8.7 (commit abcdef012345, built 2026-12-05T08:00:00Z, go") {
		t.Errorf("linked program printed %q", got)
	}
}
