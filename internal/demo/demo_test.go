package demo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/demo"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
)

// The demo `scripts/run` falls back to without a display, through the real
// kiosk: every enrolled person in the generated video is checked in exactly
// once, in the order they walk up, and the person not enrolled (last) never
// is; the output says so in readable lines.
func TestDemoChecksInEnrolledPeople(t *testing.T) {
	if testing.Short() {
		t.Skip("real engine")
	}
	dir := testenv.Faces(t)
	const enrolled = 4
	o := demo.Options{
		Models: testenv.Models(t).Dir,
		Labels: filepath.Join(dir, "labels.csv"), Root: filepath.Join(dir, "images"),
		People: enrolled, Video: filepath.Join(t.TempDir(), "demo.avi"),
	}
	eng, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	picks, err := demo.Pick(eng, o.Labels, o.Root, enrolled)
	if err != nil {
		eng.Close()
		t.Fatal(err)
	}
	// Everyone picked for enrolment passes the server's registration rule
	// (hans_blix, whose first photo has a second face, no longer does).
	for _, p := range picks[:enrolled] {
		im, err := engine.LoadImage(filepath.Join(o.Root, p.Paths[0]))
		if err == nil {
			_, err = eng.EnrolPhoto(im)
		}
		if err != nil {
			t.Errorf("picked %s, whose first photo cannot be enrolled: %v", p.ID, err)
		}
	}
	eng.Close()
	var out bytes.Buffer
	res, err := demo.Run(context.Background(), o, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}

	var want, got []string
	for _, p := range picks[:enrolled] {
		want = append(want, p.ID)
	}
	var outcomes []kiosk.Outcome
	for _, r := range res {
		outcomes = append(outcomes, r.Outcome)
		switch r.Outcome {
		case kiosk.OutcomeCheckedIn, kiosk.OutcomeRepeat: // a repeat is a second recognition
			got = append(got, string(r.Outcome)+" "+r.AttendeeID)
		}
	}
	for i := range want {
		want[i] = string(kiosk.OutcomeCheckedIn) + " " + want[i]
	}
	if !slices.Equal(got, want) {
		t.Errorf("check-ins %q, want each enrolled person once, in order: %q (outcomes %v)", got, want, outcomes)
	}
	// The person not enrolled walks up last: an approach that ends without
	// a check-in.
	if len(res) == 0 || res[len(res)-1].Outcome == kiosk.OutcomeCheckedIn || res[len(res)-1].Outcome == kiosk.OutcomeRepeat {
		t.Errorf("outcomes %v: want the last, not enrolled person's approach to end without a check-in", outcomes)
	}
	if !slices.Contains(outcomes, kiosk.OutcomeNotFound) {
		t.Errorf("outcomes %v: want %s not recognised", outcomes, picks[enrolled].ID)
	}

	text := out.String()
	for _, p := range picks[:enrolled] {
		// A person's name, not the identity key alone ("alejandro_toledo").
		name := enrol.DisplayName(p.ID) + " (" + p.ID + ")"
		if n := strings.Count(text, "  checked in "+name+"  score "); n != 1 {
			t.Errorf("%d check-in lines for %s, want 1", n, name)
		}
		if strings.Contains(text, "checked in "+p.ID) || strings.Contains(text, "enrolled "+p.ID) {
			t.Errorf("the demo shows the key %s where a name belongs", p.ID)
		}
	}
	if strings.Contains(text, picks[enrolled].ID+")  score") {
		t.Errorf("%s, not enrolled, named in a result line", picks[enrolled].ID)
	}
	if !strings.Contains(text, "  not recognised  ") {
		t.Error("no not-recognised line")
	}
	if !strings.Contains(text, "  prompt: Please blink") {
		t.Error("the kiosk never asked for the blink it requires")
	}
	if strings.Contains(text, "enrol: skipped") {
		t.Error("the demo skipped someone it picked")
	}
	if strings.Contains(text, `{"event"`) {
		t.Error("JSON lines in the demo's output")
	}
}
