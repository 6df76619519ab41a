package measure

import (
	"math"
	"testing"
)

func TestROC(t *testing.T) {
	// 10 impostors 0.0..0.9, genuine 0.5..0.95.
	var imp, gen []float64
	for i := 0; i < 10; i++ {
		imp = append(imp, float64(i)/10)
		gen = append(gen, 0.5+float64(i)/20)
	}
	r := NewROC(gen, imp)
	tests := []struct {
		far     float64
		wantT   float64
		wantOK  bool
		wantTAR float64
	}{
		{0.1, 0.8, true, 0.3},  // one impostor (0.9) above 0.8; genuine > 0.8: 0.85,0.9,0.95
		{0.0, 0.9, false, 0.1}, // below resolution: threshold = max impostor
		{0.5, 0.4, true, 1.0},
	}
	for _, tt := range tests {
		tar, th, ok := r.TARAtFAR(tt.far)
		if math.Abs(th-tt.wantT) > 1e-9 || ok != tt.wantOK || math.Abs(tar-tt.wantTAR) > 1e-9 {
			t.Errorf("FAR %g: got t=%g ok=%v tar=%g, want t=%g ok=%v tar=%g", tt.far, th, ok, tar, tt.wantT, tt.wantOK, tt.wantTAR)
		}
		if got := r.FAR(th); got > tt.far && tt.wantOK {
			t.Errorf("FAR(%g) = %g > %g", th, got, tt.far)
		}
	}
	acc, th := r.BestBalanced()
	if acc < 0.74 || th < 0.4 || th > 0.8 {
		t.Errorf("BestBalanced = %g at %g", acc, th)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if got := Percentile(xs, 50); got != 3 {
		t.Errorf("p50 = %g", got)
	}
	if got := Percentile(xs, 100); got != 5 {
		t.Errorf("p100 = %g", got)
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("empty percentile not NaN")
	}
}
