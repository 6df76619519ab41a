package winetest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/testenv"
)

// TestWine runs packaging/windows/cross-build.sh (the MinGW-w64 build of
// OpenCV and its libraries, cached; facecheck.exe, facecheck-server.exe,
// the zip and the NSIS installer), then in a throwaway Wine prefix:
// installs silently, runs the installed kiosk's --version, `models verify`
// on the models copied into its user cache folder and the headless demo
// (a generated MJPEG AVI of the dev faces; every enrolled person must be
// checked in), opens the window under Xvfb on the demo and checks its
// screenshots, asks the installed server's /healthz, and uninstalls
// silently. Only with FACECHECK_WINE=1; give go test a long -timeout (a
// cold build takes more than an hour on two cores).
func TestWine(t *testing.T) {
	if os.Getenv("FACECHECK_WINE") != "1" {
		t.Skip("set FACECHECK_WINE=1 to cross-build for Windows and run it under Wine")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("cross-builds on linux/amd64 only")
	}
	faces := testenv.Faces(t)
	st := testenv.Models(t)
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}

	var b build
	if !t.Run("build", func(t *testing.T) { b = crossBuild(t, root) }) {
		return
	}
	w := newWine(t)
	exe := `C:\Program Files\facecheck\facecheck.exe`
	ok := t.Run("install", func(t *testing.T) {
		w.run(t, 5*time.Minute, "", nil, b.installer, "/S")
		w.waitAll(t)
		for _, f := range []string{"facecheck.exe", "facecheck-server.exe", "uninstall.exe", "README.txt", `licenses\LICENSE`, `licenses\opencv.copyright`} {
			if _, err := os.Stat(w.unix(`C:\Program Files\facecheck\` + f)); err != nil {
				t.Errorf("not installed: %v", err)
			}
		}
		if _, err := os.Stat(w.unix(`C:\ProgramData\Microsoft\Windows\Start Menu\Programs\facecheck\facecheck.lnk`)); err != nil {
			t.Errorf("no Start-menu entry: %v", err)
		}
		out := w.run(t, time.Minute, "", nil, "reg", "query", uninstallKey, "/v", "DisplayVersion")
		if !strings.Contains(out, b.version) {
			t.Errorf("uninstall entry: %q, want DisplayVersion %s", out, b.version)
		}
	})
	if !ok {
		return
	}
	t.Run("version", func(t *testing.T) {
		out := w.run(t, 2*time.Minute, "", nil, exe, "--version")
		t.Logf("facecheck.exe --version: %s", out)
		if !strings.Contains(out, b.version) {
			t.Errorf("--version says %q, want %s", out, b.version)
		}
	})
	t.Run("models verify", func(t *testing.T) {
		// The default place on Windows: %LocalAppData%\facecheck\models.
		dst := filepath.Join(w.localAppData(t), "facecheck", "models")
		copyDir(t, st.Dir, dst)
		out := w.run(t, 5*time.Minute, "", nil, exe, "models", "verify")
		t.Logf("facecheck.exe models verify:\n%s", out)
		if !strings.Contains(out, `AppData\Local\facecheck\models`) {
			t.Errorf("models verify does not name the Windows cache folder")
		}
	})
	t.Run("demo", func(t *testing.T) {
		work := t.TempDir()
		env := []string{"FACECHECK_FACES=" + winPath(faces), "LANG=en_US.UTF-8"}
		out := w.run(t, 20*time.Minute, work, env, exe, "demo", "--people", "3")
		t.Logf("facecheck.exe demo --people 3:\n%s", out)
		if !regexp.MustCompile(`(?m)^checked in 3 of 3 enrolled people`).MatchString(out) {
			t.Errorf("the demo did not check in its 3 people")
		}
	})
	t.Run("window", func(t *testing.T) { window(t, w, exe, faces) })
	t.Run("server", func(t *testing.T) { server(t, w) })
	t.Run("uninstall", func(t *testing.T) {
		w.run(t, 5*time.Minute, "", nil, `C:\Program Files\facecheck\uninstall.exe`, "/S")
		w.waitAll(t) // the uninstaller runs from a copy in %TEMP% and returns at once
		if _, err := os.Stat(w.unix(`C:\Program Files\facecheck`)); !os.IsNotExist(err) {
			left, _ := os.ReadDir(w.unix(`C:\Program Files\facecheck`))
			t.Errorf("C:\\Program Files\\facecheck is still there (%v): %d entries", err, len(left))
		}
		if _, err := os.Stat(w.unix(`C:\ProgramData\Microsoft\Windows\Start Menu\Programs\facecheck`)); !os.IsNotExist(err) {
			t.Errorf("the Start-menu folder is still there (%v)", err)
		}
		if out, err := w.output(time.Minute, "", nil, "reg", "query", uninstallKey); err == nil {
			t.Errorf("the uninstall entry is still there:\n%s", out)
		}
	})
}

const uninstallKey = `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\facecheck`

// build is what cross-build.sh made.
type build struct {
	version, dir, zip, installer string
}

func crossBuild(t *testing.T, root string) build {
	t.Helper()
	t0 := time.Now()
	cmd := exec.Command("bash", "packaging/windows/cross-build.sh")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stderr, testWriter{t})
	cmd.Stderr = io.MultiWriter(&stderr, testWriter{t})
	if err := cmd.Run(); err != nil {
		t.Fatalf("cross-build.sh: %v", err)
	}
	t.Logf("cross-build.sh: %.0f s", time.Since(t0).Seconds())
	var b build
	for _, m := range regexp.MustCompile(`(?m)^cross-build: (\S+): (\d+) bytes$`).FindAllStringSubmatch(stderr.String(), -1) {
		switch {
		case strings.HasSuffix(m[1], ".zip"):
			b.zip = m[1]
		case strings.HasSuffix(m[1], "-installer.exe"):
			b.installer = m[1]
		}
		t.Logf("%s: %s bytes", filepath.Base(m[1]), m[2])
	}
	if b.zip == "" || b.installer == "" {
		t.Fatal("cross-build.sh named no zip or no installer")
	}
	b.dir = strings.TrimSuffix(b.zip, ".zip")
	name := filepath.Base(b.dir)
	b.version = strings.TrimSuffix(strings.TrimPrefix(name, "facecheck-"), "-windows-amd64")

	zr, err := zip.OpenReader(b.zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	in := map[string]bool{}
	for _, f := range zr.File {
		in[f.Name] = true
	}
	for _, f := range []string{"facecheck.exe", "facecheck-server.exe", "libopencv_core460.dll", "libopencv_dnn460.dll",
		"libstdc++-6.dll", "README.txt", "licenses/LICENSE", "licenses/protobuf.copyright"} {
		if !in[name+"/"+f] {
			t.Errorf("%s has no %s", filepath.Base(b.zip), f)
		}
	}
	return b
}

// wine is a throwaway Wine prefix with the ProcessPrng shim.
type wine struct {
	prefix string
	env    []string
}

func newWine(t *testing.T) *wine {
	t.Helper()
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatalf("wine not found (cross-build.sh installs wine64 and wine): %v", err)
	}
	w := &wine{prefix: t.TempDir()}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DISPLAY=") && !strings.HasPrefix(e, "WINE") {
			w.env = append(w.env, e)
		}
	}
	// No Mono or Gecko download prompts; no debug noise.
	w.env = append(w.env, "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	t.Cleanup(func() {
		cmd := exec.Command("wineserver", "-k")
		cmd.Env = w.env
		_ = cmd.Run() // nothing left to stop is fine
	})
	w.run(t, 5*time.Minute, "", nil, "wineboot", "--init")
	w.waitAll(t)
	// Go's runtime loads ProcessPrng from bcryptprimitives.dll, which
	// Wine 8.0 lacks: a test fixture fills the gap (never shipped).
	dll := filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if _, err := os.Stat(dll); err == nil {
		t.Logf("this Wine has its own bcryptprimitives.dll; no shim")
		return w
	}
	out, err := exec.Command("x86_64-w64-mingw32-gcc", "-O2", "-shared", "-s", "-o", dll,
		"testdata/bcryptprimitives.c", "testdata/bcryptprimitives.def", "-ladvapi32").CombinedOutput()
	if err != nil {
		t.Fatalf("building the ProcessPrng shim: %v\n%s", err, out)
	}
	return w
}

// output runs a program under Wine and returns its stdout and stderr.
func (w *wine) output(timeout time.Duration, dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wine", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, w.env...), env...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out after %s)", err, timeout)
	}
	return string(out), err
}

// run is output that fails the test when the program fails.
func (w *wine) run(t *testing.T, timeout time.Duration, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := w.output(timeout, dir, env, args...)
	if err != nil {
		t.Fatalf("wine %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitAll waits until every process of the prefix has ended.
func (w *wine) waitAll(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wineserver", "-w")
	cmd.Env = w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wineserver -w: %v\n%s", err, out)
	}
}

// unix is where a C:\ path of the prefix is on this machine.
func (w *wine) unix(p string) string {
	p = strings.TrimPrefix(p, `C:\`)
	return filepath.Join(w.prefix, "drive_c", filepath.FromSlash(strings.ReplaceAll(p, `\`, "/")))
}

// localAppData is the prefix user's %LocalAppData% on this machine.
func (w *wine) localAppData(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(w.prefix, "drive_c", "users", "*", "AppData", "Local"))
	for _, d := range dirs {
		if !strings.Contains(d, string(filepath.Separator)+"Public"+string(filepath.Separator)) {
			return d
		}
	}
	t.Fatalf("no user AppData\\Local in %s", w.prefix)
	return ""
}

// winPath is a Linux path as Windows programs under Wine see it (Z: is /).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// window runs the installed kiosk's window on the demo under Xvfb, with
// Noto Sans CJK supplied to Wine, and checks that it found the font, went
// through its screens, and that the window shows in captures of the X
// screen.
func window(t *testing.T, w *wine, exe, faces string) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("no Xvfb")
	}
	const W, H = 1280, 800
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", W, H), "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{wr}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	t.Cleanup(func() { _ = x.Process.Kill(); _ = x.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb gave no display number: %v", err)
	}
	display := ":" + strings.TrimSpace(line)

	// Wine has no CJK font: supply Noto Sans CJK (fonts-noto-cjk) where
	// the kiosk's lookup on Windows finds it, %WINDIR%\Fonts.
	noto, err := os.ReadFile("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
	if err != nil {
		t.Fatalf("no Noto Sans CJK to give Wine (apt-get install fonts-noto-cjk): %v", err)
	}
	if err := os.WriteFile(w.unix(`C:\windows\Fonts\NotoSansCJK-Regular.ttc`), noto, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(w.unix(`C:\windows\Fonts\NotoSansCJK-Regular.ttc`))

	shots := filepath.Join(t.TempDir(), "shots")
	if a := os.Getenv("FACECHECK_ARTIFACTS"); a != "" {
		shots = filepath.Join(a, "wine")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Fyne's canvas capture (--shots) reads back white under Wine, while
	// the window draws: the screen is photographed from the X side too,
	// every two seconds while the demo runs.
	stop := make(chan struct{})
	captured := make(chan []string, 1)
	go func() {
		var paths []string
		defer func() { captured <- paths }()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
			path := filepath.Join(shots, fmt.Sprintf("x-%03d.png", i))
			cmd := exec.Command("sh", "-c", `xwd -root -silent -display "$0" | convert xwd:- "$1"`, display, path)
			if err := cmd.Run(); err == nil {
				paths = append(paths, path)
			}
		}
	}()
	env := []string{"DISPLAY=" + display, "FACECHECK_FACES=" + winPath(faces), "FYNE_SCALE=1", "LANG=en_US.UTF-8"}
	out := w.run(t, 15*time.Minute, t.TempDir(), env, exe, "ui", "--demo", "--windowed",
		"--size", fmt.Sprintf("%dx%d", W, H), "--shots", winPath(shots))
	close(stop)
	xshots := <-captured
	t.Logf("facecheck.exe ui --demo:\n%s", out)
	if strings.Contains(out, "Korean text will not render") {
		t.Error("the kiosk found no CJK font on Windows")
	}
	for _, name := range []string{"1-idle", "2-guidance", "4-notfound", "5-settings"} {
		if !strings.Contains(out, "screenshot "+name+" ") {
			t.Errorf("the demo did not reach its %s screen", name)
		}
	}
	drawn := 0
	for _, path := range xshots {
		if sd := testenv.LumaStdDev(testenv.LoadPNG(t, path)); sd >= 8 {
			drawn++
		} else {
			os.Remove(path) // before the window showed
		}
	}
	t.Logf("%d of %d screen captures show the window (in %s)", drawn, len(xshots), shots)
	if drawn < 3 {
		t.Errorf("the window drew in %d of %d screen captures, want at least 3", drawn, len(xshots))
	}
}

// server starts the installed facecheck-server.exe on 127.0.0.1 and asks
// its /healthz.
func server(t *testing.T, w *wine) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wine", `C:\Program Files\facecheck\facecheck-server.exe`,
		"--data", winPath(data), "--addr", "127.0.0.1:0")
	cmd.Env = append(append([]string{}, w.env...), "FACECHECK_ADMIN_PASSWORD=wine-smoke-test-password")
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			t.Logf("server: %s", sc.Text())
			if m := regexp.MustCompile(`^facecheck-server listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	var url string
	select {
	case url = <-urls:
	case <-ctx.Done():
	}
	if url == "" {
		t.Fatalf("the server did not say where it listens\nstderr:\n%s", stderr.String())
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("the server listens on %s, want 127.0.0.1", url)
	}
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	t.Logf("GET %s/healthz: %s %s", url, resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %s", resp.Status)
	}
}

// copyDir copies the regular files of src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testWriter logs a command's output as the test's, line by line.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
