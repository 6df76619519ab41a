package storage_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// Environment of the crash child: set only when the test binary re-executes
// itself from TestCrashSafety.
const (
	envCrashDB  = "FACECHECK_STORAGE_CRASH_DB"
	envCrashKey = "FACECHECK_STORAGE_CRASH_KEY"
)

const committedPrefix = "committed "

// TestCrashChild is the child half of TestCrashSafety; on its own it skips.
// It records check-ins as fast as it can and reports each one on stdout only
// after RecordCheckIn returned nil, while a second goroutine churns the other
// tables (outbox acks, settings, gallery deltas), until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envCrashDB)
	if path == "" {
		t.Skip("only run as the child of TestCrashSafety")
	}
	key, err := storage.LoadOrCreateKey(os.Getenv(envCrashKey))
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(path, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	go func() {
		for i := 0; ; i++ {
			items, err := db.PendingOutbox(ctx, 10, time.Now())
			if err != nil {
				panic(err)
			}
			if len(items) > 0 {
				if err := db.MarkSent(ctx, items[0].Seq); err != nil {
					panic(err)
				}
			}
			if err := db.SetSetting(ctx, "k", fmt.Sprint(i), "child"); err != nil {
				panic(err)
			}
			up := storage.GalleryUpsert{
				Attendee:  storage.Attendee{ID: fmt.Sprintf("a%d", i%50), Name: fmt.Sprintf("Person %d", i)},
				Templates: []api.Template{template(byte(i)), template(byte(i + 1))},
			}
			if err := db.ApplyGalleryDelta(ctx, []storage.GalleryUpsert{up}, []string{fmt.Sprintf("a%d", (i+25)%50)}, int64(i)); err != nil {
				panic(err)
			}
		}
	}()
	for {
		c := newCheckIn(fmt.Sprintf("a%d", time.Now().UnixNano()%50), time.Now())
		if _, err := db.RecordCheckIn(ctx, c); err != nil {
			panic(err)
		}
		// os.Stdout is unbuffered: one write(2) per line, after the commit,
		// so a reported id was committed.
		if _, err := fmt.Fprintf(os.Stdout, "%s%s\n", committedPrefix, c.ID); err != nil {
			panic(err)
		}
	}
}

// TestCrashSafety kills a writing child process with SIGKILL several times,
// then checks that the database passes integrity_check and holds every
// check-in whose commit the child reported, each with its outbox row or a
// synced stamp.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "kiosk.db")
	keyPath := filepath.Join(dir, "keys", "template.key")
	key, err := storage.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	reported := map[string]bool{}
	const rounds = 4
	for round := range rounds {
		ids := runCrashChild(t, dbPath, keyPath, 100+round*97)
		if len(ids) == 0 {
			t.Fatalf("round %d: the child reported no commit", round)
		}
		for _, id := range ids {
			reported[id] = true
		}
		t.Logf("round %d: child reported %d commits before SIGKILL", round, len(ids))
	}

	ctx := context.Background()
	db := MustOpenAt(t, dbPath, storage.Options{Key: key})
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatalf("after SIGKILL: %v", err)
	}
	var missing []string
	for id := range reported {
		if _, err := db.FindCheckIn(ctx, id); errors.Is(err, storage.ErrNotFound) {
			missing = append(missing, id)
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d reported check-ins lost, e.g. %s", len(missing), len(reported), missing[0])
	}
	n, err := db.CountCheckIns(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The child may have committed a last check-in it had no time to report.
	if n < len(reported) || n > len(reported)+rounds {
		t.Fatalf("%d check-ins stored, %d reported: want at most one unreported per kill", n, len(reported))
	}
	// Every check-in is either still queued or was acknowledged: none fell
	// between the two.
	var orphans int
	if err := rawDB(t, dbPath).QueryRow(`
		SELECT count(*) FROM checkins c
		WHERE c.synced_at IS NULL AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'checkin' AND o.ref = c.id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d check-ins neither queued nor synced", orphans)
	}
	if _, err := db.AllTemplates(ctx); err != nil {
		t.Fatalf("templates after SIGKILL: %v", err)
	}
}

// runCrashChild starts the child, lets it report at least minCommits commits,
// kills it with SIGKILL and returns every id it reported.
func runCrashChild(t *testing.T, dbPath, keyPath string, minCommits int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDB+"="+dbPath, envCrashKey+"="+keyPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()

	var ids []string
	var other []string
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		id, ok := strings.CutPrefix(line, committedPrefix)
		if !ok {
			other = append(other, line)
			continue
		}
		ids = append(ids, id)
		if !killed && len(ids) >= minCommits {
			// Kill mid-flight; keep reading what was written before the kill.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before being killed (%v)\nstdout: %s\nstderr: %s", err, strings.Join(other, "\n"), stderr.String())
	}
	return ids
}
