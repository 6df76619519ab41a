// Package demo is the check-in demo `facecheck demo` runs (and scripts/run
// when there is no display): it enrols a few people from the labelled dev
// faces into a temporary kiosk database, renders a video of them (and of
// someone not enrolled) walking up to a kiosk, and plays it through the
// kiosk's own check-in state machine (kiosk.Kiosk, blink required), printing
// each prompt, check-in and other result as it happens.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// Options configure a demo run.
type Options struct {
	Labels, Root string // labelled faces: CSV and image root
	People       int    // enrolled people shown in the video
	Video        string // where to write the video ("" = a temp file)
	// Verbose also prints every state change and a line per frame with a
	// face (kiosk.HeadlessOptions.Faces).
	Verbose bool
}

// Pick chooses the demo's people from the labels CSV: people+1 identities
// with 3+ photos, spread over the sorted list so sources are mixed. The
// first people are enrolled; the last walks up without being enrolled.
func Pick(labels string, people int) ([]kiosk.LabelledPerson, error) {
	if people < 1 {
		return nil, fmt.Errorf("demo: %d people, want at least 1", people)
	}
	all, err := kiosk.ReadPeople(labels)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var pool []kiosk.LabelledPerson
	for _, p := range all {
		if len(p.Paths) >= 3 {
			pool = append(pool, p)
		}
	}
	if len(pool) < people+1 {
		return nil, fmt.Errorf("demo: %d identities with 3+ photos in %s, need %d", len(pool), labels, people+1)
	}
	picks := make([]kiosk.LabelledPerson, 0, people+1)
	for i := 0; i <= people; i++ {
		picks = append(picks, pool[i*len(pool)/(people+1)])
	}
	return picks, nil
}

// Run enrols the first photo of each picked person (Pick) into a temporary
// kiosk database, writes a video of their second photos walking up, then of
// the person not enrolled, and plays it through a kiosk with the default
// configuration and a blink required, printing readable lines to out
// (kiosk.RunHeadless in text mode; "Are you NAME?" is answered no). It
// returns the kiosk's results in order. The database is removed at the end;
// the video too unless o.Video names where to keep it.
func Run(ctx context.Context, e *engine.Engine, o Options, out io.Writer) ([]kiosk.Result, error) {
	picks, err := Pick(o.Labels, o.People)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "facecheck-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	key, err := storage.LoadOrCreateKey(filepath.Join(dir, "kiosk.key"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	db, err := storage.Open(filepath.Join(dir, "kiosk.db"), storage.Options{Key: key})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer db.Close()

	enrolled, err := kiosk.EnrolFirst(ctx, e, db, picks[:o.People], o.Root, o.People)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, p := range enrolled {
		fmt.Fprintf(out, "enrolled %s from %s\n", p.ID, p.Paths[0])
	}
	gallery, err := kiosk.LoadGallery(ctx, db, 3)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	// Second photos, so nobody is matched against the picture they were
	// enrolled from.
	scenes := make([]fixture.Scene, 0, len(picks))
	for i, p := range picks {
		photo, err := engine.LoadImage(filepath.Join(o.Root, p.Paths[1]))
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		enc, err := e.Encode(photo)
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", p.Paths[1], err)
		}
		label := p.ID
		if i >= o.People {
			label = "(not enrolled) " + p.ID
		}
		scenes = append(scenes, fixture.Scene{Photo: photo, Landmarks: &enc.Landmarks, Label: label})
	}
	path := o.Video
	if path == "" {
		path = filepath.Join(dir, "demo.avi")
	}
	if _, err := fixture.Write(path, scenes, fixture.DefaultOptions()); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	where := path
	if o.Video == "" {
		where = "generated (--video PATH keeps it)"
	}
	fmt.Fprintf(out, "video: %s; %d people walk up: the %d enrolled, then %s, not enrolled\n",
		where, len(scenes), o.People, picks[o.People].ID)

	cfg := kiosk.DefaultConfig()
	cfg.RequireBlink = true // the video's people blink: the demo shows the liveness step
	k, err := kiosk.New(cfg, e, gallery, db, time.Now)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "kiosk: accept %.2f, ask \"Are you NAME?\" from %.2f (answered no), margin %.2f, blink required\n",
		cfg.Accept, cfg.Confirm, cfg.Margin)
	cam, err := kiosk.OpenVideo(path, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer cam.Close()
	res, err := kiosk.RunHeadless(ctx, cam, k, kiosk.HeadlessOptions{Text: true, Faces: o.Verbose, AutoConfirm: false}, out)
	if err != nil {
		return res, fmt.Errorf("demo: playing the video: %w", err)
	}
	summarise(out, res, len(enrolled))
	return res, nil
}

// summarise prints how the approaches ended.
func summarise(out io.Writer, res []kiosk.Result, enrolled int) {
	n := map[kiosk.Outcome]int{}
	for _, r := range res {
		n[r.Outcome]++
	}
	fmt.Fprintf(out, "checked in %d of %d enrolled people; not recognised %d", n[kiosk.OutcomeCheckedIn], enrolled, n[kiosk.OutcomeNotFound])
	for _, o := range []kiosk.Outcome{kiosk.OutcomeRepeat, kiosk.OutcomeDeclined, kiosk.OutcomeTimeout} {
		if n[o] > 0 {
			fmt.Fprintf(out, "; %s %d", o, n[o])
		}
	}
	fmt.Fprintln(out)
}
