package engine

import (
	"fmt"
	"math"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

// Dim is the length of an embedding from the feature model.
const Dim = facecheck.Dim

// ModelID names the recogniser whose embeddings a template holds. Templates
// of different models are never compared.
const ModelID = "fr_feature@faceplugin-0.0.1"

// TemplateVersion is the format version of Template (facecheck.TemplateVersion).
const TemplateVersion = facecheck.TemplateVersion

// ErrTemplate is returned for templates that cannot be compared or decoded.
var ErrTemplate = facecheck.ErrTemplate

// Embedding is an L2-normalised float feature vector.
type Embedding []float32

// Template is an 8-bit template (facecheck.Template): the codec and its
// similarity are shared with the server, which has no gocv.
type Template = facecheck.Template

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

// Quantize turns an embedding of this engine's model into a Template
// (facecheck.Quantize).
func Quantize(e Embedding) (Template, error) { return facecheck.Quantize(ModelID, e) }

// TemplateFromBytes rebuilds a template of this engine's model from its
// wire form (Template.Bytes); a template of another model fails with
// ErrTemplate (the attendee must be re-enrolled).
func TemplateFromBytes(model string, version int, b []byte) (Template, error) {
	if model != ModelID {
		return Template{}, fmt.Errorf("%w: model %q, this engine uses %q (re-enrol the attendee)", ErrTemplate, model, ModelID)
	}
	return facecheck.ParseTemplate(api.Template{Model: model, Version: version, Data: b})
}

// dotInt8 is the portable integer dot product (facecheck.DotInt8).
func dotInt8(a, b []int8) int32 { return facecheck.DotInt8(a, b) }

// dotRowsGo is the portable dotRows.
func dotRowsGo(q []int8, rows []int8, out []int32) {
	for r := range out {
		out[r] = dotInt8(q, rows[r*Dim:(r+1)*Dim])
	}
}
