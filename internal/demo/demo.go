// Package demo is the engine demo the README's first command runs while no
// camera is attached: it enrols a few people from the labelled dev faces,
// renders a video of them (and of someone not enrolled) walking up to a
// kiosk, and prints each face the engine recognises in it.
package demo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/measure"
)

// Options configure a demo run.
type Options struct {
	Labels, Root string // labelled faces: CSV and image root
	People       int    // enrolled people shown in the video
	Video        string // where to write the video ("" = a temp file)
	// Accept is the similarity above which a face is named. Events calibrate
	// their own (see the calibration issue); the demo uses a fixed value.
	Accept float32
	// FuseFrames is how many good frames of one approach are embedded and
	// fused before the gallery is searched.
	FuseFrames int
	// Verbose prints every frame's quality-gate issues.
	Verbose bool
}

// Result is one recognition the demo printed.
type Result struct {
	Frame, Track int
	Want, Got    string
	Score        float32
	Blinked      bool
}

// Run builds the gallery, writes the video, and plays it through the engine.
func Run(e *engine.Engine, o Options, out io.Writer) ([]Result, error) {
	samples, err := measure.ReadLabelsFile(o.Labels)
	if err != nil {
		return nil, err
	}
	byID := map[string][]string{}
	for _, s := range samples {
		byID[s.Identity] = append(byID[s.Identity], s.Path)
	}
	var ids []string
	for id, ps := range byID {
		if len(ps) >= 3 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	if len(ids) < o.People+1 {
		return nil, fmt.Errorf("demo: %d identities with 3+ photos, need %d", len(ids), o.People+1)
	}
	// Spread the picks over the sorted list so sources are mixed.
	var picks []string
	for i := 0; i < o.People+1; i++ {
		picks = append(picks, ids[i*len(ids)/(o.People+1)])
	}
	gallery := engine.NewGallery(1)
	var scenes []fixture.Scene
	for i, id := range picks {
		enrolled := i < o.People
		if enrolled {
			im, err := engine.LoadImage(filepath.Join(o.Root, byID[id][0]))
			if err != nil {
				return nil, err
			}
			enc, err := e.Encode(im)
			if err != nil {
				return nil, fmt.Errorf("demo: enrol %s: %w", id, err)
			}
			t, err := engine.Quantize(enc.Embedding)
			if err != nil {
				return nil, err
			}
			if err := gallery.Add(id, t); err != nil {
				return nil, err
			}
			fmt.Fprintf(out, "enrolled %s from %s\n", id, byID[id][0])
		}
		photo, err := engine.LoadImage(filepath.Join(o.Root, byID[id][1]))
		if err != nil {
			return nil, err
		}
		enc, err := e.Encode(photo)
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", byID[id][1], err)
		}
		label := id
		if !enrolled {
			label = "(not enrolled) " + id
		}
		scenes = append(scenes, fixture.Scene{Photo: photo, Landmarks: &enc.Landmarks, Label: label})
	}
	path := o.Video
	if path == "" {
		dir, err := os.MkdirTemp("", "facecheck-demo-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.avi")
	}
	if _, err := fixture.Write(path, scenes, fixture.DefaultOptions()); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "video: %s (%d people walking up, one not enrolled)\n", path, len(scenes))
	return Play(e, gallery, path, o, out)
}

// Play runs a video through detection, tracking, the quality gates, fused
// embedding and 1:N search, printing one line per recognised approach.
func Play(e *engine.Engine, g *engine.Gallery, path string, o Options, out io.Writer) ([]Result, error) {
	v, err := engine.OpenVideo(path, 0, 0)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	tr := engine.NewTracker()
	gates := engine.DefaultGates()
	done := map[int]bool{}
	var prev *engine.Box
	var results []Result
	for frame := 0; ; frame++ {
		im, err := v.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return results, err
		}
		a, err := e.Analyze(im, engine.AnalyzeOptions{Gates: gates, Prev: prev})
		if err != nil {
			return results, err
		}
		tracks := tr.Update(a.Faces)
		if len(a.Faces) == 0 {
			prev = nil
			continue
		}
		b := a.Face.Box
		prev = &b
		t := tracks[0]
		if t.Blink.Observe(a.Measures.Eyes) == "blink" {
			fmt.Fprintf(out, "frame %4d  track %d  blink\n", frame, t.ID)
		}
		if o.Verbose {
			fmt.Fprintf(out, "frame %d track %d issues %v eyes %.2f/%.2f\n", frame, t.ID, a.Issues, a.Measures.Eyes.Left, a.Measures.Eyes.Right)
		}
		if done[t.ID] || !a.OK() {
			continue
		}
		emb, err := e.Embed(im, a.Landmarks)
		if err != nil {
			return results, err
		}
		t.Embeddings = append(t.Embeddings, emb)
		if len(t.Embeddings) < o.FuseFrames {
			continue
		}
		done[t.ID] = true
		q, err := engine.Quantize(t.Fused())
		if err != nil {
			return results, err
		}
		m := g.Search(&q)
		r := Result{Frame: frame, Track: t.ID, Score: m.Score, Blinked: t.Blink.Blinks > 0}
		if m.Found && m.Score >= o.Accept {
			r.Got = m.ID
			fmt.Fprintf(out, "frame %4d  track %d  recognised %-28s score %.3f  margin %.3f\n", frame, t.ID, m.ID, m.Score, m.Margin)
		} else {
			fmt.Fprintf(out, "frame %4d  track %d  unknown face (best %s %.3f below %.2f)\n", frame, t.ID, m.ID, m.Score, o.Accept)
		}
		results = append(results, r)
	}
	return results, nil
}
