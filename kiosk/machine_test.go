package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

var _ Store = (*storage.DB)(nil)

// frame is one scripted analysis and the embedding its face yields.
type frame struct {
	a   *engine.Analysis
	emb engine.Embedding
}

type fakeEngine struct {
	script []frame
	i      int
	cur    frame
}

func (f *fakeEngine) Analyze(engine.Image, engine.AnalyzeOptions) (*engine.Analysis, error) {
	if f.i >= len(f.script) {
		return nil, errors.New("script exhausted")
	}
	f.cur = f.script[f.i]
	f.i++
	return f.cur.a, nil
}

func (f *fakeEngine) Embed(engine.Image, engine.Landmarks) (engine.Embedding, error) {
	if f.cur.emb == nil {
		return nil, errors.New("embed on a frame without an embedding")
	}
	return f.cur.emb, nil
}

type fakeStore struct {
	names    map[string]string
	codes    map[string]string // attendee id → CodeHash
	checkins []api.CheckIn
}

func (s *fakeStore) RecordCheckIn(_ context.Context, c api.CheckIn) (bool, error) {
	for _, o := range s.checkins {
		if o.ID == c.ID {
			return true, nil
		}
	}
	s.checkins = append(s.checkins, c)
	return false, nil
}

func (s *fakeStore) HasCheckedIn(_ context.Context, id string, since time.Time) (bool, error) {
	for _, c := range s.checkins {
		if c.AttendeeID == id && !c.At.Before(since) {
			return true, nil
		}
	}
	return false, nil
}

func (s *fakeStore) FindAttendee(_ context.Context, id string) (storage.Attendee, error) {
	n, ok := s.names[id]
	if !ok {
		return storage.Attendee{}, storage.ErrNotFound
	}
	return storage.Attendee{ID: id, Name: n, CodeHash: s.codes[id]}, nil
}

func (s *fakeStore) ListAttendees(ctx context.Context) ([]storage.Attendee, error) {
	var out []storage.Attendee
	for id := range s.names {
		a, _ := s.FindAttendee(ctx, id)
		out = append(out, a)
	}
	return out, nil
}

func unit(i int) engine.Embedding {
	e := make(engine.Embedding, engine.Dim)
	e[i] = 1
	return e
}

// mix is a·unit(i) + b·unit(j), normalised.
func mix(i int, a float64, j int, b float64) engine.Embedding {
	e := make(engine.Embedding, engine.Dim)
	e[i], e[j] = float32(a), float32(b)
	return engine.Normalize(e)
}

var (
	alice   = unit(0)
	bob     = unit(1)
	nobody  = unit(2)
	maybeA  = mix(0, 0.37, 2, math.Sqrt(1-0.37*0.37)) // between confirm and accept
	between = mix(0, 1, 1, 0.97)                      // alice just ahead of bob: margin ~0.02
)

func analysis(issues ...engine.Reason) *engine.Analysis {
	a := &engine.Analysis{
		Faces:    []engine.Face{{Box: engine.Box{X1: 240, Y1: 130, X2: 400, Y2: 350}, Score: 0.99}},
		Measures: engine.Measures{Faces: 1, FaceFrac: 0.45, Eyes: engine.Eyes{Left: 0.9, Right: 0.9}},
	}
	a.Face = a.Faces[0]
	for _, r := range issues {
		a.Issues = append(a.Issues, engine.Issue{Reason: r})
		if r == engine.ReasonEyesClosed {
			a.Measures.Eyes = engine.Eyes{Left: 0.05, Right: 0.05}
		}
	}
	return a
}

func good(emb engine.Embedding, n int) []frame {
	return repeatFrame(frame{analysis(), emb}, n)
}

func bad(r engine.Reason, n int) []frame { return repeatFrame(frame{analysis(r), nil}, n) }

func closedEyes(emb engine.Embedding, n int) []frame {
	return repeatFrame(frame{analysis(engine.ReasonEyesClosed), emb}, n)
}

