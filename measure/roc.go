package measure

import (
	"math"
	"sort"
)

// ROC holds genuine (same identity) and impostor (different identity)
// similarity scores and answers threshold questions about them.
type ROC struct {
	Genuine  []float64 // sorted ascending
	Impostor []float64 // sorted descending
}

// NewROC sorts copies of the scores.
func NewROC(genuine, impostor []float64) *ROC {
	g := append([]float64(nil), genuine...)
	im := append([]float64(nil), impostor...)
	sort.Float64s(g)
	sort.Sort(sort.Reverse(sort.Float64Slice(im)))
	return &ROC{Genuine: g, Impostor: im}
}

// ThresholdAtFAR is the lowest threshold t such that at most far of the
// impostor scores are strictly above t (accept means score > t). ok is false
// when far is below what the impostor count can resolve (1/len).
func (r *ROC) ThresholdAtFAR(far float64) (t float64, ok bool) {
	n := len(r.Impostor)
	if n == 0 {
		return math.NaN(), false
	}
	k := int(math.Floor(far * float64(n)))
	if k >= n {
		return -1, true
	}
	return r.Impostor[k], far*float64(n) >= 1
}

// TAR is the fraction of genuine scores strictly above t.
func (r *ROC) TAR(t float64) float64 {
	if len(r.Genuine) == 0 {
		return math.NaN()
	}
	i := sort.Search(len(r.Genuine), func(i int) bool { return r.Genuine[i] > t })
	return float64(len(r.Genuine)-i) / float64(len(r.Genuine))
}

// FAR is the fraction of impostor scores strictly above t.
func (r *ROC) FAR(t float64) float64 {
	if len(r.Impostor) == 0 {
		return math.NaN()
	}
	// Impostor is descending: count the prefix > t.
	i := sort.Search(len(r.Impostor), func(i int) bool { return r.Impostor[i] <= t })
	return float64(i) / float64(len(r.Impostor))
}

// TARAtFAR combines ThresholdAtFAR and TAR.
func (r *ROC) TARAtFAR(far float64) (tar, threshold float64, ok bool) {
	t, ok := r.ThresholdAtFAR(far)
	return r.TAR(t), t, ok
}

// BestBalanced sweeps every score as a threshold and returns the one with
// the highest (TAR + TRR) / 2.
func (r *ROC) BestBalanced() (acc, threshold float64) {
	cands := append(append([]float64(nil), r.Genuine...), r.Impostor...)
	sort.Float64s(cands)
	acc = -1
	for i, t := range cands {
		if i > 0 && t == cands[i-1] {
			continue
		}
		// accept when score > t; also try just below the lowest score.
		a := (r.TAR(t) + 1 - r.FAR(t)) / 2
		if a > acc {
			acc, threshold = a, t
		}
	}
	return acc, threshold
}

// Accuracy is the fraction of pairs classified right at threshold t, with
// genuine and impostor pairs counted as they come (the LFW definition).
func (r *ROC) Accuracy(t float64) float64 {
	ng, ni := float64(len(r.Genuine)), float64(len(r.Impostor))
	if ng+ni == 0 {
		return math.NaN()
	}
	return (r.TAR(t)*ng + (1-r.FAR(t))*ni) / (ng + ni)
}

// BestAccuracyThreshold is the threshold maximising Accuracy: the middle of
// the first run of scores that reach the best accuracy, not its lower edge,
// so a threshold learnt on some folds does not hug one fold's scores.
func (r *ROC) BestAccuracyThreshold() float64 {
	cands := append(append([]float64(nil), r.Genuine...), r.Impostor...)
	sort.Float64s(cands)
	best, lo, hi := -1.0, 0.0, 0.0
	inRun := false
	for i, t := range cands {
		if i > 0 && t == cands[i-1] {
			continue
		}
		a := r.Accuracy(t)
		switch {
		case a > best:
			best, lo, hi, inRun = a, t, t, true
		case a == best && inRun:
			hi = t
		default:
			if inRun && a < best {
				hi, inRun = (hi+t)/2, false
			}
		}
	}
	return (lo + hi) / 2
}

// Point is one ROC point.
type Point struct{ FAR, TAR float64 }

// Curve samples the ROC at log-spaced false-accept rates.
func (r *ROC) Curve() []Point {
	var pts []Point
	for e := -6.0; e <= 0; e += 0.05 {
		far := math.Pow(10, e)
		t, ok := r.ThresholdAtFAR(far)
		if !ok {
			continue
		}
		pts = append(pts, Point{FAR: max(far, 1/float64(len(r.Impostor))), TAR: r.TAR(t)})
	}
	return pts
}
