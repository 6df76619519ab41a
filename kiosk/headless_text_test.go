package kiosk

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/engine"
)

// clockCamera returns n blank frames, moving the clock on by a frame's
// time before each, then io.EOF.
type clockCamera struct {
	n   int
	now *time.Time
}

func (c *clockCamera) Read() (engine.Image, error) {
	if c.n <= 0 {
		return engine.Image{}, io.EOF
	}
	c.n--
	*c.now = c.now.Add(100 * time.Millisecond)
	return engine.Image{W: 640, H: 480}, nil
}

func (c *clockCamera) Close() error { return nil }

// runText plays s through a kiosk with alice and bob enrolled, in text
// mode, with one frame more than the script when fail (the engine then
// fails), and returns the output, the results and RunHeadless's error.
func runText(t *testing.T, s []frame, o HeadlessOptions, fail bool) (string, []Result, error) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Location = time.UTC
	cfg.EarlyLead = 0 // the fused path: hold still, then identify
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	st := &fakeStore{names: map[string]string{"alice": "Alice A.", "bob": "Bob B."}}
	k, err := New(cfg, &fakeEngine{script: s}, testGallery(t, map[string]engine.Embedding{"alice": alice, "bob": bob}),
		st, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	n := len(s)
	if fail {
		n++
	}
	o.Text = true
	var out bytes.Buffer
	res, err := RunHeadless(context.Background(), &clockCamera{n: n, now: &now}, k, o, &out)
	return out.String(), res, err
}

func TestHeadlessText(t *testing.T) {
	s := script(
		bad(engine.ReasonTooSmall, 4), good(alice, 4), empty(5), // prompts once per change, then checks in
		good(maybeA, 3), empty(5), // asked, answered no
		good(nobody, 3), empty(5), // not found
		good(alice, 3), empty(5), // second approach: a repeat
	)
	out, res, err := runText(t, s, HeadlessOptions{}, true)
	t.Log("\n" + out)
	if err == nil || !strings.Contains(err.Error(), "script exhausted") {
		t.Errorf("error %v, want the engine's", err)
	}
	want := `frame    1  prompt: Please come closer
frame    4  prompt: Hold still
frame    6  checked in Alice A. (alice)  score 1.000  margin 1.000  method face  latency 200 ms
frame   14  prompt: Hold still
frame   15  asked "Are you Alice A. (alice)?"  score 0.373  margin 0.373  answered no
frame   15  declined: not Alice A. (alice)  score 0.373  margin 0.373
frame   22  prompt: Hold still
frame   23  not recognised  best score 0.000, below 0.33  latency 200 ms
frame   30  prompt: Hold still
frame   31  welcomed back Alice A. (alice): already checked in today  score 1.000  margin 1.000  method face  latency 200 ms
frame   37  error: script exhausted
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	var outcomes []Outcome
	for _, r := range res {
		outcomes = append(outcomes, r.Outcome)
	}
	if got, w := outcomes, []Outcome{OutcomeCheckedIn, OutcomeDeclined, OutcomeNotFound, OutcomeRepeat}; !slices.Equal(got, w) {
		t.Errorf("results %v, want %v", got, w)
	}
}

func TestHeadlessTextVerbose(t *testing.T) {
	s := script(bad(engine.ReasonTooSmall, 2), good(bob, 3), empty(5))
	out, res, err := runText(t, s, HeadlessOptions{Faces: true}, false)
	t.Log("\n" + out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Outcome != OutcomeCheckedIn || res[0].AttendeeID != "bob" {
		t.Errorf("results %+v, want bob checked in", res)
	}
	if n := strings.Count(out, "  face at "); n != 5 {
		t.Errorf("%d face lines, want one per frame with a face (5)", n)
	}
	for _, l := range []string{"state approach", "state hold_still", "state welcome", "state idle", "prompt cleared",
		"prompt: Please come closer", "checked in Bob B. (bob)"} {
		if !strings.Contains(out, "  "+l) {
			t.Errorf("no %q line", l)
		}
	}
}
