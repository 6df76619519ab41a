package calibrate

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/facecheck/facecheck/engine"
)

// population generates face templates of one synthetic population. An
// identity is a unit vector made of a direction the whole population shares
// (weight shared), a few trait directions (age, face shape, skin tone...)
// with random per-person loadings of spread traitSD, and the person's own
// direction; a photo is the identity plus photo noise. A shared direction
// raises every impostor score; trait loadings make two people's scores a sum
// of products of normals, whose upper tail falls off about exponentially,
// as the dev faces' impostor scores do (0.10-0.12 per decade from 1e-1 to
// 1e-4), not like a Gaussian's.
type population struct {
	name    string
	shared  float64
	traitSD float64
	noise   float64 // photo noise relative to the identity vector
	r       *rand.Rand
	common  []float64
	traits  [][]float64
}

func newPopulation(name string, shared float64, traits int, traitSD float64, seed uint64) *population {
	p := &population{name: name, shared: shared, traitSD: traitSD, noise: 0.6,
		r: rand.New(rand.NewPCG(seed, 11))}
	p.common = p.unit()
	for range traits {
		p.traits = append(p.traits, p.unit())
	}
	return p
}

func (p *population) unit() []float64 {
	v := make([]float64, engine.Dim)
	var n float64
	for i := range v {
		v[i] = p.r.NormFloat64()
		n += v[i] * v[i]
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] /= n
	}
	return v
}

// identity is a new person of the population, as a unit vector.
func (p *population) identity() []float64 {
	v := p.unit()
	for i := range v {
		v[i] += p.shared * p.common[i]
	}
	for _, tr := range p.traits {
		a := p.traitSD * p.r.NormFloat64() * p.r.ExpFloat64()
		for i := range v {
			v[i] += a * tr[i]
		}
	}
	var n float64
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] /= n
	}
	return v
}

// photo is a template of one photo of identity id.
func (p *population) photo(t *testing.T, id []float64) engine.Template {
	t.Helper()
	n := p.unit()
	e := make(engine.Embedding, engine.Dim)
	for i := range e {
		e[i] = float32(id[i] + p.noise*n[i])
	}
	tp, err := engine.Quantize(engine.Normalize(e))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// event enrols gallery people with one photo each and makes strangers
// photos of people not enrolled.
func (p *population) event(t *testing.T, gallery, strangers int) (enrolled, probes []engine.Template) {
	t.Helper()
	for range gallery {
		enrolled = append(enrolled, p.photo(t, p.identity()))
	}
	for range strangers {
		probes = append(probes, p.photo(t, p.identity()))
	}
	return enrolled, probes
}

// bestScores is each probe's best score against the gallery (an open-set
// search's top candidate).
func bestScores(gallery, probes []engine.Template) []float64 {
	out := make([]float64, len(probes))
	for i := range probes {
		best := math.Inf(-1)
		for j := range gallery {
			best = max(best, float64(probes[i].Similarity(&gallery[j])))
		}
		out[i] = best
	}
	return out
}

func countAtOrAbove(xs []float64, t float64) int {
	n := 0
	for _, x := range xs {
		if x >= t {
			n++
		}
	}
	return n
}

// TestCalibrationAcrossPopulations is the calibration issue's premise on
// populations the dev faces cannot show, and on gallery sizes beyond their
// 95 identities (where the GPD shape is fitted): a threshold tuned on one
// population lets several times more strangers through on another, while a
// threshold calibrated from each event's own gallery never lets through
// more than twice its target, pooled over several events.
//
// These synthetic tails fall off faster than an exponential far out (their
// quantiles per decade shrink: 0.19, 0.15, 0.09 for A), unlike the dev
// faces' (0.12, 0.10, 0.10), so the calibration, which never extrapolates a
// tail lighter than exponential, is strict on them (logged, not checked;
// docs/accuracy.md). On an earlier version of these populations with
// Gaussian-like tails, a free GPD shape let 2.3-10x the target through at
// 300 attendees.
func TestCalibrationAcrossPopulations(t *testing.T) {
	if testing.Short() {
		t.Skip("scores ~15 million template pairs")
	}
	pops := []*population{
		newPopulation("A", 0, 6, 0.3, 1),
		// Every impostor pair +0.09 before photo noise, and 1 in 25 pairs
		// look-alikes (+0.12 more): a population far from the training set.
		newPopulation("B", 0.4, 3, 0.5, 2),
	}
	targets := []float64{1e-2, 1e-3}
	for _, c := range []struct{ gallery, events, strangers int }{{40, 30, 1000}, {300, 6, 3000}} {
		best := make([][][]float64, len(pops)) // [population][event][stranger]
		for pi, p := range pops {
			fa := make([]int, len(targets))
			n := 0
			for range c.events {
				enrolled, probes := p.event(t, c.gallery, c.strangers)
				tail := Fit(Impostors(Singles(enrolled), 0, 0))
				sc := bestScores(enrolled, probes)
				best[pi] = append(best[pi], sc)
				for k, target := range targets {
					a, _ := Thresholds(tail, target, c.gallery)
					fa[k] += countAtOrAbove(sc, a)
				}
				n += len(probes)
			}
			for k, target := range targets {
				ratio := float64(fa[k]) / float64(n) / target
				t.Logf("%-20s gallery %3d, target %.0e: %d false accepts of %d strangers over %d events, ratio %.2f",
					p.name, c.gallery, target, fa[k], n, c.events, ratio)
				if ratio > 2 {
					t.Errorf("%s, gallery %d, target %.0e: ratio %.2f, want at most 2", p.name, c.gallery, target, ratio)
				}
			}
		}
		// A threshold tuned on the first population (the exact one for the
		// target on its strangers) on the second population's events.
		var a, b []float64
		for e := range c.events {
			a, b = append(a, best[0][e]...), append(b, best[1][e]...)
		}
		sort.Float64s(a)
		for _, target := range targets {
			tuned := a[int(float64(len(a))*(1-target))]
			cross := float64(countAtOrAbove(b, tuned)) / float64(len(b)) / target
			t.Logf("  gallery %d: the threshold %.3f that lets %.0e of %s's strangers through lets %.1fx that of %s's through",
				c.gallery, tuned, target, pops[0].name, cross, pops[1].name)
			if cross < 4 {
				t.Errorf("gallery %d, target %.0e: the populations are too alike to show anything (%.1fx)", c.gallery, target, cross)
			}
		}
	}
}
