package kiosk

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/storage"
)

// world is what the real-engine tests of this package share: the engine,
// the dev faces, some people picked from them and their walk-up scenes
// (each person's first photo after the enrolled one in which they are
// alone: scenePhoto).
type world struct {
	eng    *engine.Engine
	root   string // image root of the labels
	picks  []enrol.Person
	scenes []fixture.Scene
}

// newWorld loads the engine and the dev faces and picks people with 3+
// photos; pick chooses among them (nil: spread 3 over the list).
func newWorld(tb testing.TB, pick func(pool []enrol.Person) []enrol.Person) *world {
	tb.Helper()
	if testing.Short() {
		tb.Skip("real engine")
	}
	faces := testenv.Faces(tb)
	eng, err := engine.New(testenv.Models(tb), engine.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	people, err := enrol.ReadPeople(filepath.Join(faces, "labels.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	var pool []enrol.Person
	for _, p := range people {
		if len(p.Paths) >= 3 {
			pool = append(pool, p)
		}
	}
	if len(pool) < 3 {
		tb.Skipf("%d identities with 3+ photos, need 3", len(pool))
	}
	if pick == nil {
		pick = func(pool []enrol.Person) []enrol.Person {
			// Spread the picks over the sorted list so sources are mixed.
			return []enrol.Person{pool[0], pool[len(pool)/3], pool[2*len(pool)/3]}
		}
	}
	w := &world{eng: eng, root: filepath.Join(faces, "images"), picks: pick(pool)}
	for _, p := range w.picks {
		photo, err := scenePhoto(eng, w.root, p)
		if err != nil {
			tb.Fatal(err)
		}
		enc, err := eng.Encode(photo)
		if err != nil {
			tb.Fatal(err)
		}
		w.scenes = append(w.scenes, fixture.Scene{Photo: photo, Landmarks: &enc.Landmarks, Label: p.ID})
	}
	return w
}

// scenePhoto is the photo p walks up with: the first after the enrolled one
// (Paths[0]) in which p is alone, as a person at a kiosk is. Press and
// crowd photos (LFW) often have a bystander at the subject's shoulder, whom
// the kiosk rightly answers with "one person at a time" (the many-faces
// gate), so such a photo does not make a check-in video. Without a solo
// photo, the second photo.
func scenePhoto(eng *engine.Engine, root string, p enrol.Person) (engine.Image, error) {
	var first engine.Image
	for i, rel := range p.Paths[1:] {
		photo, err := engine.LoadImage(filepath.Join(root, rel))
		if err != nil {
			return engine.Image{}, err
		}
		if i == 0 {
			first = photo
		}
		a, err := eng.Analyze(photo, engine.AnalyzeOptions{Gates: engine.DefaultGates()})
		if err != nil {
			return engine.Image{}, fmt.Errorf("scene photo %s: %w", rel, err)
		}
		if a.Measures.Faces == 1 {
			return photo, nil
		}
	}
	return first, nil
}

// video renders the scenes into a video in a temp dir.
func (w *world) video(tb testing.TB, name string, fo fixture.Options) string {
	tb.Helper()
	path, _ := w.timedVideo(tb, name, fo)
	return path
}

// timedVideo is video that also returns each scene's timing.
func (w *world) timedVideo(tb testing.TB, name string, fo fixture.Options) (string, []fixture.Timing) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	tm, err := fixture.Write(path, w.scenes, fo)
	if err != nil {
		tb.Fatal(err)
	}
	return path, tm
}

// openTestDB opens a kiosk database with its key file in a temp dir.
func openTestDB(tb testing.TB) *storage.DB {
	tb.Helper()
	dir := tb.TempDir()
	key, err := storage.LoadOrCreateKey(filepath.Join(dir, "kiosk.key"))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(dir, "kiosk.db"), storage.Options{Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
