package demo_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/demo"
	"github.com/facecheck/facecheck/internal/testenv"
)

// The README's first command: every enrolled person in the generated video
// is recognised exactly once, the person not enrolled never is, and the
// synthetic blink is seen.
func TestDemoRecognisesEnrolledPeople(t *testing.T) {
	dir := testenv.Faces(t)
	e, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var out bytes.Buffer
	res, err := demo.Run(e, demo.Options{
		Labels: filepath.Join(dir, "labels.csv"), Root: filepath.Join(dir, "images"),
		People: 4, Video: filepath.Join(t.TempDir(), "demo.avi"), Accept: 0.40, FuseFrames: 3,
	}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range res {
		if r.Got != "" {
			seen[r.Got]++
		}
	}
	const enrolled = 4
	if len(seen) != enrolled {
		t.Errorf("recognised %v, want each of %d enrolled people", seen, enrolled)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s recognised %d times, want once", id, n)
		}
	}
	if strings.Count(out.String(), "blink") < 3 {
		t.Errorf("blinks seen: %d, want most approaches to show one", strings.Count(out.String(), "blink"))
	}
}
