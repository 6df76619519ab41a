package measure

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/facecheck/facecheck/engine"
)

// Encoder is what eval needs from the engine: one face from a still image.
type Encoder interface {
	Encode(im engine.Image) (engine.Encoded, error)
}

// Probe is one labelled photo after the engine has seen it.
type Probe struct {
	Sample
	Detected  bool
	Embedding engine.Embedding
	Template  engine.Template
	Err       string
	Elapsed   time.Duration
}

// EncodeAll runs enc over every sample under root, writing a line per
// failure and a progress line (rate, time left) to log.
func EncodeAll(enc Encoder, root string, samples []Sample, log io.Writer) []Probe {
	out := make([]Probe, len(samples))
	prog := NewProgress(log, "eval", "photos", len(samples))
	defer func() { prog.Done(len(samples)) }()
	for i, s := range samples {
		prog.Step(i)
		p := Probe{Sample: s}
		t0 := time.Now()
		im, err := engine.LoadImage(filepath.Join(root, s.Path))
		if err == nil {
			var e engine.Encoded
			e, err = enc.Encode(im)
			if err == nil {
				p.Embedding = e.Embedding
				p.Template, err = engine.Quantize(e.Embedding)
			}
		}
		p.Elapsed = time.Since(t0)
		if err != nil {
			p.Err = err.Error()
			prog.Printf("eval: %s: %v\n", s.Path, err)
		} else {
			p.Detected = true
		}
		out[i] = p
	}
	return out
}

// Report is the closed-set result: verification over all pairs and
// leave-one-out rank-1 identification. JSON keys are the ones CI checks.
type Report struct {
	Images          int     `json:"images"`
	Identities      int     `json:"identities"`
	Detected        int     `json:"detected"`
	GenuinePairs    int     `json:"genuine_pairs"`
	ImpostorPairs   int     `json:"impostor_pairs"`
	TARAtFAR1e3     float64 `json:"tar_at_far_1e-3"`
	TARAtFAR1e4     float64 `json:"tar_at_far_1e-4"`
	ThresholdFAR1e3 float64 `json:"threshold_at_far_1e-3"`
	ThresholdFAR1e4 float64 `json:"threshold_at_far_1e-4"`
	FAR1e4Resolved  bool    `json:"far_1e-4_resolved"`
	BestBalanced    float64 `json:"best_balanced_accuracy"`
	BestThreshold   float64 `json:"best_threshold"`
	Rank1           float64 `json:"rank1"`
	Rank1Correct    int     `json:"rank1_correct"`
	Rank1Probes     int     `json:"rank1_probes"`
	// Float (unquantised) figures, to show what 8-bit templates cost.
	TARAtFAR1e3Float float64  `json:"tar_at_far_1e-3_float"`
	QuantErrMean     float64  `json:"quant_err_mean"`
	QuantErrMax      float64  `json:"quant_err_max"`
	MsPerImageP50    float64  `json:"ms_per_image_p50"`
	MsPerImageP95    float64  `json:"ms_per_image_p95"`
	Failures         []string `json:"failures,omitempty"`
	Misidentified    []string `json:"misidentified,omitempty"`

	roc *ROC
}

// ROC returns the quantised-score ROC behind the report.
func (r *Report) ROC() *ROC { return r.roc }

