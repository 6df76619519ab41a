package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/decisiontest"
	"github.com/facecheck/facecheck/storage"
)

// TestDecisionTable plays every row of the shared decision table
// (testdata/decisions.csv, also driven through the server's identify API)
// through the state machine: three frames whose face scores tc.Score
// against alice and tc.Score-tc.Margin against bob, with the row's risk
// made real (a liveness score below the minimum, an earlier check-in with
// VerifyRepeat) and second verification on or off.
func TestDecisionTable(t *testing.T) {
	want := map[facecheck.Decision]State{
		facecheck.Accept: StateWelcome, facecheck.Confirm: StateConfirm,
		facecheck.Verify: StateSecondVerify, facecheck.Reject: StateNotFound,
	}
	n := 0
	for _, tc := range decisiontest.Table(t) {
		if tc.NearThreshold(0.01) { // 8-bit rounding may tip it
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			sa, sb := float64(tc.Score), float64(tc.Score-tc.Margin)
			emb := make(engine.Embedding, engine.Dim)
			emb[0], emb[1], emb[2] = float32(sa), float32(sb), float32(math.Sqrt(1-sa*sa-sb*sb))
			r := newVerifyRig(t, func(c *Config) {
				c.Accept, c.Confirm, c.Margin = tc.Th.Accept, tc.Th.Confirm, tc.Th.Margin
				c.SecondVerify = tc.CanVerify
				if tc.Risk == facecheck.RiskLiveness {
					c.LivenessMin = 0.5 // the scripted frames' liveness is 0
				}
				c.VerifyRepeat = tc.Risk == facecheck.RiskRepeat
			}, good(emb, 3))
			if tc.Risk == facecheck.RiskRepeat {
				r.st.checkins = append(r.st.checkins, api.CheckIn{ID: "earlier", AttendeeID: "alice", At: r.now.Add(-1e12)})
			}
			r.step(t, 3, blankFrame)
			if got := r.k.State(); got != want[tc.Want] {
				t.Fatalf("state %s, want %s (%s)", got, want[tc.Want], tc.Want)
			}
			switch tc.Want {
			case facecheck.Verify:
				if c, why := r.k.Verification(); c == nil || c.AttendeeID != "alice" || why != tc.WantRisk {
					t.Fatalf("verification %+v, %q; want alice, %q", c, why, tc.WantRisk)
				}
			case facecheck.Confirm:
				if q := r.k.Question(); q == nil || q.AttendeeID != "alice" {
					t.Fatalf("question %+v, want alice", q)
				}
			case facecheck.Accept:
				res := r.results()
				outcome := OutcomeCheckedIn
				if tc.WantRisk == facecheck.RiskRepeat {
					outcome = OutcomeRepeat
				}
				if len(res) != 1 || res[0].AttendeeID != "alice" || res[0].Outcome != outcome {
					t.Fatalf("results %+v, want alice %s", res, outcome)
				}
			}
		})
	}
	if n < 15 {
		t.Fatalf("%d rows played, want at least 15", n)
	}
}

// countingStore counts the reads a check-in makes.
type countingStore struct {
	*fakeStore
	finds, checks int
}

func (s *countingStore) FindAttendee(ctx context.Context, id string) (storage.Attendee, error) {
	s.finds++
	return s.fakeStore.FindAttendee(ctx, id)
}

func (s *countingStore) HasCheckedIn(ctx context.Context, id string, since time.Time) (bool, error) {
	s.checks++
	return s.fakeStore.HasCheckedIn(ctx, id, since)
}

// TestCheckInReadsOnce: a face check-in reads its attendee once and
// whether they checked in before once, however many steps (risk, repeat,
// capture consent, welcome line) ask.
func TestCheckInReadsOnce(t *testing.T) {
	r := newVerifyRig(t, func(c *Config) { c.VerifyRepeat, c.CaptureTemplates = true, true }, good(alice, 3))
	cs := &countingStore{fakeStore: r.st}
	r.k.store = cs
	r.step(t, 3, blankFrame)
	if res := r.results(); len(res) != 1 || res[0].Outcome != OutcomeCheckedIn {
		t.Fatalf("results %+v", res)
	}
	if cs.finds != 1 || cs.checks != 1 {
		t.Fatalf("FindAttendee ×%d, HasCheckedIn ×%d; want 1 each", cs.finds, cs.checks)
	}
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
