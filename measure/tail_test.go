package measure_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/measure"
)

// TestTailHeldOutDevFaces checks the impostor tail model where the open-set
// honesty check cannot reach: galleries large enough for the GPD regime
// (~24,000 pairs). The tail is fitted on the different-identity pairs of
// all photos of half the identities and the per-comparison rates it
// predicts are measured on every other different-identity pair (never used
// in the fit), pooled over 40 identity splits: within 2x at 1e-3 and 3e-4,
// and at 1e-4 never more than 2x (nor stricter than 4x). A free GPD shape
// failed this (1.18x, 1.92x, 3.19x); the shape at least 0 gives 0.84x,
// 0.85x, 0.46x.
func TestTailHeldOutDevFaces(t *testing.T) {
	probes := relabelledDevFaces(t)
	var ps []measure.Probe
	for _, p := range probes {
		if p.Detected {
			ps = append(ps, p)
		}
	}
	n := len(ps)
	sim := make([][]float64, n)
	for i := range sim {
		sim[i] = make([]float64, n)
		for j := range i {
			sim[i][j] = float64(ps[i].Template.Similarity(&ps[j].Template))
		}
	}
	var ids []string
	for _, p := range ps {
		if !slices.Contains(ids, p.Identity) {
			ids = append(ids, p.Identity)
		}
	}
	rates := []float64{1e-3, 3e-4, 1e-4}
	fa := make([]int, len(rates))
	tested := 0
	r := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		perm := r.Perm(len(ids))
		fitSide := map[string]bool{}
		for _, k := range perm[:len(ids)/2] {
			fitSide[ids[k]] = true
		}
		var fit, test []float64
		for i := range ps {
			for j := range i {
				if ps[i].Identity == ps[j].Identity {
					continue
				}
				if fitSide[ps[i].Identity] && fitSide[ps[j].Identity] {
					fit = append(fit, sim[i][j])
				} else {
					test = append(test, sim[i][j])
				}
			}
		}
		tail := calibrate.Fit(fit)
		if len(fit) < calibrate.MinShapeExceedances/calibrate.TailFraction {
			t.Fatalf("only %d pairs fitted: not the GPD regime", len(fit))
		}
		for k, p := range rates {
			q := tail.Quantile(p)
			for _, x := range test {
				if x >= q {
					fa[k]++
				}
			}
		}
		tested += len(test)
	}
	for k, p := range rates {
		ratio := float64(fa[k]) / float64(tested) / p
		t.Logf("per-comparison rate %.0e: measured %.2e on %d held-out pairs (%d above), ratio %.2f", p, float64(fa[k])/float64(tested), tested, fa[k], ratio)
		lo := 0.5
		if p < 3e-4 {
			lo = 0.25
		}
		if ratio > 2 || ratio < lo {
			t.Errorf("rate %.0e: ratio %.2f, want %.2f to 2", p, ratio, lo)
		}
	}
}
