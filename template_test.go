package facecheck_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

const testModel = "test-model@1"

func randomUnit(r *rand.Rand) []float32 {
	e := make([]float32, facecheck.Dim)
	var n float64
	for i := range e {
		e[i] = float32(r.NormFloat64())
		n += float64(e[i]) * float64(e[i])
	}
	for i := range e {
		e[i] /= float32(math.Sqrt(n))
	}
	return e
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func mustQuantize(tb testing.TB, e []float32) facecheck.Template {
	tb.Helper()
	t, err := facecheck.Quantize(testModel, e)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestQuantizeKeepsCosine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var worst float64
	for range 200 {
		a, b := randomUnit(r), randomUnit(r)
		// Mix to get a spread of similarities, not only ~0.
		for i := range b {
			b[i] = 0.6*a[i] + 0.4*b[i]
		}
		ta, tb := mustQuantize(t, a), mustQuantize(t, b)
		worst = max(worst, math.Abs(cosine(a, b)-float64(ta.Similarity(&tb))))
	}
	if worst > 0.01 {
		t.Fatalf("max |cos_fp32 - cos_q| = %.4f, want <= 0.01", worst)
	}
}

func TestQuantizeErrors(t *testing.T) {
	nan := make([]float32, facecheck.Dim)
	nan[3] = float32(math.NaN())
	inf := make([]float32, facecheck.Dim)
	inf[7] = float32(math.Inf(-1))
	for name, e := range map[string][]float32{"short": make([]float32, 10), "zero": make([]float32, facecheck.Dim), "nan": nan, "inf": inf} {
		if _, err := facecheck.Quantize(testModel, e); !errors.Is(err, facecheck.ErrTemplate) {
			t.Errorf("%s: err = %v, want ErrTemplate", name, err)
		}
	}
}

func TestParseTemplate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := mustQuantize(t, randomUnit(r))
	t.Run("OK", func(t *testing.T) {
		b, err := facecheck.ParseTemplate(a.Wire())
		if err != nil {
			t.Fatal(err)
		}
		if b != a {
			t.Fatal("round trip changed the template")
		}
		if s := a.Similarity(&b); math.Abs(float64(s)-1) > 1e-6 {
			t.Fatalf("self-similarity %v", s)
		}
	})
	for _, tc := range []struct {
		name string
		t    api.Template
	}{
		{"ErrShort", api.Template{Model: testModel, Version: 1, Data: a.Bytes()[:100]}},
		{"ErrLong", api.Template{Model: testModel, Version: 1, Data: append(a.Bytes(), 1)}},
		{"ErrVersion", api.Template{Model: testModel, Version: 2, Data: a.Bytes()}},
		{"ErrAllZero", api.Template{Model: testModel, Version: 1, Data: make128()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := facecheck.ParseTemplate(tc.t); !errors.Is(err, facecheck.ErrTemplate) {
				t.Fatalf("err = %v, want ErrTemplate", err)
			}
		})
	}
}

// make128 is the wire form of the all-zero vector.
func make128() []byte {
	b := make([]byte, facecheck.Dim)
	for i := range b {
		b[i] = 128
	}
	return b
}

func TestDotInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 512} {
		a, b := make([]int8, n), make([]int8, n+3)
		var want int32
		for i := range a {
			a[i], b[i] = int8(r.IntN(256)-128), int8(r.IntN(256)-128)
			want += int32(a[i]) * int32(b[i])
		}
		if got := facecheck.DotInt8(a, b); got != want {
			t.Errorf("n=%d: %d, want %d", n, got, want)
		}
	}
}
