package kiosk

import (
	"context"
	"errors"
	"math"
	"slices"
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

func TestAnswerWithoutQuestion(t *testing.T) {
	k, err := New(DefaultConfig(), &fakeEngine{}, engine.NewGallery(1), &fakeStore{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Answer(context.Background(), true); !errors.Is(err, ErrNoQuestion) {
		t.Fatalf("Answer: %v, want ErrNoQuestion", err)
	}
}

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

// runScript steps a default-config kiosk (changed by change) through s,
// 100 ms a frame, with alice and bob enrolled, and returns the states and
// results it went through.
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
