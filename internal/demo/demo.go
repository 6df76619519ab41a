// Package demo is the check-in demo `facecheck demo` runs (and scripts/run
// when there is no display), and the window's --demo: it enrols a few
// people from the labelled dev faces into a temporary kiosk database,
// renders a video of them (and of someone not enrolled) walking up to a
// kiosk, and plays it through a kiosk.Station as the camera. The headless
// demo prints each prompt, check-in and other result as it happens
// (blink required).
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// Options configure a demo run.
type Options struct {
	Models       string // model directory ("" = the default)
	Labels, Root string // labelled faces: CSV and image root
	People       int    // enrolled people shown in the video
	Video        string // where to write the video ("" = a temp file)
	// Verbose also prints every state change and a line per frame with a
	// face (kiosk.HeadlessOptions.Faces).
	Verbose bool
}

// Pick chooses the demo's people from the labels CSV (images under root):
// people+1 identities with 3+ photos, spread over the sorted list so
// sources are mixed. The first people are enrolled, so each is the first
// identity from its spread position on whose first photo the registration
// rule (e, engine.EnrolPhoto) accepts; the last walks up without being
// enrolled.
func Pick(e enrol.Encoder, labels, root string, people int) ([]enrol.Person, error) {
	return pick(e, labels, root, people, 3)
}

func pick(e enrol.Encoder, labels, root string, people, minPhotos int) ([]enrol.Person, error) {
	if people < 1 {
		return nil, fmt.Errorf("demo: %d people, want at least 1", people)
	}
	all, err := enrol.ReadPeople(labels)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var pool []enrol.Person
	for _, p := range all {
		if len(p.Paths) >= minPhotos {
			pool = append(pool, p)
		}
	}
	if len(pool) < people+1 {
		return nil, fmt.Errorf("demo: %d identities with %d+ photos in %s, need %d", len(pool), minPhotos, labels, people+1)
	}
	picks := make([]enrol.Person, 0, people+1)
	next := 0 // the first pool index not passed over yet
	for i := 0; i <= people; i++ {
		j := max(next, i*len(pool)/(people+1))
		for ; i < people && j < len(pool); j++ {
			ok, err := accepted(e, filepath.Join(root, pool[j].Paths[0]))
			if err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			if ok {
				break
			}
		}
		if j >= len(pool) {
			return nil, fmt.Errorf("demo: not %d identities in %s whose first photo can be enrolled, and one more", people, labels)
		}
		picks = append(picks, pool[j])
		next = j + 1
	}
	return picks, nil
}

// accepted reports whether the registration rule accepts the photo at path.
func accepted(e enrol.Encoder, path string) (bool, error) {
	im, err := engine.LoadImage(path)
	if err != nil {
		return false, err
	}
	_, err = e.EnrolPhoto(im)
	if _, refused := enrol.Refused(err); refused {
		return false, nil
	}
	return err == nil, err
}

// build enrols the first photo of each of the first n picks into db and
// writes to video their second photos walking up, then the others' (not
// enrolled): nobody is matched against the picture they were enrolled
// from. It returns who was enrolled and each scene's label.
func build(ctx context.Context, eng *engine.Engine, db *storage.DB, picks []enrol.Person, n int, root, video string, log io.Writer) ([]enrol.Person, []string, error) {
	enrolled, err := enrol.First(ctx, eng, db, picks[:n], root, n, log)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	if len(enrolled) != n {
		return nil, nil, fmt.Errorf("demo: enrolled %d of the %d people picked", len(enrolled), n)
	}
	scenes := make([]fixture.Scene, 0, len(picks))
	var labels []string
	for i, p := range picks {
		photo, err := engine.LoadImage(filepath.Join(root, p.Paths[1]))
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		enc, err := eng.Encode(photo)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %s: %w", p.Paths[1], err)
		}
		label := enrol.DisplayName(p.ID)
		if i >= n {
			label = "(not enrolled) " + label
		}
		scenes = append(scenes, fixture.Scene{Photo: photo, Landmarks: &enc.Landmarks, Label: label})
		labels = append(labels, label)
	}
	if _, err := fixture.Write(video, scenes, fixture.DefaultOptions()); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	return enrolled, labels, nil
}

