package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facecheck/facecheck/engine"
)

// normUpper is the exact upper quantile of N(mu, sd) at rate p.
func normUpper(mu, sd, p float64) float64 {
	return mu + sd*math.Sqrt2*math.Erfinv(1-2*p)
}

func gaussian(n int, mu, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = mu + sd*r.NormFloat64()
	}
	return out
}

// TestFitGaussianQuantiles: on Gaussian scores N(0.05, 0.09), with 2,000
// scores (a 64-attendee gallery) or 20,000 (a 200-attendee gallery), the
// fitted tail finds the quantiles at 1e-3 and 1e-4 (beyond 1/len, which
// the empirical quantile cannot name) within a few hundredths of a cosine,
// erring high: a Gaussian tail is lighter than the exponential the fit
// falls back to (the shape is never taken below 0).
func TestFitGaussianQuantiles(t *testing.T) {
	const mu, sd = 0.05, 0.09
	for _, n := range []int{2000, 20000} {
		var errs, signed [3]float64
		const reps = 20
		for rep := range reps {
			tail := Fit(gaussian(n, mu, sd, uint64(rep)))
			for i, p := range []float64{1e-2, 1e-3, 1e-4} {
				got, want := tail.Quantile(p), normUpper(mu, sd, p)
				errs[i] += math.Abs(got-want) / reps
				signed[i] += (got - want) / reps
			}
		}
		t.Logf("n=%d mean |q-q_true| at 1e-2, 1e-3, 1e-4: %.4f %.4f %.4f", n, errs[0], errs[1], errs[2])
		if signed[2] < 0 {
			t.Errorf("n=%d: fitted tail below the Gaussian's 1e-4 quantile on average (%.4f): not conservative", n, signed[2])
		}
		for i, tol := range []float64{0.015, 0.04, 0.1} {
			if errs[i] > tol {
				t.Errorf("n=%d: quantile %d off by %.4f on average, want <= %.3f", n, i, errs[i], tol)
			}
		}
	}
}

// TestFitHeavyTail: scores whose tail is heavier than exponential (a GPD
// with shape 0.2 above the 90th percentile of a Gaussian bulk) keep their
// fitted positive shape at 20,000 scores and the quantiles down to 1e-4
// within a few hundredths; the exponential falls short by 0.2 at 1e-4.
func TestFitHeavyTail(t *testing.T) {
	const xi, sigma, u, zeta = 0.2, 0.04, 0.17, 0.1
	r := rand.New(rand.NewPCG(5, 5))
	scores := make([]float64, 20000)
	for i := range scores {
		if r.Float64() < zeta {
			// Inverse GPD survival: y = sigma/xi * (U^-xi - 1).
			scores[i] = u + sigma/xi*(math.Pow(1-r.Float64(), -xi)-1)
		} else {
			scores[i] = math.Min(u, 0.05+0.09*r.NormFloat64())
		}
	}
	tail := Fit(scores)
	if tail.Xi <= 0.05 {
		t.Errorf("shape %.3f fitted to a tail of shape %.1f", tail.Xi, xi)
	}
	for _, p := range []float64{1e-3, 1e-4} {
		want := u + sigma/xi*(math.Pow(p/zeta, -xi)-1)
		if got := tail.Quantile(p); math.Abs(got-want) > 0.04 {
			t.Errorf("quantile at %g: %.4f, want %.4f", p, got, want)
		}
	}
}

// TestRateAtRoundTrip: the FPIR a threshold implies is the target it came
// from, and, with 20,000 Gaussian scores (a 200-attendee gallery) and
// per-comparison rates down to 1e-4, the true FPIR at that threshold is
// never above 2x the target and, since a Gaussian tail is lighter than the
// exponential the fit never goes below, no stricter than 1/10 of it.
func TestRateAtRoundTrip(t *testing.T) {
	const mu, sd = 0.05, 0.09
	tail := Fit(gaussian(20000, mu, sd, 7))
	for _, N := range []int{1, 100, 1000} {
		for _, target := range []float64{1e-2, 1e-3, 1e-4} {
			acc, conf := Thresholds(tail, target, N)
			if conf > acc {
				t.Errorf("N=%d target %g: confirm %.4f above accept %.4f", N, target, conf, acc)
			}
			if got := RateAt(tail, acc, N); math.Abs(got-target)/target > 1e-6 {
				t.Errorf("N=%d target %g: RateAt(accept) = %g", N, target, got)
			}
			if PerComparison(target, N) < 1e-4 {
				continue
			}
			pTrue := 0.5 * math.Erfc((acc-mu)/(sd*math.Sqrt2))
			trueFPIR := 1 - math.Pow(1-pTrue, float64(N))
			t.Logf("N=%d target %g: accept %.4f, true FPIR %.3g (ratio %.2f)", N, target, acc, trueFPIR, trueFPIR/target)
			if r := trueFPIR / target; r < 0.1 || r > 2 {
				t.Errorf("N=%d target %g: accept %.4f has true FPIR %.3g (ratio %.2f)", N, target, acc, trueFPIR, r)
			}
		}
	}
}

