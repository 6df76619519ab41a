package engine

import (
	"fmt"
	"math"
	"sync"
)

// Match is the outcome of a 1:N search: the best identity, the best different
// identity, and the gap between them that decides whether a match is risky.
type Match struct {
	ID          string
	Score       float32
	SecondID    string
	SecondScore float32
	// Margin is Score - SecondScore (Score itself when the gallery holds one identity).
	Margin float32
	// Found is false when the gallery is empty.
	Found bool
}

// Gallery is an in-memory, thread-safe set of templates keyed by identity.
// An identity may hold several templates (e.g. registration selfie plus a
// confirmed check-in capture); search scores an identity by its best one.
// Templates are kept in one contiguous []int8 so a search is a single pass
// over memory, and removal swaps the last row into the hole.
type Gallery struct {
	mu       sync.RWMutex
	q        []int8    // rows of Dim
	inv      []float32 // 1/|row|
	owner    []string  // identity of each row
	rows     map[string][]int
	maxPerID int
}

// NewGallery returns an empty gallery keeping at most maxPerID templates per
// identity (oldest dropped first); maxPerID < 1 means 1.
func NewGallery(maxPerID int) *Gallery {
	return &Gallery{rows: map[string][]int{}, maxPerID: max(1, maxPerID)}
}

// Len returns the number of identities.
func (g *Gallery) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.rows)
}

// Templates returns the number of stored templates.
func (g *Gallery) Templates() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.owner)
}

// IDs returns the identities in the gallery, in no particular order.
func (g *Gallery) IDs() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	ids := make([]string, 0, len(g.rows))
	for id := range g.rows {
		ids = append(ids, id)
	}
	return ids
}

func checkTemplate(t *Template) error {
	if t.Model != ModelID || t.Version != TemplateVersion || t.InvNorm == 0 {
		return fmt.Errorf("%w: model %q version %d", ErrTemplate, t.Model, t.Version)
	}
	return nil
}

// Add appends a template to id, dropping its oldest one beyond the per-identity limit.
func (g *Gallery) Add(id string, t Template) error {
	if err := checkTemplate(&t); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if rs := g.rows[id]; len(rs) >= g.maxPerID {
		g.removeRow(rs[0])
	}
	g.q = append(g.q, t.Q[:]...)
	g.inv = append(g.inv, t.InvNorm)
	g.owner = append(g.owner, id)
	g.rows[id] = append(g.rows[id], len(g.owner)-1)
	return nil
}

// Replace sets id's templates to ts (removing id when ts is empty).
func (g *Gallery) Replace(id string, ts ...Template) error {
	for i := range ts {
		if err := checkTemplate(&ts[i]); err != nil {
			return err
		}
	}
	g.Remove(id)
	for _, t := range ts {
		if err := g.Add(id, t); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes every template of id; removing an unknown id is a no-op.
func (g *Gallery) Remove(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.rows[id]) > 0 {
		g.removeRow(g.rows[id][0])
	}
	delete(g.rows, id)
}

// removeRow deletes row r by moving the last row into its place. Callers hold mu.
func (g *Gallery) removeRow(r int) {
	id := g.owner[r]
	g.rows[id] = without(g.rows[id], r)
	if len(g.rows[id]) == 0 {
		delete(g.rows, id)
	}
	last := len(g.owner) - 1
	if r != last {
		lid := g.owner[last]
		copy(g.q[r*Dim:(r+1)*Dim], g.q[last*Dim:])
		g.inv[r] = g.inv[last]
		g.owner[r] = lid
		for i, x := range g.rows[lid] {
			if x == last {
				g.rows[lid][i] = r
			}
		}
	}
	g.q = g.q[:last*Dim]
	g.inv = g.inv[:last]
	g.owner = g.owner[:last]
}

func without(s []int, v int) []int {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// Verify is the 1:1 comparison of t against id's best template; ok is false
// when id is not in the gallery.
func (g *Gallery) Verify(id string, t *Template) (score float32, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	rs, ok := g.rows[id]
	if !ok {
		return 0, false
	}
	best := float32(-2)
	for _, r := range rs {
		best = max(best, float32(dotInt8(t.Q[:], g.q[r*Dim:(r+1)*Dim]))*t.InvNorm*g.inv[r])
	}
	return best, true
}

// searchChunk is how many rows are scored per kernel call: 1024 rows of
// int32 scores (4 KiB) stay in L1 while the best and second best are picked.
const searchChunk = 1024

var scoreBufs = sync.Pool{New: func() any { b := make([]int32, searchChunk); return &b }}

// Search is the 1:N search: the best-scoring identity and the best other one.
// Integer dot products over the contiguous rows (an AVX2 kernel where the
// CPU has it), scaled by each row's inverse norm.
func (g *Gallery) Search(t *Template) Match {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var m Match
	// Scores here are not yet scaled by the probe's norm (|score| up to
	// ~16000), so the sentinels must be below any of them.
	bestScore, secondScore := float32(math.Inf(-1)), float32(math.Inf(-1))
	best, second := -1, -1
	q := t.Q[:]
	bp := scoreBufs.Get().(*[]int32)
	defer scoreBufs.Put(bp)
	buf := *bp
	n := len(g.owner)
	for c := 0; c < n; c += searchChunk {
		k := min(searchChunk, n-c)
		dotRows(q, g.q[c*Dim:(c+k)*Dim], buf[:k])
		for i, d := range buf[:k] {
			r := c + i
			s := float32(d) * g.inv[r]
			if s <= secondScore {
				continue
			}
			switch {
			case s > bestScore:
				if best < 0 || g.owner[best] != g.owner[r] {
					secondScore, second = bestScore, best
				}
				bestScore, best = s, r
			case g.owner[r] != g.owner[best]:
				secondScore, second = s, r
			}
		}
	}
	if best < 0 {
		return m
	}
	m.Found = true
	m.ID, m.Score = g.owner[best], bestScore*t.InvNorm
	m.Margin = m.Score
	if second >= 0 {
		m.SecondID, m.SecondScore = g.owner[second], secondScore*t.InvNorm
		m.Margin = m.Score - m.SecondScore
	}
	return m
}

// ScoresAll returns, for every identity, its best score against t. Used by
// evaluation and calibration, not by the check-in hot path.
func (g *Gallery) ScoresAll(t *Template) map[string]float32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make(map[string]float32, len(g.rows))
	for r, id := range g.owner {
		s := float32(dotInt8(t.Q[:], g.q[r*Dim:(r+1)*Dim])) * g.inv[r] * t.InvNorm
		if old, ok := out[id]; !ok || s > old {
			out[id] = s
		}
	}
	return out
}