// Evaluate computes the closed-set report from encoded probes. Verification
// uses every pair of detected photos, scored on 8-bit templates as the
// kiosk does. Rank-1 is leave-one-out over photos whose identity has another
// photo; a photo with no face detected counts as a miss.
func Evaluate(probes []Probe) (*Report, error) {
	if len(probes) == 0 {
		return nil, errors.New("evaluate: no probes")
	}
	rep := &Report{Images: len(probes)}
	ids := map[string]int{}
	for _, p := range probes {
		ids[p.Identity]++
		if p.Detected {
			rep.Detected++
		} else {
			rep.Failures = append(rep.Failures, p.Path+": "+p.Err)
		}
	}
	rep.Identities = len(ids)
	var gen, imp, genF, impF []float64
	var qsum, qmax float64
	var nq int
	for i := range probes {
		if !probes[i].Detected {
			continue
		}
		for j := i + 1; j < len(probes); j++ {
			if !probes[j].Detected {
				continue
			}
			sq := float64(probes[i].Template.Similarity(&probes[j].Template))
			sf := float64(engine.Cosine(probes[i].Embedding, probes[j].Embedding))
			d := math.Abs(sq - sf)
			qsum += d
			qmax = max(qmax, d)
			nq++
			if probes[i].Identity == probes[j].Identity {
				gen, genF = append(gen, sq), append(genF, sf)
			} else {
				imp, impF = append(imp, sq), append(impF, sf)
			}
		}
	}
	if len(gen) == 0 || len(imp) == 0 {
		return nil, fmt.Errorf("evaluate: %d genuine and %d impostor pairs: need identities with 2+ detected photos and 2+ identities", len(gen), len(imp))
	}
	rep.GenuinePairs, rep.ImpostorPairs = len(gen), len(imp)
	rep.QuantErrMean, rep.QuantErrMax = round4(qsum/float64(nq)), round4(qmax)
	roc := NewROC(gen, imp)
	rep.roc = roc
	rep.TARAtFAR1e3, rep.ThresholdFAR1e3, _ = roc.TARAtFAR(1e-3)
	rep.TARAtFAR1e4, rep.ThresholdFAR1e4, rep.FAR1e4Resolved = roc.TARAtFAR(1e-4)
	rep.BestBalanced, rep.BestThreshold = roc.BestBalanced()
	rep.TARAtFAR1e3Float, _, _ = NewROC(genF, impF).TARAtFAR(1e-3)

	// Leave-one-out rank-1.
	for i, p := range probes {
		if ids[p.Identity] < 2 {
			continue
		}
		rep.Rank1Probes++
		if !p.Detected {
			continue
		}
		best, bj := float32(-2), -1
		for j := range probes {
			if j == i || !probes[j].Detected {
				continue
			}
			if s := p.Template.Similarity(&probes[j].Template); s > best {
				best, bj = s, j
			}
		}
		if bj >= 0 && probes[bj].Identity == p.Identity {
			rep.Rank1Correct++
		} else if bj >= 0 {
			rep.Misidentified = append(rep.Misidentified, fmt.Sprintf("%s -> %s (%.3f)", p.Path, probes[bj].Path, best))
		}
	}
	if rep.Rank1Probes > 0 {
		rep.Rank1 = float64(rep.Rank1Correct) / float64(rep.Rank1Probes)
	}
	var ms []time.Duration
	for _, p := range probes {
		ms = append(ms, p.Elapsed)
	}
	m := Millis(ms)
	rep.MsPerImageP50 = round4(Percentile(m, 50))
	rep.MsPerImageP95 = round4(Percentile(m, 95))
	for _, x := range []*float64{&rep.TARAtFAR1e3, &rep.TARAtFAR1e4, &rep.ThresholdFAR1e3, &rep.ThresholdFAR1e4,
		&rep.BestBalanced, &rep.BestThreshold, &rep.Rank1, &rep.TARAtFAR1e3Float} {
		*x = round4(*x)
	}
	return rep, nil
}

// Print writes the report for a person.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "images %d (identities %d), face detected in %d\n", r.Images, r.Identities, r.Detected)
	fmt.Fprintf(w, "verification: %d genuine / %d impostor pairs (8-bit templates)\n", r.GenuinePairs, r.ImpostorPairs)
	fmt.Fprintf(w, "  TAR @ FAR 1e-3: %.2f%%  (threshold %.4f; float32 %.2f%%)\n", 100*r.TARAtFAR1e3, r.ThresholdFAR1e3, 100*r.TARAtFAR1e3Float)
	res := ""
	if !r.FAR1e4Resolved {
		res = "  [below what the impostor count resolves]"
	}
	fmt.Fprintf(w, "  TAR @ FAR 1e-4: %.2f%%  (threshold %.4f)%s\n", 100*r.TARAtFAR1e4, r.ThresholdFAR1e4, res)
	fmt.Fprintf(w, "  best balanced accuracy %.2f%% at threshold %.4f\n", 100*r.BestBalanced, r.BestThreshold)
	fmt.Fprintf(w, "identification (leave-one-out): rank-1 %.2f%% (%d/%d)\n", 100*r.Rank1, r.Rank1Correct, r.Rank1Probes)
	fmt.Fprintf(w, "quantisation |cos_fp32 - cos_q|: mean %.4f, max %.4f\n", r.QuantErrMean, r.QuantErrMax)
	fmt.Fprintf(w, "time per image (decode+encode): p50 %.1f ms, p95 %.1f ms\n", r.MsPerImageP50, r.MsPerImageP95)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  no face: %s\n", f)
	}
	for _, f := range r.Misidentified {
		fmt.Fprintf(w, "  rank-1 miss: %s\n", f)
	}
}