func empty(n int) []frame {
	return repeatFrame(frame{&engine.Analysis{Issues: []engine.Issue{{Reason: engine.ReasonNoFace}}}, nil}, n)
}

func repeatFrame(f frame, n int) []frame {
	out := make([]frame, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func script(parts ...[]frame) []frame { return slices.Concat(parts...) }

func TestMachine(t *testing.T) {
	day := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	yes, no := true, false
	tests := []struct {
		name    string
		cfg     func(*Config)
		script  []frame
		answer  *bool
		earlier []string // attendees already checked in today
		states  []State
		prompts []Prompt
		results []Outcome
		methods []string
		records int // check-ins stored by the run
		latency float64
	}{
		{
			name:    "accept",
			script:  script(good(alice, 4), empty(5)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown, StateIdle},
			prompts: []Prompt{PromptHoldStill, PromptNone},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodFace}, records: 1,
			latency: 200,
		},
		{
			name: "guide prompts with hysteresis",
			script: script(bad(engine.ReasonTooSmall, 3), bad(engine.ReasonCut, 1), bad(engine.ReasonTooSmall, 2),
				bad(engine.ReasonYaw, 2), good(bob, 3), empty(5)),
			states: []State{StateApproach, StateGuide, StateHoldStill, StateIdentify, StateWelcome, StateCooldown, StateIdle},
			// cut lasts one frame: never shown; the hold-still prompt replaces a guide prompt at once.
			prompts: []Prompt{PromptComeCloser, PromptLookStraight, PromptHoldStill, PromptNone},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodFace}, records: 1,
			// from the first framed frame (the yaw ones), not the first face
			latency: 400,
		},
		{
			name:    "one bad frame does not interrupt holding still",
			script:  script(good(alice, 2), bad(engine.ReasonMovement, 1), good(alice, 3)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome},
			prompts: []Prompt{PromptHoldStill, PromptNone},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodFace}, records: 1,
			latency: 500,
		},
		{
			name:    "confirm answered yes",
			script:  script(good(maybeA, 3), empty(5)),
			answer:  &yes,
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateConfirm, StateWelcome, StateCooldown, StateIdle},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodConfirm}, records: 1,
			latency: 200,
		},
		{
			name:    "confirm answered no",
			script:  script(good(maybeA, 3), good(maybeA, 2), empty(5)),
			answer:  &no,
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateConfirm, StateCooldown, StateIdle},
			results: []Outcome{OutcomeDeclined},
			latency: 200,
		},
		{
			name:    "low margin asks",
			script:  script(good(between, 3)),
			answer:  &yes,
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateConfirm, StateWelcome},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodConfirm}, records: 1,
			latency: 200,
		},
		{
			name:    "confirm unanswered times out when the person leaves",
			script:  script(good(maybeA, 3), empty(5)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateConfirm, StateIdle},
			results: []Outcome{OutcomeTimeout},
			latency: 700,
		},
		{
			name:    "not found",
			script:  script(good(nobody, 3), empty(5)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateNotFound, StateCooldown, StateIdle},
			results: []Outcome{OutcomeNotFound},
			latency: 200,
		},
		{
			name:    "repeat check-in is flagged, not recorded",
			script:  script(good(alice, 3)),
			earlier: []string{"alice"},
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome},
			results: []Outcome{OutcomeRepeat}, methods: []string{api.MethodFace},
			latency: 200,
		},
		{
			name: "cooldown until the face leaves, then a second approach is a repeat",
			script: script(good(alice, 3), good(alice, 10), empty(2), good(alice, 2), empty(5),
				good(alice, 3)),
			states: []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown, StateIdle,
				StateApproach, StateHoldStill, StateIdentify, StateWelcome},
			results: []Outcome{OutcomeCheckedIn, OutcomeRepeat}, methods: []string{api.MethodFace, api.MethodFace},
			records: 1, latency: 200,
		},
		{
			name:    "blink required",
			cfg:     func(c *Config) { c.RequireBlink = true },
			script:  script(good(alice, 5), closedEyes(alice, 2), good(alice, 1)),
			states:  []State{StateApproach, StateHoldStill, StateLiveness, StateIdentify, StateWelcome},
			prompts: []Prompt{PromptHoldStill, PromptBlink, PromptNone},
			results: []Outcome{OutcomeCheckedIn}, methods: []string{api.MethodFace}, records: 1,
			latency: 700,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := DefaultConfig()
			cfg.Location = time.UTC
			// These cases pin the fused path (StillFrames, FuseFrames);
			// TestEarlyDecision covers confident single frames.
			cfg.EarlyLead = 0
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			g := testGallery(t, map[string]engine.Embedding{"alice": alice, "bob": bob})
			st := &fakeStore{names: map[string]string{"alice": "Alice A.", "bob": "Bob B."}}
			for i, id := range tc.earlier {
				st.checkins = append(st.checkins, api.CheckIn{ID: string(rune('a' + i)), AttendeeID: id, At: day.Add(-time.Hour)})
			}
			pre := len(st.checkins)
			now := day
			fe := &fakeEngine{script: tc.script}
			k, err := New(cfg, fe, g, st, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			var states []State
			var prompts []Prompt
			var results []Result
			collect := func(evs []Event) {
				for _, e := range evs {
					switch e.Kind {
					case EventState:
						states = append(states, e.State)
					case EventPrompt:
						prompts = append(prompts, e.Prompt)
					case EventResult:
						results = append(results, *e.Result)
					}
				}
			}
			for range tc.script {
				evs, err := k.Step(ctx, engine.Image{W: 640, H: 480})
				if err != nil {
					t.Fatal(err)
				}
				collect(evs)
				if k.State() == StateConfirm && tc.answer != nil {
					q := k.Question()
					if q == nil || q.AttendeeID != "alice" || q.Name != "Alice A." {
						t.Fatalf("question %+v, want alice", q)
					}
					evs, err := k.Answer(ctx, *tc.answer)
					if err != nil {
						t.Fatal(err)
					}
					collect(evs)
				}
				now = now.Add(100 * time.Millisecond)
			}
			if !slices.Equal(states, tc.states) {
				t.Errorf("states %v, want %v", states, tc.states)
			}
			if tc.prompts != nil && !slices.Equal(prompts, tc.prompts) {
				t.Errorf("prompts %v, want %v", prompts, tc.prompts)
			}
			var outcomes []Outcome
			var methods []string
			for _, r := range results {
				outcomes = append(outcomes, r.Outcome)
				if r.Method != "" {
					methods = append(methods, r.Method)
				}
			}
			if !slices.Equal(outcomes, tc.results) || !slices.Equal(methods, tc.methods) {
				t.Errorf("results %v methods %v, want %v %v", outcomes, methods, tc.results, tc.methods)
			}
			if len(results) > 0 && results[0].LatencyMS != tc.latency {
				t.Errorf("latency %v ms, want %v", results[0].LatencyMS, tc.latency)
			}
			if got := len(st.checkins) - pre; got != tc.records {
				t.Errorf("%d check-ins recorded, want %d", got, tc.records)
			}
			for _, c := range st.checkins[pre:] {
				if c.AttendeeID != "alice" && c.AttendeeID != "bob" {
					t.Errorf("check-in of %q", c.AttendeeID)
				}
			}
		})
	}
}

