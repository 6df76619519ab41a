package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// TemplateDim is the length of a template's Data: 512 unsigned bytes, each
// an int8 component + 128 (facecheck.Template).
const TemplateDim = facecheck.Dim

// newVector checks a wire template and decodes it for comparison
// (facecheck.ParseTemplate). It fails on another format version, a wrong
// length or an all-zero vector, which no model yields.
func newVector(t api.Template) (facecheck.Template, error) {
	return facecheck.ParseTemplate(t)
}

// thresholds are th as the decision rule takes them.
func thresholds(th api.Thresholds) facecheck.Thresholds {
	return facecheck.Thresholds{Accept: th.Accept, Confirm: th.Confirm, Margin: th.Margin}
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
	vectors []facecheck.Template
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
func (eg *eventGallery) search(probe *facecheck.Template) match {
	eg.mu.Lock()
	defer eg.mu.Unlock()
	var m match
	second := float32(-2)
	for id, p := range eg.people {
		best := float32(-2)
		for i := range p.vectors {
			v := &p.vectors[i]
			if !v.Comparable(probe) {
				continue
			}
			best = max(best, probe.Similarity(v))
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
