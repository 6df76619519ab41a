package measure

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/facecheck/facecheck/engine"
)

// DefaultFuseFrames is the number of frames generated per probe when
// EncodeFrames is given k <= 0: about what a kiosk collects while a person
// stands still, and 3x the encoding cost of the photos themselves.
const DefaultFuseFrames = 3

// Jitter ranges: a person standing at a kiosk for a few frames moves a
// little, tilts the head a little and the camera's exposure drifts.
const (
	JitterShift      = 0.03 // translation, ± fraction of the image side
	JitterScale      = 0.04 // zoom, ± fraction
	JitterRotate     = 3.0  // in-plane rotation, ± degrees
	JitterBrightness = 0.10 // gain, ± fraction
	JitterContrast   = 0.10 // contrast around mid-grey, ± fraction
	JitterNoise      = 2.0  // Gaussian pixel noise, std in 8-bit levels
)

// JitterParams are one frame's perturbations.
type JitterParams struct {
	DX, DY     float64 // translation in pixels
	Scale      float64 // 1 = unchanged
	RotateDeg  float64
	Brightness float64 // gain, 1 = unchanged
	Contrast   float64 // 1 = unchanged
	Noise      float64 // std of the pixel noise
}

// Jitter returns frame `frame` of a still sequence made from im: a random
// similarity transform about the centre (translation, scale, rotation;
// bilinear, edges replicated), brightness and contrast change and Gaussian
// noise, all drawn from a generator seeded with (seed, frame), so the same
// seed and frame give the same image. im is not modified. An invalid im is
// returned as is.
func Jitter(im engine.Image, seed uint64, frame int) (engine.Image, JitterParams) {
	r := rand.New(rand.NewPCG(seed, uint64(frame)))
	u := func(a float64) float64 { return (2*r.Float64() - 1) * a }
	p := JitterParams{
		DX:         u(JitterShift) * float64(im.W),
		DY:         u(JitterShift) * float64(im.H),
		Scale:      1 + u(JitterScale),
		RotateDeg:  u(JitterRotate),
		Brightness: 1 + u(JitterBrightness),
		Contrast:   1 + u(JitterContrast),
		Noise:      JitterNoise,
	}
	if !im.Valid() {
		return im, p
	}
	out := engine.Image{W: im.W, H: im.H, Pix: make([]byte, len(im.Pix))}
	// Output pixel q maps from source c + R(-θ)(q - c - d)/s.
	cx, cy := float64(im.W-1)/2, float64(im.H-1)/2
	th := p.RotateDeg * math.Pi / 180
	cs, sn := math.Cos(th)/p.Scale, math.Sin(th)/p.Scale
	W, H := im.W, im.H
	clampX := func(x int) int { return min(max(x, 0), W-1) }
	clampY := func(y int) int { return min(max(y, 0), H-1) }
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			ux, uy := float64(x)-cx-p.DX, float64(y)-cy-p.DY
			sx := cx + cs*ux + sn*uy
			sy := cy - sn*ux + cs*uy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			xa, xb, ya, yb := clampX(x0), clampX(x0+1), clampY(y0), clampY(y0+1)
			o := (y*W + x) * 3
			for c := 0; c < 3; c++ {
				v00 := float64(im.Pix[(ya*W+xa)*3+c])
				v01 := float64(im.Pix[(ya*W+xb)*3+c])
				v10 := float64(im.Pix[(yb*W+xa)*3+c])
				v11 := float64(im.Pix[(yb*W+xb)*3+c])
				v := (v00*(1-fx)+v01*fx)*(1-fy) + (v10*(1-fx)+v11*fx)*fy
				v = ((v-128)*p.Contrast+128)*p.Brightness + p.Noise*r.NormFloat64()
				out.Pix[o+c] = uint8(min(max(math.Round(v), 0), 255))
			}
		}
	}
	return out, p
}

// FrameSet is one probe's generated frames after the engine has seen them:
// Embeddings[f] is nil when no face was found in frame f.
type FrameSet struct {
	Embeddings []engine.Embedding
}

// Detected is the number of frames with a face.
func (f FrameSet) Detected() int {
	n := 0
	for _, e := range f.Embeddings {
		if e != nil {
			n++
		}
	}
	return n
}

