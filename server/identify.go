package server

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// TemplateDim is the length of a template's Data: 512 unsigned bytes, each
// an int8 component + 128.
const TemplateDim = 512

// vector is a template ready for comparison: centred int8 values and the
// inverse of their Euclidean norm.
type vector struct {
	model   string
	version int
	q       []int8
	inv     float32
}

// newVector checks a wire template and centres it. It fails on a wrong
// length or an all-zero vector, which no model yields.
func newVector(t api.Template) (vector, error) {
	if len(t.Data) != TemplateDim {
		return vector{}, fmt.Errorf("template has %d bytes, want %d", len(t.Data), TemplateDim)
	}
	v := vector{model: t.Model, version: t.Version, q: make([]int8, TemplateDim)}
	var n int64
	for i, b := range t.Data {
		x := int8(int(b) - 128)
		v.q[i] = x
		n += int64(x) * int64(x)
	}
	if n == 0 {
		return vector{}, fmt.Errorf("template is all zeros")
	}
	v.inv = float32(1 / math.Sqrt(float64(n)))
	return v, nil
}

// similarity is the cosine of two vectors of the same model and version,
// from their integer dot product.
func similarity(a, b *vector) float32 {
	bq := b.q[:len(a.q)]
	var d int32
	for i, x := range a.q {
		d += int32(x) * int32(bq[i])
	}
	return float32(d) * a.inv * b.inv
}

// decide maps a score and its margin to the second-best identity onto the
// event's thresholds (DESIGN.md, kiosk flow): a high score with a low
// margin is risky and needs second verification.
func decide(th api.Thresholds, score, margin float32) string {
	switch {
	case score >= th.Accept && margin >= th.Margin:
		return api.DecisionAccept
	case score >= th.Confirm && margin >= th.Margin:
		return api.DecisionConfirm
	case score >= th.Confirm:
		return api.DecisionVerify
	default:
		return api.DecisionReject
	}
}

// galleries caches each event's gallery in memory for identify, kept up to
// date from the same delta feed kiosks read.
type galleries struct {
	mu sync.Mutex
	m  map[string]*eventGallery
}

func newGalleries() *galleries { return &galleries{m: map[string]*eventGallery{}} }

type eventGallery struct {
	mu     sync.Mutex
	cursor int64
	people map[string]*person
}

type person struct {
	name    string
	vectors []vector
}

// get returns the event's gallery, brought up to date.
func (g *galleries) get(ctx context.Context, db *store.DB, ev *store.Event) (*eventGallery, error) {
	g.mu.Lock()
	eg, ok := g.m[ev.ID]
	if !ok {
		eg = &eventGallery{people: map[string]*person{}}
		g.m[ev.ID] = eg
	}
	g.mu.Unlock()
	eg.mu.Lock()
	defer eg.mu.Unlock()
	end, _, err := db.StreamGallery(ctx, ev.ID, eg.cursor, func(rec api.GalleryRecord) error {
		if rec.Op == api.OpDelete {
			delete(eg.people, rec.AttendeeID)
			return nil
		}
		p := &person{name: rec.Name}
		for _, st := range rec.Templates {
			t, err := api.OpenTemplate(ev.TemplateKey, rec.AttendeeID, st)
			if err != nil {
				return fmt.Errorf("attendee %s: %w", rec.AttendeeID, err)
			}
			v, err := newVector(t)
			if err != nil {
				return fmt.Errorf("attendee %s: %w", rec.AttendeeID, err)
			}
			p.vectors = append(p.vectors, v)
		}
		eg.people[rec.AttendeeID] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load gallery: %w", err)
	}
	eg.cursor = end
	return eg, nil
}

// match is the best identity for a probe and its margin to the second
// best (the score itself when there is no second).
type match struct {
	id, name      string
	score, margin float32
	found         bool
}

// search scores every person by their best template of the probe's model
// and version and returns the best person and the second-best score.
func (eg *eventGallery) search(probe *vector) match {
	eg.mu.Lock()
	defer eg.mu.Unlock()
	var m match
	second := float32(-2)
	for id, p := range eg.people {
		best := float32(-2)
		for i := range p.vectors {
			v := &p.vectors[i]
			if v.model != probe.model || v.version != probe.version {
				continue
			}
			best = max(best, similarity(probe, v))
		}
		if best < -1 {
			continue
		}
		switch {
		case !m.found || best > m.score:
			if m.found {
				second = m.score
			}
			m.id, m.name, m.score, m.found = id, p.name, best, true
		case best > second:
			second = best
		}
	}
	m.margin = m.score
	if second >= -1 {
		m.margin = m.score - second
	}
	return m
}