func TestMonotone(t *testing.T) {
	tail := Fit(gaussian(3000, 0.1, 0.1, 3))
	prev := math.Inf(1)
	for e := -7.0; e <= 0; e += 0.25 {
		q := tail.Quantile(math.Pow(10, e))
		if q > prev+1e-12 {
			t.Fatalf("quantile not decreasing in p at 1e%.2f: %.5f > %.5f", e, q, prev)
		}
		prev = q
	}
	prevS := 2.0
	for x := -0.5; x <= 1.2; x += 0.01 {
		s := tail.Survival(x)
		if s > prevS+1e-12 {
			t.Fatalf("survival not decreasing at %.2f", x)
		}
		prevS = s
	}
	// Larger galleries need higher thresholds for the same FPIR.
	prevA := math.Inf(-1)
	for _, N := range []int{1, 10, 100, 1000, 10000} {
		a, _ := Thresholds(tail, 1e-3, N)
		if a < prevA {
			t.Errorf("accept threshold fell from %.4f to %.4f at N=%d", prevA, a, N)
		}
		prevA = a
	}
	// Stricter targets need higher thresholds.
	a2, _ := Thresholds(tail, 1e-2, 100)
	a3, _ := Thresholds(tail, 1e-3, 100)
	if a3 <= a2 {
		t.Errorf("accept at 1e-3 %.4f not above accept at 1e-2 %.4f", a3, a2)
	}
}

func TestEdgeCases(t *testing.T) {
	var empty Tail
	if a, c := Thresholds(Fit(nil), 1e-3, 10); !math.IsNaN(a) || !math.IsNaN(c) {
		t.Errorf("empty: thresholds %v %v, want NaN", a, c)
	}
	if !math.IsNaN(RateAt(empty, 0.5, 10)) {
		t.Error("empty: RateAt not NaN")
	}
	// One score (a two-attendee gallery): finite thresholds above it.
	tail := Fit([]float64{0.1})
	a, c := Thresholds(tail, 1e-2, 2)
	if math.IsNaN(a) || a < 0.1 || c > a {
		t.Errorf("one score: accept %v confirm %v", a, c)
	}
	// Tiny gallery: few scores still give a usable, monotone tail.
	tail = Fit(gaussian(10, 0, 0.1, 1))
	a1, _ := Thresholds(tail, 1e-2, 5)
	a2, _ := Thresholds(tail, 1e-3, 5)
	if math.IsNaN(a1) || a2 < a1 {
		t.Errorf("tiny: accept 1e-2 %v, 1e-3 %v", a1, a2)
	}
	if PerComparison(0.01, 0) != 0.01 || PerComparison(0, 10) != 0 {
		t.Error("PerComparison edge cases")
	}
	if Impostors([][]engine.Template(nil), 0, 0) != nil || ImpostorsBytes(nil, 0, 0) != nil {
		t.Error("Impostors of nothing")
	}
	// NaN scores are ignored.
	if Fit([]float64{math.NaN()}).N != 0 {
		t.Error("NaN score fitted")
	}
}

func template(t *testing.T, seed uint64) engine.Template {
	r := rand.New(rand.NewPCG(seed, 2))
	e := make(engine.Embedding, engine.Dim)
	for i := range e {
		e[i] = float32(r.NormFloat64())
	}
	tp, err := engine.Quantize(engine.Normalize(e))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestImpostors(t *testing.T) {
	var ts []engine.Template
	for i := range 30 {
		ts = append(ts, template(t, uint64(i)))
	}
	all := Impostors(Singles(ts), 0, 1)
	if len(all) != 30*29/2 {
		t.Fatalf("all pairs: %d", len(all))
	}
	if got := Impostors(Singles(ts), 1000, 1); len(got) != len(all) {
		t.Errorf("cap above the pair count should give all pairs, got %d", len(got))
	}
	s1, s2 := Impostors(Singles(ts), 100, 5), Impostors(Singles(ts), 100, 5)
	if len(s1) != 100 {
		t.Fatalf("sample: %d", len(s1))
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatal("sample not reproducible for a fixed seed")
		}
		if s1[i] > 0.5 { // random 512-d vectors: cos ~ N(0, 1/sqrt(512)); never a self pair (1.0)
			t.Fatalf("sampled a self pair? score %.3f", s1[i])
		}
	}
}

