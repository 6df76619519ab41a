package engine

import (
	"errors"
	"fmt"
	"math"
)

// Dim is the length of an embedding from the feature model.
const Dim = 512

// ModelID names the recogniser whose embeddings a template holds. Templates
// of different models are never compared.
const ModelID = "fr_feature@faceplugin-0.0.1"

// TemplateVersion is the format version of Template; bump it when the
// quantisation changes so old templates are re-enrolled, not misread.
const TemplateVersion = 1

// ErrTemplate is returned for templates that cannot be compared or decoded.
var ErrTemplate = errors.New("invalid template")

// Embedding is an L2-normalised float feature vector.
type Embedding []float32

// Template is an embedding quantised to signed 8 bits with a per-vector scale
// chosen so the largest component maps to ±127. Cosine similarity between two
// templates is their integer dot product divided by the product of their
// integer norms, so search never touches floats per dimension.
type Template struct {
	Model   string
	Version int
	Q       [Dim]int8
	// InvNorm is 1/|Q| (Euclidean norm of the integer vector).
	InvNorm float32
}

// Normalize scales v to unit length in place and returns it. A zero vector is
// returned unchanged.
func Normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// Cosine returns the cosine similarity of two float vectors of equal length.
func Cosine(a, b []float32) float32 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(d / math.Sqrt(na*nb))
}

// Quantize turns an embedding into a Template. It fails on vectors of the
// wrong length or with NaN/Inf components, which only a broken model yields.
func Quantize(e Embedding) (Template, error) {
	if len(e) != Dim {
		return Template{}, fmt.Errorf("%w: embedding has %d values, want %d", ErrTemplate, len(e), Dim)
	}
	var maxAbs float64
	for _, x := range e {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Template{}, fmt.Errorf("%w: embedding has non-finite values", ErrTemplate)
		}
		maxAbs = max(maxAbs, math.Abs(f))
	}
	if maxAbs == 0 {
		return Template{}, fmt.Errorf("%w: zero embedding", ErrTemplate)
	}
	t := Template{Model: ModelID, Version: TemplateVersion}
	scale := 127 / maxAbs
	for i, x := range e {
		t.Q[i] = int8(math.Round(float64(x) * scale))
	}
	t.InvNorm = invNorm(&t.Q)
	return t, nil
}

// TemplateFromBytes rebuilds a template from its wire form (Bytes).
func TemplateFromBytes(model string, version int, b []byte) (Template, error) {
	if model != ModelID {
		return Template{}, fmt.Errorf("%w: model %q, this engine uses %q (re-enrol the attendee)", ErrTemplate, model, ModelID)
	}
	if version != TemplateVersion {
		return Template{}, fmt.Errorf("%w: version %d, want %d", ErrTemplate, version, TemplateVersion)
	}
	if len(b) != Dim {
		return Template{}, fmt.Errorf("%w: %d bytes, want %d", ErrTemplate, len(b), Dim)
	}
	t := Template{Model: model, Version: version}
	for i, x := range b {
		t.Q[i] = int8(int(x) - 128)
	}
	t.InvNorm = invNorm(&t.Q)
	if t.InvNorm == 0 {
		return Template{}, fmt.Errorf("%w: all-zero template", ErrTemplate)
	}
	return t, nil
}

// Bytes is the template as Dim unsigned bytes (q+128), the form stored and sent.
func (t *Template) Bytes() []byte {
	b := make([]byte, Dim)
	for i, x := range t.Q {
		b[i] = byte(int(x) + 128)
	}
	return b
}

// Similarity is the cosine similarity of two templates, in [-1, 1].
func (t *Template) Similarity(u *Template) float32 {
	return float32(dotInt8(t.Q[:], u.Q[:])) * t.InvNorm * u.InvNorm
}

func invNorm(q *[Dim]int8) float32 {
	n := dotInt8(q[:], q[:])
	if n == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(float64(n)))
}

// dotInt8 is the integer dot product the gallery search spends its time in.
// Written with four independent accumulators over a bounds-check-free slice
// so the Go compiler keeps it in registers; see BenchmarkSearch.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += int32(a[i])*int32(b[i]) + int32(a[i+4])*int32(b[i+4])
		s1 += int32(a[i+1])*int32(b[i+1]) + int32(a[i+5])*int32(b[i+5])
		s2 += int32(a[i+2])*int32(b[i+2]) + int32(a[i+6])*int32(b[i+6])
		s3 += int32(a[i+3])*int32(b[i+3]) + int32(a[i+7])*int32(b[i+7])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// dotRowsGo is the portable dotRows.
func dotRowsGo(q []int8, rows []int8, out []int32) {
	for r := range out {
		out[r] = dotInt8(q, rows[r*Dim:(r+1)*Dim])
	}
}