// Run enrols the first photo of each picked person (Pick) into a temporary
// kiosk database, writes a video of their second photos walking up, then of
// the person not enrolled, and plays it through a kiosk.Station with the
// default settings and a blink required, printing readable lines to out
// (kiosk.RunHeadless in text mode; "Are you NAME?" is answered no). It
// returns the kiosk's results in order. The database is removed at the end;
// the video too unless o.Video names where to keep it.
func Run(ctx context.Context, o Options, out io.Writer) (_ []kiosk.Result, err error) {
	dir, err := os.MkdirTemp("", "facecheck-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	path := o.Video
	if path == "" {
		path = filepath.Join(dir, "demo.avi")
	}
	var picks, enrolled []enrol.Person
	st, err := kiosk.OpenStation(ctx, kiosk.StationConfig{
		Models: o.Models, DB: filepath.Join(dir, "kiosk.db"), Key: filepath.Join(dir, "kiosk.key"),
		Kiosk:    kiosk.DefaultConfig(),
		Override: kiosk.Values{"face.blink": "true"}, // the video's people blink: the demo shows the liveness step
		Setup: func(ctx context.Context, eng *engine.Engine, db *storage.DB) (string, error) {
			var err error
			if picks, err = Pick(eng, o.Labels, o.Root, o.People); err != nil {
				return "", err
			}
			enrolled, _, err = build(ctx, eng, db, picks, o.People, o.Root, path, out)
			return path, err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("demo: %w", cerr)
		}
	}()
	for _, p := range enrolled {
		fmt.Fprintf(out, "enrolled %s from %s\n", enrol.DisplayName(p.ID), p.Paths[0])
	}
	where := path
	if o.Video == "" {
		where = "generated (--video PATH keeps it)"
	}
	fmt.Fprintf(out, "video: %s; %d people walk up: the %d enrolled, then %s, not enrolled\n",
		where, len(picks), o.People, enrol.DisplayName(picks[o.People].ID))
	cfg := st.Machine.Config()
	fmt.Fprintf(out, "kiosk: accept %.2f, ask \"Are you NAME?\" from %.2f (answered no), margin %.2f, blink required\n",
		cfg.Accept, cfg.Confirm, cfg.Margin)
	cam, err := st.Camera().Open()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer cam.Close()
	res, err := st.RunHeadless(ctx, cam, kiosk.HeadlessOptions{Text: true, Faces: o.Verbose, AutoConfirm: false}, out)
	if err != nil {
		return res, fmt.Errorf("demo: playing the video: %w", err)
	}
	summarise(out, res, len(enrolled))
	return res, nil
}

// Window makes cfg the window's demo: a temporary database and key, n
// people of the labelled dev faces in dir faces enrolled, and a video of
// them, then of one person not enrolled, walking up as the camera, with a
// lead-in of nobody there before each round. The cleanup removes the
// temporary files.
func Window(cfg *kiosk.StationConfig, faces string, n int, log io.Writer) (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "facecheck-ui-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg.DB, cfg.Key = filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key")
	cfg.Camera.LeadIn = 45 // 3 s of nobody there before each round
	cfg.Setup = func(ctx context.Context, eng *engine.Engine, db *storage.DB) (string, error) {
		root := filepath.Join(faces, "images")
		picks, err := pick(eng, filepath.Join(faces, "labels.csv"), root, max(1, n), 2)
		if err != nil {
			return "", fmt.Errorf("the demo needs the labelled dev faces (set FACECHECK_FACES): %w", err)
		}
		video := filepath.Join(dir, "demo.avi")
		done, labels, err := build(ctx, eng, db, picks, max(1, n), root, video, log)
		if err != nil {
			return "", err
		}
		for _, l := range labels {
			fmt.Fprintf(log, "ui: demo: %s\n", l)
		}
		fmt.Fprintf(log, "ui: demo: enrolled %d people, video %s\n", len(done), video)
		return video, nil
	}
	return func() { os.RemoveAll(dir) }, nil
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