// TestImpostorsMulti: with several templates per attendee a pair scores the
// best of one attendee's templates against the other's first, as 1:N does
// for a probe, and attendees without templates are skipped.
func TestImpostorsMulti(t *testing.T) {
	var people [][]engine.Template
	for i := range 12 {
		var ts []engine.Template
		for k := range 1 + i%3 {
			ts = append(ts, template(t, uint64(1000+10*i+k)))
		}
		people = append(people, ts)
	}
	got := Impostors(append(people, nil), 0, 1)
	if len(got) != 12*11/2 {
		t.Fatalf("pairs: %d", len(got))
	}
	k := 0
	for a := range people {
		for b := a + 1; b < len(people); b++ {
			g, p := a, b // g's templates against p's first, alternating
			if (a+b)%2 == 1 {
				g, p = b, a
			}
			want := math.Inf(-1)
			for i := range people[g] {
				want = max(want, float64(people[p][0].Similarity(&people[g][i])))
			}
			if got[k] != want {
				t.Fatalf("pair (%d, %d): %v, want the best over %d templates %v", a, b, got[k], len(people[g]), want)
			}
			k++
		}
	}
	single := Impostors(Singles([]engine.Template{people[2][0], people[5][0]}), 0, 1) // attendee 2 has 3 templates
	if len(single) != 1 || single[0] > got[23] {
		t.Errorf("extra templates lowered a pair's score: %v > %v", single, got[23])
	}
	var bs [][][]byte
	for _, ts := range people {
		var b [][]byte
		for i := range ts {
			b = append(b, ts[i].Bytes())
		}
		bs = append(bs, b)
	}
	if wire := ImpostorsBytes(bs, 30, 9); len(wire) != 30 || math.Abs(wire[3]-Impostors(people, 30, 9)[3]) > 1e-6 {
		t.Error("wire and engine multi-template samples differ")
	}
}

// TestImpostorsBytes: the wire form scores exactly as engine templates do,
// and malformed templates are skipped.
func TestImpostorsBytes(t *testing.T) {
	var ts []engine.Template
	var bs [][]byte
	for i := range 20 {
		tp := template(t, uint64(100+i))
		ts = append(ts, tp)
		bs = append(bs, tp.Bytes())
	}
	want := Impostors(Singles(ts), 0, 1)
	zero := make([]byte, WireDim) // all components 0 (value+128)
	for i := range zero {
		zero[i] = 128
	}
	got := ImpostorsBytes(Singles(append(bs, []byte{1, 2, 3}, zero)), 0, 1)
	if len(got) != len(want) {
		t.Fatalf("pairs: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("pair %d: bytes %v, engine %v", i, got[i], want[i])
		}
	}
	if s1, s2 := ImpostorsBytes(Singles(bs), 50, 3), Impostors(Singles(ts), 50, 3); len(s1) != 50 || s1[7] != s2[7] {
		t.Error("sampled pairs differ between wire and engine templates")
	}
	if s := SimilarityBytes(bs[0], bs[0]); math.Abs(s-1) > 1e-5 {
		t.Errorf("self similarity %v", s)
	}
	if !math.IsNaN(SimilarityBytes(bs[0], nil)) {
		t.Error("malformed template scored")
	}
}

// BenchmarkCalibrate is the server's recalibration of a 5,000-attendee
// event, half of them with a kept check-in capture: 200,000 sampled pairs
// (server.Config.CalibrationMaxPairs), each the best of one attendee's
// templates, then the tail fit and the thresholds.
func BenchmarkCalibrate(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	people := make([][][]byte, 5000)
	for i := range people {
		for range 1 + i%2 {
			t := make([]byte, WireDim)
			for k := range t {
				t[k] = byte(128 + int(r.NormFloat64()*30))
			}
			people[i] = append(people[i], t)
		}
	}
	for b.Loop() {
		tail := Fit(ImpostorsBytes(people, 200_000, 1))
		if a, _ := Thresholds(tail, 1e-3, len(people)); math.IsNaN(a) {
			b.Fatal("no threshold")
		}
	}
}
