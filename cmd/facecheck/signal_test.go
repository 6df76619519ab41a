//go:build unix

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/testenv"
)

// SIGTERM (what a service manager or a logout sends, and what Go makes of
// a Windows console being closed) ends a running headless kiosk the way
// Ctrl-C does: the kiosk's own shutdown runs (it is not killed by the
// signal) and it exits with the same status and last words.
func TestSIGTERMEndsKioskLikeCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kiosk")
	}
	modelsDir := testenv.Models(t).Dir
	faces := testenv.Faces(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "facecheck")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	type ending struct {
		code int
		last string
	}
	var endings []ending
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "kiosk", "--headless", "--faces",
				"--camera", filepath.Join(faces, "images", "alejandro_toledo"), "--repeat", "100000",
				"--db", filepath.Join(t.TempDir(), "kiosk.db"), "--key", filepath.Join(dir, sig.String()+".key"), "--models", modelsDir)
			cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() { // the kiosk is running: it saw a frame
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no output before exit; stderr:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
			}
			cmd.Wait()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			t.Logf("after %v: %v; stderr:\n%s", sig, cmd.ProcessState, stderr.String())
			if ws.Signaled() {
				t.Fatalf("killed by %v instead of shutting down", ws.Signal())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			endings = append(endings, ending{ws.ExitStatus(), lines[len(lines)-1]})
		})
	}
	if len(endings) == 2 && endings[0] != endings[1] {
		t.Errorf("SIGTERM ended with %+v, Ctrl-C with %+v", endings[1], endings[0])
	}
}