// Fused is the normalised mean of the frames' L2-normalised embeddings, as
// the kiosk fuses a track (engine.Track.Fused); nil when no frame has a face.
func (f FrameSet) Fused() engine.Embedding {
	var out engine.Embedding
	for _, e := range f.Embeddings {
		if e == nil {
			continue
		}
		if out == nil {
			out = make(engine.Embedding, len(e))
		}
		var n float64
		for _, x := range e {
			n += float64(x) * float64(x)
		}
		inv := float32(1 / math.Sqrt(max(n, 1e-12)))
		for i, x := range e {
			out[i] += x * inv
		}
	}
	if out == nil {
		return nil
	}
	return engine.Normalize(out)
}

// FrameSeed is the jitter seed of the sample at path: fixed for a path and
// seed, so a probe's frames do not depend on its position in the CSV.
func FrameSeed(seed uint64, path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64() ^ (seed * 0x9E3779B97F4A7C15)
}

// EncodeFrames decodes every sample under root once, generates k jittered
// frames of it (Jitter with FrameSeed(seed, path), frames 0..k-1) and
// encodes each with enc, writing one line per sample that cannot be read to
// log. k <= 0 takes DefaultFuseFrames. The result, one FrameSet per sample,
// is what OpenSetOptions.Frames takes.
func EncodeFrames(enc Encoder, root string, samples []Sample, k int, seed uint64, log io.Writer) []FrameSet {
	if k <= 0 {
		k = DefaultFuseFrames
	}
	out := make([]FrameSet, len(samples))
	for i, s := range samples {
		out[i].Embeddings = make([]engine.Embedding, k)
		im, err := engine.LoadImage(filepath.Join(root, s.Path))
		if err != nil {
			fmt.Fprintf(log, "eval --fuse: %s: %v\n", s.Path, err)
			continue
		}
		fs := FrameSeed(seed, s.Path)
		for f := range k {
			fr, _ := Jitter(im, fs, f)
			e, err := enc.Encode(fr)
			if err == nil {
				out[i].Embeddings[f] = e.Embedding
			}
		}
	}
	return out
}

// FusionReport compares, on the same splits and galleries (the enrolled
// photos, undisturbed), searching with the undisturbed probe photo
// (OpenSetReport.All), with its first generated frame alone, with the
// fused frames (mean embedding) and with the best score over the frames.
type FusionReport struct {
	Frames         int            `json:"frames"`
	FramesTotal    int            `json:"frames_total"`
	FramesDetected int            `json:"frames_detected"`
	Single         OpenSetFigures `json:"single"`
	Fused          OpenSetFigures `json:"fused"`
	MaxScore       OpenSetFigures `json:"max_score"`
	// Early is the kiosk's early decision (kiosk.Config.EarlyLead) at each
	// of EarlyLeads; nil without an accept threshold.
	Early []EarlyDecision `json:"early,omitempty"`
}

// EarlyLeads are the leads the early decision is measured at (the kiosk's
// default is 0.15).
var EarlyLeads = []float64{0.05, 0.10, 0.15, 0.20}

// EarlyDecision compares the kiosk's two ways to decide, on the same splits
// and at the same accept threshold (calibrated per split, else the pooled
// FPIR 1e-2 threshold of the fused frames) and margin: always fusing the
// frames ("fused": the best score over the frames, as the kiosk fuses), or
// deciding on the first frame alone when it scores at
// least Lead above the threshold with a margin at least Lead above Margin
// and fusing otherwise ("early"). A probe is checked in when its score
// reaches the threshold and its margin the margin (lower margins go to
// second verification, not counted here).
type EarlyDecision struct {
	Lead          float64 `json:"lead"`
	Margin        float64 `json:"margin"`
	ThresholdMean float64 `json:"threshold_mean"`
	// Mated probes checked in as themselves, always fused and with the
	// early rule, and how many of the mated probes the first frame decided.
	MatedCheckinsFused int      `json:"mated_checkins_fused"`
	MatedCheckinsEarly int      `json:"mated_checkins_early"`
	MatedEarly         int      `json:"mated_early"`
	MatedProbes        int      `json:"mated_probes"`
	MatedEarlyShare    *float64 `json:"mated_early_share"`
	// Wrong people checked in: mated probes as someone else
	// (misidentifications) and non-mated probes (false accepts).
	MisidentificationsFused int `json:"misidentifications_fused"`
	MisidentificationsEarly int `json:"misidentifications_early"`
	FalseAcceptsFused       int `json:"false_accepts_fused"`
	FalseAcceptsEarly       int `json:"false_accepts_early"`
	NonmatedProbes          int `json:"nonmated_probes"`
	// NonmatedFirstFrameMax is the highest first-frame score of a non-mated
	// probe minus the threshold: how close an impostor's single frame came
	// to the early rule (which needs Lead).
	NonmatedFirstFrameMax float64 `json:"nonmated_first_frame_max"`
}