func TestPromptForEveryReason(t *testing.T) {
	for _, r := range []engine.Reason{engine.ReasonTooSmall, engine.ReasonTooBig, engine.ReasonCut, engine.ReasonOffCentre, engine.ReasonManyFaces,
		engine.ReasonMovement, engine.ReasonYaw, engine.ReasonPitch, engine.ReasonRoll, engine.ReasonEyesClosed,
		engine.ReasonTooDark, engine.ReasonTooBright, engine.ReasonBlur} {
		if PromptFor(r) == PromptNone {
			t.Errorf("reason %s has no prompt", r)
		}
	}
	if PromptFor(engine.ReasonNoFace) != PromptNone {
		t.Error("no face should clear the prompt")
	}
}

func TestAnswerWithoutQuestion(t *testing.T) {
	k, err := New(DefaultConfig(), &fakeEngine{}, engine.NewGallery(1), &fakeStore{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Answer(context.Background(), true); !errors.Is(err, ErrNoQuestion) {
		t.Fatalf("Answer: %v, want ErrNoQuestion", err)
	}
}

// runScript steps a default-config kiosk (changed by change) through s,
// 100 ms a frame, with alice and bob enrolled, and returns the states and
// results it went through.
// testGallery holds one template per person.
func testGallery(t *testing.T, people map[string]engine.Embedding) *engine.Gallery {
	t.Helper()
	g := engine.NewGallery(1)
	for id, e := range people {
		q, err := engine.Quantize(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Add(id, q); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func runScript(t *testing.T, change func(*Config), s []frame) ([]State, []Result) {
	t.Helper()
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Location = time.UTC
	if change != nil {
		change(&cfg)
	}
	g := testGallery(t, map[string]engine.Embedding{"alice": alice, "bob": bob})
	st := &fakeStore{names: map[string]string{"alice": "Alice A.", "bob": "Bob B."}}
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	k, err := New(cfg, &fakeEngine{script: s}, g, st, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	var states []State
	var results []Result
	for range s {
		evs, err := k.Step(ctx, engine.Image{W: 640, H: 480})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			switch e.Kind {
			case EventState:
				states = append(states, e.State)
			case EventResult:
				results = append(results, *e.Result)
			}
		}
		now = now.Add(100 * time.Millisecond)
	}
	return states, results
}

// arrive is the first frame of an approach: no previous frame, so no
// movement measured (it cannot show the person holding still).
func arrive(emb engine.Embedding) []frame {
	a := analysis()
	a.Measures.Movement = float32(math.NaN())
	return []frame{{a, emb}}
}

// slide is a frame of walking in: the face box dx pixels off centre,
// moving (the first such frame of an approach has no movement measured).
func slide(emb engine.Embedding, dx float32, first bool) []frame {
	a := analysis(engine.ReasonMovement)
	if first {
		a = analysis()
		a.Measures.Movement = float32(math.NaN())
	}
	a.Faces[0].Box.X1 += dx
	a.Faces[0].Box.X2 += dx
	a.Face = a.Faces[0]
	return []frame{{a, emb}}
}

// at is n still, good frames with the face box dx pixels off centre.
func at(emb engine.Embedding, dx float32, n int) []frame {
	a := analysis()
	a.Faces[0].Box.X1 += dx
	a.Faces[0].Box.X2 += dx
	a.Face = a.Faces[0]
	return repeatFrame(frame{a, emb}, n)
}

func TestEarlyDecision(t *testing.T) {
	// With the defaults (accept 0.40, margin 0.05, lead 0.15) one frame
	// decides at score ≥ 0.55 with margin ≥ 0.20.
	clear := mix(0, 0.5, 2, math.Sqrt(0.75))               // alice 0.50: accepted, not by a lead
	close := mix(0, 1, 1, 0.85)                            // alice 0.76, bob 0.65: margin 0.11
	lowLive := func(emb engine.Embedding, n int) []frame { // liveness 0 (not NaN): a doubt
		a := analysis()
		a.Liveness = 0
		return repeatFrame(frame{a, emb}, n)
	}
	tests := []struct {
		name    string
		cfg     func(*Config)
		script  []frame
		states  []State
		outcome Outcome // "" for none
		latency float64
		frames  int // fused for the decision
	}{
		{
			name:   "confident second frame decides",
			script: script(arrive(alice), good(alice, 3)),
			states: []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown},
			// frame 0 has no movement measured; frame 1 is still
			outcome: OutcomeCheckedIn, latency: 100, frames: 2,
		},
		{
			name:    "first frame alone never decides",
			script:  script(arrive(alice), arrive(alice), arrive(alice)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome},
			outcome: OutcomeCheckedIn, latency: 200, frames: 3,
		},
		{
			name:    "accepted without a lead waits for fusion",
			script:  script(arrive(clear), good(clear, 3)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown},
			outcome: OutcomeCheckedIn, latency: 200, frames: 3,
		},
		{
			name:    "margin without a lead waits for fusion",
			script:  script(arrive(close), good(close, 3)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown},
			outcome: OutcomeCheckedIn, latency: 200, frames: 3,
		},
		{
			name:    "not found waits for fusion",
			script:  script(arrive(nobody), good(nobody, 3)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateNotFound, StateCooldown},
			outcome: OutcomeNotFound, latency: 200, frames: 3,
		},
		{
			name:   "a risky match waits for fusion",
			cfg:    func(c *Config) { c.LivenessMin = 0.5 },
			script: script(lowLive(alice, 1), lowLive(alice, 3)),
			// liveness doubt without a code key: "Are you NAME?" after fusion
			states: []State{StateApproach, StateHoldStill, StateIdentify, StateConfirm},
		},
		{
			name:   "blink required: decides on the first open frame after the blink",
			cfg:    func(c *Config) { c.RequireBlink = true },
			script: script(arrive(alice), closedEyes(alice, 2), good(alice, 2)),
			states: []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown},
			// two open frames embedded: the arrival and the first after the blink
			outcome: OutcomeCheckedIn, latency: 300, frames: 2,
		},
		{
			name:    "no blink, no early decision",
			cfg:     func(c *Config) { c.RequireBlink = true },
			script:  script(arrive(alice), good(alice, 4)),
			states:  []State{StateApproach, StateHoldStill, StateLiveness},
			outcome: "",
		},
		{
			name: "a face off the guide is asked to centre; nothing is decided",
			// half in the frame, walking in slowly enough to pass the
			// movement gate: still, but not where the kiosk looks
			script: script(slide(alice, -200, true), at(alice, -200, 3)),
			states: []State{StateApproach, StateGuide},
		},
		{
			name:    "lead 0 turns early decisions off",
			cfg:     func(c *Config) { c.EarlyLead = 0 },
			script:  script(arrive(alice), good(alice, 3)),
			states:  []State{StateApproach, StateHoldStill, StateIdentify, StateWelcome, StateCooldown},
			outcome: OutcomeCheckedIn, latency: 200, frames: 3,
		},
		{
			name: "the clock starts when the face is centred, not while it slides in",
			// in the guide's size but 120..60 px off centre, then centred
			// (still moving), then still: decided 100 ms after centring
			script: script(slide(alice, -120, true), slide(alice, -90, false), slide(alice, -60, false),
				slide(alice, 0, false), good(alice, 2)),
			states:  []State{StateApproach, StateGuide, StateIdentify, StateWelcome, StateCooldown},
			outcome: OutcomeCheckedIn, latency: 100, frames: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			states, results := runScript(t, tc.cfg, tc.script)
			if !slices.Equal(states, tc.states) {
				t.Errorf("states %v, want %v", states, tc.states)
			}
			if tc.outcome == "" {
				if len(results) > 0 {
					t.Errorf("results %+v, want none", results)
				}
				return
			}
			if len(results) != 1 {
				t.Fatalf("results %+v, want one %s", results, tc.outcome)
			}
			r := results[0]
			if r.Outcome != tc.outcome || r.LatencyMS != tc.latency || r.Frames != tc.frames {
				t.Errorf("outcome %s latency %v ms frames %d, want %s %v ms %d", r.Outcome, r.LatencyMS, r.Frames,
					tc.outcome, tc.latency, tc.frames)
			}
		})
	}
}

func TestFramedInGuide(t *testing.T) {
	box := func(cx, cy, h float32) engine.Box {
		return engine.Box{X1: cx - 0.4*h, Y1: cy - h/2, X2: cx + 0.4*h, Y2: cy + h/2}
	}
	// 640x480: the guide oval's radii are 131 px across and 168 px down;
	// the centre may be a third of them (43.7, 56 px) off.
	tests := []struct {
		name   string
		box    engine.Box
		issues []engine.Reason
		w, h   int
		want   bool
	}{
		{"centred", box(320, 240, 216), nil, 640, 480, true},
		{"a little off", box(350, 215, 216), nil, 640, 480, true},
		{"sliding in", box(267, 240, 216), nil, 640, 480, false},
		{"too high", box(320, 180, 216), nil, 640, 480, false},
		{"centred but too small", box(320, 240, 90), []engine.Reason{engine.ReasonTooSmall}, 640, 480, false},
		{"centred but cut", box(320, 240, 216), []engine.Reason{engine.ReasonCut}, 640, 480, false},
		{"centred, not still", box(320, 240, 216), []engine.Reason{engine.ReasonMovement}, 640, 480, true},
		{"portrait frame", box(240, 320, 300), nil, 480, 640, true},
		{"no frame size", box(320, 240, 216), nil, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &engine.Analysis{Faces: []engine.Face{{Box: tc.box}}}
			a.Face = a.Faces[0]
			for _, r := range tc.issues {
				a.Issues = append(a.Issues, engine.Issue{Reason: r})
			}
			if got := framedInGuide(a, tc.w, tc.h); got != tc.want {
				t.Errorf("framedInGuide = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCaptureTemplates: a check-in carries the matched face's template,
// sealed for the attendee, only with Config.CaptureTemplates and a key,
// only from a confident face match (or one proved by code), never from a
// bare "yes", and only for an attendee stored with capture consent: the
// check-in queued for the server (the real local database's outbox, what
// leaves the kiosk) has no capture of anyone else.
func TestCaptureTemplates(t *testing.T) {
	key := bytes.Repeat([]byte{7}, api.KeySize)
	accepted := mix(0, 0.5, 2, math.Sqrt(0.75)) // alice 0.50: accepted, not confident
	tests := []struct {
		name    string
		capture bool
		key     []byte
		emb     engine.Embedding
		yes     bool // answer "Are you NAME?"
		stored  bool // alice is in the local database (not only the gallery)
		consent bool // alice's capture consent from the gallery feed
		want    bool
	}{
		{"confident face match, consented", true, key, alice, false, true, true, true},
		{"confident face match, no capture consent", true, key, alice, false, true, false, false},
		{"confident face match, attendee not stored", true, key, alice, false, false, false, false},
		{"setting off", false, key, alice, false, true, true, false},
		{"not paired: no key", true, nil, alice, false, true, true, false},
		{"accepted but not confident", true, key, accepted, false, true, true, false},
		{"confirmed by yes only", true, key, maybeA, true, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := DefaultConfig()
			cfg.Location, cfg.CaptureTemplates, cfg.CodeKey, cfg.SecondVerify = time.UTC, tc.capture, tc.key, false
			g := testGallery(t, map[string]engine.Embedding{"alice": alice})
			qa, err := engine.Quantize(alice)
			if err != nil {
				t.Fatal(err)
			}
			db := openTestDB(t)
			if tc.stored {
				if err := db.UpsertAttendee(ctx, storage.Attendee{ID: "alice", Name: "Alice A.", CaptureConsent: tc.consent},
					[]api.Template{{Model: qa.Model, Version: qa.Version, Data: qa.Bytes()}}); err != nil {
					t.Fatal(err)
				}
			}
			s := script(arrive(tc.emb), good(tc.emb, 3))
			k, err := New(cfg, &fakeEngine{script: s}, g, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			var results []Result
			for range s {
				evs, err := k.Step(ctx, engine.Image{W: 640, H: 480})
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, eventResults(evs)...)
			}
			if tc.yes {
				evs, err := k.Answer(ctx, true)
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, eventResults(evs)...)
			}
			items, err := db.PendingOutbox(ctx, 0, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Kind != storage.OutboxCheckIn {
				t.Fatalf("outbox holds %d items (%+v), want 1 check-in", len(items), items)
			}
			var c api.CheckIn
			if err := json.Unmarshal(items[0].Payload, &c); err != nil {
				t.Fatal(err)
			}
			if got := c.Capture != nil; got != tc.want {
				t.Fatalf("capture queued for the server: %v, want %v (method %s, score %.2f)", got, tc.want, c.Method, c.Score)
			}
			if len(results) != 1 || results[0].Captured != tc.want {
				t.Fatalf("results %+v, want one with Captured %v", results, tc.want)
			}
			if !tc.want {
				return
			}
			tpl, err := api.OpenTemplate(key, "alice", *c.Capture)
			if err != nil {
				t.Fatal(err)
			}
			q, err := engine.TemplateFromBytes(tpl.Model, tpl.Version, tpl.Data)
			if err != nil {
				t.Fatal(err)
			}
			if sim := q.Similarity(&qa); sim < 0.99 {
				t.Errorf("captured template scores %.3f against the face that matched", sim)
			}
			if _, err := api.OpenTemplate(key, "bob", *c.Capture); err == nil {
				t.Error("a capture sealed for alice opens as bob's")
			}
		})
	}
}

// eventResults returns the results among evs.
func eventResults(evs []Event) []Result {
	var out []Result
	for _, e := range evs {
		if e.Kind == EventResult {
			out = append(out, *e.Result)
		}
	}
	return out
}

// TestSearchMax: fusing frames by each attendee's best score gives what a
// brute-force per-attendee maximum over every frame gives.
func TestSearchMax(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		randEmb := func(near engine.Embedding, w float64) engine.Embedding {
			e := make(engine.Embedding, engine.Dim)
			for i := range e {
				e[i] = float32(rng.NormFloat64())
				if near != nil {
					e[i] = float32(w)*near[i]*float32(math.Sqrt(engine.Dim)) + e[i]
				}
			}
			return engine.Normalize(e)
		}
		g := engine.NewGallery(8)
		people := make([]engine.Embedding, 12)
		for p := range people {
			people[p] = randEmb(nil, 0)
			for k := 0; k <= p%2; k++ { // some attendees have two templates
				q, err := engine.Quantize(randEmb(people[p], 1.5))
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Add(fmt.Sprint("p", p), q); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Three frames: two near one attendee, one near another.
		frames := []engine.Embedding{randEmb(people[3], 0.8), randEmb(people[3], 0.6), randEmb(people[5], 0.9)}
		got, err := searchMax(g, frames)
		if err != nil {
			t.Fatal(err)
		}
		best := map[string]float32{}
		for _, f := range frames {
			q, err := engine.Quantize(f)
			if err != nil {
				t.Fatal(err)
			}
			for id, s := range g.ScoresAll(&q) {
				if old, ok := best[id]; !ok || s > old {
					best[id] = s
				}
			}
		}
		ids := make([]string, 0, len(best))
		for id := range best {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return best[ids[i]] > best[ids[j]] })
		const eps = 1e-5
		if got.ID != ids[0] || got.SecondID != ids[1] || math.Abs(float64(got.Score-best[ids[0]])) > eps ||
			math.Abs(float64(got.SecondScore-best[ids[1]])) > eps || math.Abs(float64(got.Margin-(got.Score-got.SecondScore))) > eps {
			t.Fatalf("seed %d: searchMax %+v, want %s %.4f then %s %.4f", seed, got, ids[0], best[ids[0]], ids[1], best[ids[1]])
		}
	}
}
