package facecheck

import (
	"errors"
	"fmt"
	"math"

	"github.com/facecheck/facecheck/api"
)

// Dim is the length of an embedding and of a template.
const Dim = 512

// TemplateVersion is the format version of Template; bump it when the
// quantisation changes so old templates are re-enrolled, not misread.
const TemplateVersion = 1

// ErrTemplate is returned for templates that cannot be compared or decoded.
var ErrTemplate = errors.New("invalid template")

// Template is an embedding quantised to signed 8 bits with a per-vector scale
// chosen so the largest component maps to ±127. Cosine similarity between two
// templates is their integer dot product divided by the product of their
// integer norms, so search never touches floats per dimension.
type Template struct {
	// Model names the recogniser whose embeddings the template holds;
	// templates of different models (or versions) are never compared.
	Model   string
	Version int
	Q       [Dim]int8
	// InvNorm is 1/|Q| (Euclidean norm of the integer vector).
	InvNorm float32
}

// Quantize turns an embedding of model into a Template. It fails on vectors
// of the wrong length, all zeros or with NaN/Inf components, which only a
// broken model yields.
func Quantize(model string, e []float32) (Template, error) {
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
	t := Template{Model: model, Version: TemplateVersion}
	scale := 127 / maxAbs
	for i, x := range e {
		t.Q[i] = int8(math.Round(float64(x) * scale))
	}
	t.InvNorm = invNorm(&t.Q)
	return t, nil
}

// ParseTemplate rebuilds a template from its wire form (Bytes). It fails,
// wrapping ErrTemplate, on another format version, a wrong length or an
// all-zero vector; the model is the caller's to check.
func ParseTemplate(t api.Template) (Template, error) {
	if t.Version != TemplateVersion {
		return Template{}, fmt.Errorf("%w: version %d, want %d", ErrTemplate, t.Version, TemplateVersion)
	}
	if len(t.Data) != Dim {
		return Template{}, fmt.Errorf("%w: %d bytes, want %d", ErrTemplate, len(t.Data), Dim)
	}
	out := Template{Model: t.Model, Version: t.Version}
	for i, x := range t.Data {
		out.Q[i] = int8(int(x) - 128)
	}
	out.InvNorm = invNorm(&out.Q)
	if out.InvNorm == 0 {
		return Template{}, fmt.Errorf("%w: all-zero template", ErrTemplate)
	}
	return out, nil
}

// Bytes is the template as Dim unsigned bytes (q+128), the form stored and sent.
func (t *Template) Bytes() []byte {
	b := make([]byte, Dim)
	for i, x := range t.Q {
		b[i] = byte(int(x) + 128)
	}
	return b
}

// Wire is the template as sent, before sealing (api.SealTemplate).
func (t *Template) Wire() api.Template {
	return api.Template{Model: t.Model, Version: t.Version, Data: t.Bytes()}
}

// Comparable reports whether t and u hold embeddings of the same model and
// format version, the only templates whose similarity means anything.
func (t *Template) Comparable(u *Template) bool {
	return t.Model == u.Model && t.Version == u.Version
}

// Similarity is the cosine similarity of two templates, in [-1, 1].
func (t *Template) Similarity(u *Template) float32 {
	return float32(DotInt8(t.Q[:], u.Q[:])) * t.InvNorm * u.InvNorm
}

func invNorm(q *[Dim]int8) float32 {
	n := DotInt8(q[:], q[:])
	if n == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(float64(n)))
}

// DotInt8 is the integer dot product of a and b[:len(a)], the loop a
// gallery search spends its time in. Written with four independent
// accumulators over a bounds-check-free slice so the Go compiler keeps it
// in registers (engine's BenchmarkSearch).
func DotInt8(a, b []int8) int32 {
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
