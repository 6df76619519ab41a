// Package calibrate derives decision thresholds from an event's own
// gallery, without labels: the impostor score distribution is estimated
// from cross-attendee pairs of enrolled templates (different attendees are,
// by construction, different people), its upper tail is fitted with a
// generalised Pareto distribution (GPD), and the accept and confirm
// thresholds follow from a target false-accept rate per check-in and the
// gallery size. It also holds the estimators the dashboard draws
// (estimate.go).
//
// Method (peaks over threshold): the scores above a high empirical quantile
// u (the top TailFraction, at least MinExceedances) are modelled as u + Y,
// Y ~ GPD(sigma, xi), fitted by probability-weighted moments (Hosking &
// Wallis 1987), which needs no iterative optimiser. With fewer than
// MinShapeExceedances exceedances the shape is fixed at 0 (an exponential
// tail), and it is never taken below 0: a bounded tail is what a finite
// sample shows, not what the scores far beyond it do. Beyond u the survival
// function is zeta*(1+xi*y/sigma)^(-1/xi), zeta the fraction of scores
// above u; below u the empirical distribution is used as is.
//
// Why not an empirical quantile: an event needs a per-comparison rate far
// below 1/len of its pairs (1,000 attendees at 1 false accept in 10,000
// check-ins need ~1e-7 from ~5e5 pairs), where the empirical quantile is
// just the largest score seen. Exceedances over a high threshold are
// approximately GPD for any continuous score distribution in the usual
// domains of attraction (Pickands–Balkema–de Haan), so the fitted tail
// extrapolates smoothly and uses every exceedance.
//
// How well this holds on real faces, and why the constants have their
// values: docs/accuracy.md, "Self-calibrated thresholds (no labels)".
package calibrate

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

// TailFraction is the share of the top impostor scores the tail is fitted
// on, and MinExceedances the least number of them (when there are enough).
// The tail approximation holds the better the higher u is; the top 5% is
// where a free GPD shape stops underestimating a Gaussian's 1e-4 quantile,
// and the exponential tail of small galleries uses the same share, since
// cosine impostor scores fall off faster than exponential near the bulk
// (docs/accuracy.md, "Self-calibrated thresholds", the tail change). That
// choice was made on the same faces the honesty check runs on.
const (
	TailFraction   = 0.05
	MinExceedances = 50
)

// MinShapeExceedances is the least number of exceedances the GPD shape is
// estimated from; below it (fewer than 4,000 scores: galleries of up to ~90
// attendees with all pairs) the tail is exponential (shape 0). A free shape
// fitted on fewer points found a bounded tail the probes' scores did not
// have and swung the accept threshold from split to split (docs/accuracy.md,
// "Self-calibrated thresholds"). For tails lighter than exponential (a
// Gaussian) the exponential errs high, i.e. on the safe side.
const MinShapeExceedances = 200

// ConfirmFactor is how much more often than the accept threshold the confirm
// threshold lets an impostor through (to the "Are you NAME?" prompt, where
// the person still has to say yes).
const ConfirmFactor = 10

// Comparable is a template type whose pointer scores another template of
// the same type: facecheck.Template (engine.Template is the same type).
// The package imports no gocv, so the server, which must not link OpenCV,
// calibrates from wire templates (ImpostorsBytes).
type Comparable[T any] interface {
	*T
	Similarity(*T) float32
}

// Impostors returns cross-attendee similarity scores as an impostor at the
// desk meets them: attendees holds each attendee's templates (the first is
// the registration photo), and the score of a pair of attendees (a, b) is
// the best of a's templates against b's first, since 1:N takes the best
// template of each attendee (which of the two is a alternates from pair to
// pair). With one template each these are the plain pair scores; with
// more, an attendee's extra templates are extra chances for an impostor
// and the scores say so, so the gallery size stays the number of
// attendees. All n(n-1)/2 pairs are scored, or, when that exceeds
// maxPairs > 0, maxPairs ordered pairs drawn at random (with replacement)
// from a generator seeded with seed, so the cost stays fixed for large
// galleries and the result is reproducible. Attendees without templates are
// skipped.
func Impostors[T any, P Comparable[T]](attendees [][]T, maxPairs int, seed uint64) []float64 {
	people := make([][]T, 0, len(attendees))
	for _, ts := range attendees {
		if len(ts) > 0 {
			people = append(people, ts)
		}
	}
	n := len(people)
	if n < 2 {
		return nil
	}
	// sim is the best of a's templates against b's first.
	sim := func(a, b int) float64 {
		probe := P(&people[b][0])
		best := math.Inf(-1)
		for k := range people[a] {
			best = max(best, float64(probe.Similarity(&people[a][k])))
		}
		return best
	}
	total := n * (n - 1) / 2
	if maxPairs <= 0 || total <= maxPairs {
		out := make([]float64, 0, total)
		for a := range people {
			for b := a + 1; b < n; b++ {
				// Alternate which side's templates count, so every
				// attendee's extra templates enter half of its pairs.
				if (a+b)%2 == 1 {
					out = append(out, sim(b, a))
				} else {
					out = append(out, sim(a, b))
				}
			}
		}
		return out
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]float64, maxPairs)
	for k := range out {
		a := r.IntN(n)
		b := r.IntN(n - 1)
		if b >= a {
			b++
		}
		out[k] = sim(a, b)
	}
	return out
}