// early measures EarlyDecision at every lead; single and fused are the
// first-frame and fused-frame splits of the same probes (aligned: a split's
// probe order depends only on its seed).
func early(single, fused []splitData, opts OpenSetOptions) []EarlyDecision {
	thr := make([]float64, len(fused))
	if opts.Calibrate {
		for s, d := range fused {
			thr[s], _, _ = splitThresholds(d.gallery, len(d.gallery), opts, s)
		}
	} else {
		var allN []float64
		for _, d := range fused {
			allN = append(allN, d.nonmated...)
		}
		t, ok := thresholdAtFPIR(allN, 1e-2)
		if !ok {
			return nil
		}
		for s := range thr {
			thr[s] = t
		}
	}
	margin := opts.Margin
	if margin == 0 {
		margin = DefaultMargin
	}
	var out []EarlyDecision
	for _, lead := range EarlyLeads {
		e := EarlyDecision{Lead: lead, Margin: margin, NonmatedFirstFrameMax: math.Inf(-1)}
		var used []float64
		for s := range fused {
			t := thr[s]
			if math.IsNaN(t) {
				continue
			}
			used = append(used, t)
			d1, d3 := single[s], fused[s]
			confident := func(top, m float64) bool { return top >= t+lead && m >= margin+lead }
			in := func(top, m float64) bool { return top >= t && m >= margin }
			for i := range d3.matedTop {
				e.MatedProbes++
				if in(d3.matedTop[i], d3.matedMargin[i]) {
					if d3.rank1[i] {
						e.MatedCheckinsFused++
					} else {
						e.MisidentificationsFused++
					}
				}
				right, ok := d3.rank1[i], in(d3.matedTop[i], d3.matedMargin[i])
				if confident(d1.matedTop[i], d1.matedMargin[i]) {
					e.MatedEarly++
					right, ok = d1.rank1[i], true
				}
				if ok && right {
					e.MatedCheckinsEarly++
				} else if ok {
					e.MisidentificationsEarly++
				}
			}
			for i := range d3.nonmated {
				e.NonmatedProbes++
				if in(d3.nonmated[i], d3.nonmatedMargin[i]) {
					e.FalseAcceptsFused++
				}
				switch {
				case confident(d1.nonmated[i], d1.nonmatedMargin[i]):
					e.FalseAcceptsEarly++
				case in(d3.nonmated[i], d3.nonmatedMargin[i]):
					e.FalseAcceptsEarly++
				}
				e.NonmatedFirstFrameMax = max(e.NonmatedFirstFrameMax, d1.nonmated[i]-t)
			}
		}
		if len(used) == 0 {
			return nil
		}
		m, _ := MeanStd(used)
		e.ThresholdMean = round4(m)
		e.NonmatedFirstFrameMax = round4(e.NonmatedFirstFrameMax)
		if e.MatedProbes > 0 {
			e.MatedEarlyShare = ptr(round4(float64(e.MatedEarly) / float64(e.MatedProbes)))
		}
		out = append(out, e)
	}
	return out
}

