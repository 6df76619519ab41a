package kiosk

import (
	"context"
	"math"
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