// Singles wraps one template per attendee for Impostors.
func Singles[T any](templates []T) [][]T {
	out := make([][]T, len(templates))
	for i := range templates {
		out[i] = templates[i : i+1 : i+1]
	}
	return out
}

// WireDim is the length of a template on the wire: 512 unsigned bytes, each
// an int8 component + 128 (api.Template.Data).
const WireDim = facecheck.Dim

// parseWire decodes a wire template (facecheck.ParseTemplate).
func parseWire(b []byte) (facecheck.Template, bool) {
	t, err := facecheck.ParseTemplate(api.Template{Version: facecheck.TemplateVersion, Data: b})
	return t, err == nil
}

// ImpostorsBytes is Impostors on wire templates (WireDim bytes, value+128,
// all of one model and version), attendees[i] being attendee i's templates:
// the same scores as facecheck.Template.Similarity gives. Templates of another
// length or all zeros are skipped.
func ImpostorsBytes(attendees [][][]byte, maxPairs int, seed uint64) []float64 {
	people := make([][]facecheck.Template, 0, len(attendees))
	for _, ts := range attendees {
		var ws []facecheck.Template
		for _, b := range ts {
			if w, ok := parseWire(b); ok {
				ws = append(ws, w)
			}
		}
		people = append(people, ws)
	}
	return Impostors(people, maxPairs, seed)
}

// SimilarityBytes is the cosine of two wire templates (NaN if either is
// malformed), e.g. for genuine pairs of one attendee's templates.
func SimilarityBytes(a, b []byte) float64 {
	wa, ok1 := parseWire(a)
	wb, ok2 := parseWire(b)
	if !ok1 || !ok2 {
		return math.NaN()
	}
	return float64(wa.Similarity(&wb))
}

// Tail is the fitted impostor score distribution: empirical below U,
// generalised Pareto above it. The zero Tail (no scores) answers NaN.
type Tail struct {
	N     int     `json:"n"`     // scores fitted
	U     float64 `json:"u"`     // tail threshold
	Zeta  float64 `json:"zeta"`  // fraction of scores above U
	Sigma float64 `json:"sigma"` // GPD scale
	Xi    float64 `json:"xi"`    // GPD shape (<0: bounded tail, 0: exponential)

	sorted []float64 // ascending copy of the scores
}

// Scores returns the fitted scores, ascending (for a histogram).
func (t Tail) Scores() []float64 { return t.sorted }

// Fit fits the upper tail of scores (see the package comment). Fewer than 3
// scores leave an exponential tail with a small fixed scale; empty input
// gives the zero Tail.
func Fit(scores []float64) Tail {
	s := make([]float64, 0, len(scores))
	for _, x := range scores {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s = append(s, x)
		}
	}
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return Tail{}
	}
	t := Tail{N: n, sorted: s}
	k := int(math.Ceil(TailFraction * float64(n)))
	shape := k >= MinShapeExceedances
	k = max(k, MinExceedances)
	k = min(k, n/2)
	if k < 3 {
		// Too few scores to fit a shape: exponential tail from the top.
		t.U = s[n-1]
		t.Zeta = 1 / float64(n+1)
		t.Sigma = 0.02
		if n >= 2 {
			_, sd := meanStd(s)
			t.Sigma = max(sd/2, 1e-3)
		}
		return t
	}
	// u between the (n-k)-th and (n-k+1)-th order statistics, so exactly k
	// scores exceed it (ties aside).
	t.U = (s[n-k-1] + s[n-k]) / 2
	var y []float64
	for _, x := range s[n-k:] {
		if x > t.U {
			y = append(y, x-t.U)
		}
	}
	t.Zeta = float64(len(y)) / float64(n)
	if !shape || len(y) < MinShapeExceedances {
		// Exponential tail (shape 0): its scale's MLE is the mean exceedance.
		m, _ := meanStd(y)
		t.Sigma, t.Xi = max(m, 1e-6), 0
		return t
	}
	t.Sigma, t.Xi = fitGPD(y)
	return t
}