// fusion runs the splits again with the frame views.
func fusion(probes []Probe, ids []string, byID map[string][]int, opts OpenSetOptions) *FusionReport {
	fr := &FusionReport{}
	single := make([][]engine.Template, len(probes))
	fused := make([][]engine.Template, len(probes))
	all := make([][]engine.Template, len(probes))
	quant := func(e engine.Embedding) (engine.Template, bool) {
		if e == nil {
			return engine.Template{}, false
		}
		t, err := engine.Quantize(e)
		return t, err == nil
	}
	for i, f := range opts.Frames {
		fr.Frames = max(fr.Frames, len(f.Embeddings))
		fr.FramesTotal += len(f.Embeddings)
		fr.FramesDetected += f.Detected()
		if len(f.Embeddings) > 0 {
			if t, ok := quant(f.Embeddings[0]); ok {
				single[i] = []engine.Template{t}
			}
		}
		if t, ok := quant(f.Fused()); ok {
			fused[i] = []engine.Template{t}
		}
		for _, e := range f.Embeddings {
			if t, ok := quant(e); ok {
				all[i] = append(all[i], t)
			}
		}
	}
	run := func(v [][]engine.Template) (OpenSetFigures, []splitData) {
		splits := make([]splitData, opts.Splits)
		for s := range splits {
			splits[s] = runSplit(probes, ids, byID, opts, uint64(s), func(i int) []engine.Template { return v[i] })
		}
		f := figures(splits, "", false, opts)
		f.Routing = routing(splits, opts)
		return f, splits
	}
	var ss, ms []splitData
	fr.Single, ss = run(single)
	fr.Fused, _ = run(fused)
	fr.MaxScore, ms = run(all)
	// The kiosk fuses by the best score over its frames (kiosk.FusionMax),
	// so the early rule is measured against that.
	fr.Early = early(ss, ms, opts)
	return fr
}

// Print writes the multi-frame comparison; photo is the undisturbed photos'
// figures on the same splits.
func (f *FusionReport) Print(w io.Writer, photo *OpenSetFigures) {
	fmt.Fprintf(w, "multi-frame (%d jittered frames per probe, %d/%d with a face; gallery: undisturbed enrolled photos)\n",
		f.Frames, f.FramesDetected, f.FramesTotal)
	rows := []struct {
		name string
		f    *OpenSetFigures
	}{
		{"photo (undisturbed)", photo},
		{"single frame (frame 0)", &f.Single},
		{fmt.Sprintf("fused mean of %d", f.Frames), &f.Fused},
		{fmt.Sprintf("max score of %d", f.Frames), &f.MaxScore},
	}
	for _, r := range rows {
		line := fmt.Sprintf("  %-24s rank-1 %6.2f%%", r.name, 100*r.f.Rank1)
		if p := r.f.fnirAt(1e-2); p != nil {
			pt := r.f.point(1e-2)
			line += fmt.Sprintf("  FNIR @ FPIR 1e-2 %6.2f%% (threshold %.4f)", 100**p, *pt.Threshold)
		} else {
			line += "  FNIR @ FPIR 1e-2 not measurable"
		}
		if c := r.f.Calibrated; c != nil {
			line += fmt.Sprintf("  calibrated: FNIR %6.2f%%, FPIR %.2e", 100*c.FNIR, c.MeasuredFPIR)
		}
		if rt := r.f.Routing; rt != nil {
			line += fmt.Sprintf("  second verify %s", pct(rt.SecondVerifyShare))
		}
		fmt.Fprintln(w, line)
	}
	for _, e := range f.Early {
		fmt.Fprintf(w, "  early decision, lead %.2f: %s of mated probes decided on frame 0; checked in %d (fused %d), "+
			"misidentified %d (fused %d), false accepts %d (fused %d) of %d; best impostor frame 0 %+.3f from the threshold %.3f\n",
			e.Lead, pct(e.MatedEarlyShare), e.MatedCheckinsEarly, e.MatedCheckinsFused, e.MisidentificationsEarly,
			e.MisidentificationsFused, e.FalseAcceptsEarly, e.FalseAcceptsFused, e.NonmatedProbes, e.NonmatedFirstFrameMax, e.ThresholdMean)
	}
}

// point is the operating point at fpir (zero FPIRPoint when absent).
func (f *OpenSetFigures) point(fpir float64) FPIRPoint {
	for _, p := range f.Points {
		if p.FPIR == fpir {
			return p
		}
	}
	return FPIRPoint{}
}
