package calibrate

import (
	"math"
	"slices"
	"testing"
)

// scalar is a one-dimensional "template": similarity is the product.
type scalar float32

func (a *scalar) Similarity(b *scalar) float32 { return float32(*a) * float32(*b) }

func TestGenuine(t *testing.T) {
	got := Genuine([][]scalar{{0.5}, {0.5, 0.8, 1}, {}})
	want := []float64{0.4, 0.5, 0.8} // the pairs of the second attendee only
	if len(got) != len(want) {
		t.Fatalf("Genuine = %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("Genuine = %v, want %v", got, want)
		}
	}
}

func TestShareBelow(t *testing.T) {
	s := []float64{0.1, 0.3, 0.5, 0.7}
	for _, tc := range []struct {
		t, want float64
	}{{0.1, 0}, {0.4, 0.5}, {0.8, 1}} {
		if got := ShareBelow(s, tc.t); got != tc.want {
			t.Errorf("ShareBelow(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	if got := ShareBelow(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("ShareBelow(nil) = %v, want NaN", got)
	}
}

func TestNewHistogram(t *testing.T) {
	imp := []float64{-0.11, 0, 0.05, 0.21}
	gen := []float64{0.6, 0.9}
	h := NewHistogram(imp, gen, 0.1, 0.45, 0.35)
	if math.Abs(h.Start-(-0.2)) > 1e-9 || h.Width != 0.1 {
		t.Fatalf("start %v width %v", h.Start, h.Width)
	}
	if end := h.Start + float64(len(h.Counts))*h.Width; end < 0.9 {
		t.Fatalf("bins end at %v, below the highest genuine score", end)
	}
	sum := func(c []int) (n int) {
		for _, v := range c {
			n += v
		}
		return n
	}
	if sum(h.Counts) != len(imp) || sum(h.Genuine) != len(gen) || len(h.Genuine) != len(h.Counts) {
		t.Fatalf("histogram %+v", h)
	}
	// -0.11 in [-0.2, -0.1), 0 and 0.05 in [0, 0.1), 0.21 in [0.2, 0.3).
	if !slices.Equal(h.Counts[:5], []int{1, 0, 2, 0, 1}) {
		t.Fatalf("counts %v", h.Counts)
	}
	if e := NewHistogram(nil, gen, 0.1, 0.4); e.Counts != nil || e.Width != 0.1 {
		t.Fatalf("no impostors: %+v", e)
	}
}