// fitGPD estimates (sigma, xi) from ascending exceedances by
// probability-weighted moments, shape clamped to [0, 0.5] (see the package
// comment for why not below 0).
func fitGPD(y []float64) (sigma, xi float64) {
	m := float64(len(y))
	var a0, a1 float64
	for i, v := range y {
		p := (float64(i+1) - 0.35) / m
		a0 += v
		a1 += (1 - p) * v
	}
	a0 /= m
	a1 /= m
	d := a0 - 2*a1
	if a0 <= 0 || d <= 0 {
		return max(a0, 1e-4), 0
	}
	xi = 2 - a0/d
	xi = math.Max(0, math.Min(0.5, xi))
	// Refit the scale for the clamped shape: E[Y] = sigma/(1-xi).
	sigma = a0 * (1 - xi)
	if xi == 2-a0/d {
		sigma = 2 * a0 * a1 / d
	}
	return max(sigma, 1e-6), xi
}

func meanStd(x []float64) (m, sd float64) {
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		sd += (v - m) * (v - m)
	}
	return m, math.Sqrt(sd / float64(max(len(x)-1, 1)))
}

// Survival is the fitted P(score >= x) for one impostor comparison.
func (t Tail) Survival(x float64) float64 {
	if t.N == 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= t.U {
		// Empirical: fraction of scores >= x.
		i := sort.SearchFloat64s(t.sorted, x)
		return float64(t.N-i) / float64(t.N)
	}
	z := (x - t.U) / t.Sigma
	if math.Abs(t.Xi) < 1e-9 {
		return t.Zeta * math.Exp(-z)
	}
	b := 1 + t.Xi*z
	if b <= 0 {
		return 0 // beyond the upper end point of a bounded tail
	}
	return t.Zeta * math.Pow(b, -1/t.Xi)
}

// Quantile is the score an impostor comparison reaches with probability p
// (the inverse of Survival). NaN for the zero Tail or p outside (0, 1].
func (t Tail) Quantile(p float64) float64 {
	if t.N == 0 || !(p > 0 && p <= 1) {
		return math.NaN()
	}
	if p >= t.Zeta {
		// Empirical upper quantile, linear between order statistics.
		pos := (1 - p) * float64(t.N-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, t.N-1)
		f := pos - float64(lo)
		return t.sorted[lo]*(1-f) + t.sorted[hi]*f
	}
	r := p / t.Zeta
	if math.Abs(t.Xi) < 1e-9 {
		return t.U - t.Sigma*math.Log(r)
	}
	return t.U + t.Sigma/t.Xi*(math.Pow(r, -t.Xi)-1)
}

// PerComparison is the per-comparison false-match rate p with
// 1-(1-p)^N = fpir: an impostor probe is falsely accepted when any of the
// N gallery entries clears the threshold (comparisons taken as independent).
// N < 1 counts as 1.
func PerComparison(fpir float64, gallerySize int) float64 {
	n := float64(max(gallerySize, 1))
	if fpir <= 0 {
		return 0
	}
	if fpir >= 1 {
		return 1
	}
	return -math.Expm1(math.Log1p(-fpir) / n)
}

// Thresholds derives the accept and confirm thresholds for a target
// false-positive identification rate per check-in (an impostor at the desk
// accepted as someone) over a gallery of gallerySize entries. accept is the
// tail's quantile at the per-comparison rate p (see PerComparison); confirm
// is the quantile at ConfirmFactor*p: an impostor reaches the "Are you
// NAME?" prompt about ten times as often as they would be accepted outright,
// which keeps the prompt rare for walk-ins while catching the genuine
// attendees whose score falls just short of accept. Both are NaN for an
// empty tail; confirm <= accept always.
func Thresholds(tail Tail, targetFPIR float64, gallerySize int) (accept, confirm float64) {
	p := PerComparison(targetFPIR, gallerySize)
	if p <= 0 {
		return math.NaN(), math.NaN()
	}
	accept = tail.Quantile(p)
	confirm = tail.Quantile(math.Min(1, ConfirmFactor*p))
	return accept, math.Min(confirm, accept)
}

// RateAt is the FPIR a pinned threshold implies for a gallery of
// gallerySize entries: 1-(1-S(threshold))^N.
func RateAt(tail Tail, threshold float64, gallerySize int) float64 {
	s := tail.Survival(threshold)
	if math.IsNaN(s) {
		return s
	}
	n := float64(max(gallerySize, 1))
	return -math.Expm1(n * math.Log1p(-math.Min(s, 1)))
}
