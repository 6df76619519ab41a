package testenv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
)

// RandomTemplate is the wire template of a random unit embedding: a stand-in
// attendee for tests that need a gallery but no face (any two are
// near-orthogonal, so they never match each other).
func RandomTemplate(tb testing.TB, rng *rand.Rand) api.Template {
	tb.Helper()
	e := make(engine.Embedding, engine.Dim)
	var n float64
	for i := range e {
		e[i] = float32(rng.NormFloat64())
		n += float64(e[i]) * float64(e[i])
	}
	for i := range e {
		e[i] /= float32(math.Sqrt(n))
	}
	q, err := engine.Quantize(e)
	if err != nil {
		tb.Fatal(err)
	}
	return api.Template{Model: q.Model, Version: q.Version, Data: q.Bytes()}
}
