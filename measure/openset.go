package measure

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/engine"
)

// DefaultFPIRs are the operating points the open-set report gives.
var DefaultFPIRs = []float64{1e-2, 3e-3, 1e-3}

// OpenSetOptions configures OpenSet. Zero values take the defaults.
type OpenSetOptions struct {
	Splits     int       // random enrolled/non-enrolled splits (default 10)
	EnrolPerID int       // photos enrolled per enrolled identity (default 1)
	Seed       uint64    // split seed (default 1)
	FPIRs      []float64 // operating points (default DefaultFPIRs)
	Calibrate  bool      // derive thresholds from the enrolled templates (package calibrate)
	TargetFPIR float64   // target for Calibrate (default 1e-2)
	MaxPairs   int       // impostor pairs sampled for calibration (0 = all)
	// Margin is the lead over the second-best identity below which an
	// accepted match goes to second verification (default DefaultMargin).
	Margin float64
	// Frames, when set (one per probe, from EncodeFrames), adds the
	// multi-frame figures: every probe is also searched with its generated
	// frames, against the same galleries.
	Frames []FrameSet
}

// DefaultMargin is the kiosk's default margin (kiosk.DefaultConfig).
const DefaultMargin = 0.05

// FPIRPoint is FNIR at one fixed FPIR. FNIR and Threshold are pooled over
// splits; nil (JSON null) when the non-mated count cannot resolve the rate
// (FPIR x non-mated < 1). The mean and std are over the splits that resolve it.
type FPIRPoint struct {
	FPIR             float64  `json:"fpir"`
	NonmatedProbes   int      `json:"nonmated_probes"`
	Measurable       bool     `json:"measurable"`
	FNIR             *float64 `json:"fnir"`
	Threshold        *float64 `json:"threshold"`
	FNIRMean         *float64 `json:"fnir_mean"`
	FNIRStd          *float64 `json:"fnir_std"`
	ThresholdMean    *float64 `json:"threshold_mean"`
	MeasurableSplits int      `json:"measurable_splits"`
}

// Calibrated is what the self-calibrated thresholds did on probes never used
// to derive them.
type Calibrated struct {
	TargetFPIR     float64 `json:"target_fpir"`
	MeasuredFPIR   float64 `json:"measured_fpir"`
	Ratio          float64 `json:"ratio"`
	FalseAccepts   int     `json:"false_accepts"`
	NonmatedProbes int     `json:"nonmated_probes"`
	FNIR           float64 `json:"fnir"`
	AcceptMean     float64 `json:"accept_threshold_mean"`
	AcceptStd      float64 `json:"accept_threshold_std"`
	ConfirmMean    float64 `json:"confirm_threshold_mean"`
	// FNIRConfirm and FPIRConfirm are at the confirm threshold: genuine
	// attendees not even asked "Are you NAME?" (missed outright), and
	// non-enrolled people who are asked (they still have to say yes).
	FNIRConfirm     float64   `json:"fnir_at_confirm"`
	FPIRConfirm     float64   `json:"fpir_at_confirm"`
	SplitFPIR       []float64 `json:"split_fpir"`
	SplitAccept     []float64 `json:"split_accept"`
	ImpostorPairs   int       `json:"impostor_pairs_per_split"`
	GallerySizeMean float64   `json:"gallery_size_mean"`
	// SkippedSplits had fewer than MinCalibrationPairs impostor pairs (a
	// small group's own gallery); when no split is left, nothing else is
	// set.
	SkippedSplits int `json:"skipped_splits,omitempty"`
}

// MinCalibrationPairs is the fewest gallery impostor pairs a split's
// calibration is measured from (a gallery of 15 attendees): below it the
// tail fit (calibrate.Fit, at least calibrate.MinExceedances exceedances)
// would rest on half the scores, and its threshold says nothing. It only
// matters for per-group figures, each from its own group's gallery.
const MinCalibrationPairs = 2 * calibrate.MinExceedances

// OpenSetFigures are the figures for one population (all probes or one group).
type OpenSetFigures struct {
	MatedProbes    int         `json:"mated_probes"`
	NonmatedProbes int         `json:"nonmated_probes"`
	Rank1          float64     `json:"rank1"`
	Rank1Mean      float64     `json:"rank1_mean"`
	Rank1Std       float64     `json:"rank1_std"`
	Points         []FPIRPoint `json:"operating_points"`
	Calibrated     *Calibrated `json:"calibrated,omitempty"`
	Routing        *Routing    `json:"routing,omitempty"`
}

// OpenSetReport is the open-set 1:N result (NIST FRVT 1:N style). The flat
// keys repeat the pooled figures CI checks.
type OpenSetReport struct {
	Images         int      `json:"images"`
	Identities     int      `json:"identities"`
	Detected       int      `json:"detected"`
	Splits         int      `json:"splits"`
	EnrolPerID     int      `json:"enrol_per_id"`
	Seed           uint64   `json:"seed"`
	NonmatedProbes int      `json:"nonmated_probes"`
	MatedProbes    int      `json:"mated_probes"`
	Rank1          float64  `json:"rank1"`
	FNIR1e2        *float64 `json:"fnir_at_fpir_1e-2"`
	FNIR3e3        *float64 `json:"fnir_at_fpir_3e-3"`
	FNIR1e3        *float64 `json:"fnir_at_fpir_1e-3"`
	Thr1e2         *float64 `json:"threshold_at_fpir_1e-2"`
	Thr3e3         *float64 `json:"threshold_at_fpir_3e-3"`
	Thr1e3         *float64 `json:"threshold_at_fpir_1e-3"`
	TargetFPIR     *float64 `json:"target_fpir,omitempty"`
	MeasuredFPIR   *float64 `json:"measured_fpir,omitempty"`
	FPIRRatio      *float64 `json:"fpir_ratio,omitempty"`
	FNIRCalibrated *float64 `json:"fnir_at_calibrated_threshold,omitempty"`

	// Margin routing at the operating point (see Routing); null when the
	// share has nothing to count.
	SecondVerifyShare             *float64 `json:"second_verify_share"`
	FalseAcceptsCaughtShare       *float64 `json:"false_accepts_caught_share"`
	MisidentificationsCaughtShare *float64 `json:"misidentifications_caught_share"`
	Routing                       *Routing `json:"routing"`

	// Multi-frame figures (opts.Frames).
	FuseFrames      int           `json:"fuse_frames,omitempty"`
	FNIR1e2Single   *float64      `json:"fnir_at_fpir_1e-2_single,omitempty"`
	FNIR1e2Fused    *float64      `json:"fnir_at_fpir_1e-2_fused,omitempty"`
	FNIR1e2MaxScore *float64      `json:"fnir_at_fpir_1e-2_max_score,omitempty"`
	FNIRCalSingle   *float64      `json:"fnir_at_calibrated_threshold_single,omitempty"`
	FNIRCalFused    *float64      `json:"fnir_at_calibrated_threshold_fused,omitempty"`
	Fusion          *FusionReport `json:"fusion,omitempty"`

	All    OpenSetFigures             `json:"all"`
	Groups map[string]*OpenSetFigures `json:"groups,omitempty"`

	// Seeds, when the caller ran Seeds, repeats the headline figures over
	// consecutive split seeds.
	Seeds []SeedFigures `json:"seeds,omitempty"`

	det map[string][]DETPoint
}

// DETPoint is one point of a DET curve.
type DETPoint struct{ FPIR, FNIR float64 }

// DET returns the pooled DET curves, keyed "" for all probes and by group.
func (r *OpenSetReport) DET() map[string][]DETPoint { return r.det }

// splitData is one split's scores. A mated score is the score of the right
// identity when it is at rank 1, else -Inf (a miss at any threshold); a
// non-mated score is the best score over the gallery (-Inf: no face). The
// top scores and margins (best minus best other identity, as
// engine.Gallery.Search gives them) feed the margin routing.
type splitData struct {
	mated, nonmated       []float64
	matedGrp, nonmatedGrp []string
	rank1                 []bool
	matedTop              []float64 // best score whatever its identity (-Inf: no face)
	matedMargin           []float64
	nonmatedMargin        []float64
	gallery               [][]engine.Template // each enrolled identity's templates (the first is its registration photo), for calibration
	galleryGrp            []string
	gallerySize           int // templates in the gallery (all K per identity)
	galleryGrpSize        map[string]int
}

// probeView gives the templates probe i is searched with: one for a photo,
// several for frames scored by their maximum, none when no face was found.
type probeView func(i int) []engine.Template

// photoView searches with each probe's own photo.
func photoView(probes []Probe) probeView {
	return func(i int) []engine.Template {
		if !probes[i].Detected {
			return nil
		}
		return []engine.Template{probes[i].Template}
	}
}

// OpenSet runs the open-set 1:N evaluation over encoded probes: for each
// split a random half of the identities is enrolled with EnrolPerID of their
// detected photos; the other photos of enrolled identities are mated probes,
// every photo of the other identities a non-mated probe. A probe with no face
// is a miss when mated and a correct rejection when non-mated. With
// opts.Frames, the probes are also searched with their generated frames
// (single frame, fused, max of frame scores) against the same galleries.
func OpenSet(probes []Probe, opts OpenSetOptions) (*OpenSetReport, error) {
	if opts.Splits <= 0 {
		opts.Splits = 10
	}
	if opts.EnrolPerID <= 0 {
		opts.EnrolPerID = 1
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if len(opts.FPIRs) == 0 {
		opts.FPIRs = DefaultFPIRs
	}
	if opts.Calibrate && opts.TargetFPIR <= 0 {
		opts.TargetFPIR = 1e-2
	}
	if opts.Margin == 0 {
		opts.Margin = DefaultMargin
	}
	if len(probes) == 0 {
		return nil, errors.New("open set: no probes")
	}
	if opts.Frames != nil && len(opts.Frames) != len(probes) {
		return nil, fmt.Errorf("open set: %d frame sets for %d probes", len(opts.Frames), len(probes))
	}
	byID := map[string][]int{}
	groups := map[string]bool{}
	rep := &OpenSetReport{Images: len(probes), Splits: opts.Splits, EnrolPerID: opts.EnrolPerID, Seed: opts.Seed}
	for i, p := range probes {
		byID[p.Identity] = append(byID[p.Identity], i)
		if p.Detected {
			rep.Detected++
		}
		if p.Group != "" {
			groups[p.Group] = true
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rep.Identities = len(ids)
	if len(ids) < 2 {
		return nil, fmt.Errorf("open set: %d identities, need at least 2", len(ids))
	}
	view := photoView(probes)
	splits := make([]splitData, opts.Splits)
	for s := range splits {
		splits[s] = runSplit(probes, ids, byID, opts, uint64(s), view)
	}
	rep.All = figures(splits, "", false, opts)
	if len(groups) > 0 {
		rep.Groups = map[string]*OpenSetFigures{}
		for g := range groups {
			f := figures(splits, g, true, opts)
			rep.Groups[g] = &f
		}
	}
	rep.NonmatedProbes, rep.MatedProbes, rep.Rank1 = rep.All.NonmatedProbes, rep.All.MatedProbes, rep.All.Rank1
	for _, pt := range rep.All.Points {
		switch pt.FPIR {
		case 1e-2:
			rep.FNIR1e2, rep.Thr1e2 = pt.FNIR, pt.Threshold
		case 3e-3:
			rep.FNIR3e3, rep.Thr3e3 = pt.FNIR, pt.Threshold
		case 1e-3:
			rep.FNIR1e3, rep.Thr1e3 = pt.FNIR, pt.Threshold
		}
	}
	if c := rep.All.Calibrated; c != nil {
		rep.TargetFPIR, rep.MeasuredFPIR, rep.FPIRRatio, rep.FNIRCalibrated = ptr(c.TargetFPIR), ptr(c.MeasuredFPIR), ptr(c.Ratio), ptr(c.FNIR)
	}
	rep.Routing = routing(splits, opts)
	rep.All.Routing = rep.Routing
	if r := rep.Routing; r != nil {
		rep.SecondVerifyShare, rep.FalseAcceptsCaughtShare, rep.MisidentificationsCaughtShare =
			r.SecondVerifyShare, r.FalseAcceptsCaughtShare, r.MisidentificationsCaughtShare
	}
	rep.det = map[string][]DETPoint{"": detCurve(splits, "", false)}
	for g := range groups {
		rep.det[g] = detCurve(splits, g, true)
	}
	if opts.Frames != nil {
		rep.Fusion = fusion(probes, ids, byID, opts)
		rep.FuseFrames = rep.Fusion.Frames
		rep.FNIR1e2Single, rep.FNIR1e2Fused, rep.FNIR1e2MaxScore =
			rep.Fusion.Single.fnirAt(1e-2), rep.Fusion.Fused.fnirAt(1e-2), rep.Fusion.MaxScore.fnirAt(1e-2)
		if opts.Calibrate {
			rep.FNIRCalSingle, rep.FNIRCalFused = ptr(rep.Fusion.Single.Calibrated.FNIR), ptr(rep.Fusion.Fused.Calibrated.FNIR)
		}
	}
	return rep, nil
}

func ptr(x float64) *float64 { return &x }

// fnirAt is the pooled FNIR at operating point fpir (nil: not measured).
func (f *OpenSetFigures) fnirAt(fpir float64) *float64 {
	for _, p := range f.Points {
		if p.FPIR == fpir {
			return p.FNIR
		}
	}
	return nil
}

func runSplit(probes []Probe, ids []string, byID map[string][]int, opts OpenSetOptions, s uint64, view probeView) splitData {
	r := rand.New(rand.NewPCG(opts.Seed, s))
	perm := append([]string(nil), ids...)
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	nEnrol := len(perm) / 2
	var d splitData
	d.galleryGrpSize = map[string]int{}
	var gal []engine.Template
	var galOwner []int // index into owners
	var owners []string
	var matedIdx []int
	for _, id := range perm[:nEnrol] {
		idx := append([]int(nil), byID[id]...)
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		enrolled := 0
		var rest []int
		for _, i := range idx {
			if enrolled < opts.EnrolPerID && probes[i].Detected {
				if enrolled == 0 {
					owners = append(owners, id)
					d.gallery = append(d.gallery, nil)
					d.galleryGrp = append(d.galleryGrp, probes[i].Group)
				}
				d.gallery[len(d.gallery)-1] = append(d.gallery[len(d.gallery)-1], probes[i].Template)
				gal = append(gal, probes[i].Template)
				galOwner = append(galOwner, len(owners)-1)
				d.galleryGrpSize[probes[i].Group]++
				enrolled++
				continue
			}
			rest = append(rest, i)
		}
		if enrolled > 0 {
			matedIdx = append(matedIdx, rest...)
		}
	}
	d.gallerySize = len(gal)
	per := make([]float64, len(owners))
	// search returns the best identity, its score and its margin over the
	// best other identity (the score itself when there is none). Each
	// identity scores the best over its templates and the probe's templates.
	search := func(i int) (string, float64, float64) {
		ts := view(i)
		if len(ts) == 0 || len(owners) == 0 {
			return "", math.Inf(-1), math.Inf(-1)
		}
		for k := range per {
			per[k] = math.Inf(-1)
		}
		for t := range ts {
			for j := range gal {
				if s := float64(ts[t].Similarity(&gal[j])); s > per[galOwner[j]] {
					per[galOwner[j]] = s
				}
			}
		}
		best, second, bi := math.Inf(-1), math.Inf(-1), -1
		for k, s := range per {
			if s > best {
				best, second, bi = s, best, k
			} else if s > second {
				second = s
			}
		}
		margin := best
		if !math.IsInf(second, -1) {
			margin = best - second
		}
		return owners[bi], best, margin
	}
	for _, i := range matedIdx {
		id, top, margin := search(i)
		ok := id == probes[i].Identity
		sc := top
		if !ok {
			sc = math.Inf(-1)
		}
		d.mated = append(d.mated, sc)
		d.matedTop = append(d.matedTop, top)
		d.matedMargin = append(d.matedMargin, margin)
		d.rank1 = append(d.rank1, ok)
		d.matedGrp = append(d.matedGrp, probes[i].Group)
	}
	for _, id := range perm[nEnrol:] {
		for _, i := range byID[id] {
			_, sc, margin := search(i)
			d.nonmated = append(d.nonmated, sc)
			d.nonmatedMargin = append(d.nonmatedMargin, margin)
			d.nonmatedGrp = append(d.nonmatedGrp, probes[i].Group)
		}
	}
	return d
}

// pick returns the scores of group g (all when !byGroup).
func pick(xs []float64, grp []string, g string, byGroup bool) []float64 {
	if !byGroup {
		return xs
	}
	var out []float64
	for i, x := range xs {
		if grp[i] == g {
			out = append(out, x)
		}
	}
	return out
}

// thresholdAtFPIR is the lowest threshold t (accept: score >= t) at which at
// most fpir of the non-mated scores are accepted; ok is false when fpir is
// below 1/len.
func thresholdAtFPIR(nonmated []float64, fpir float64) (t float64, ok bool) {
	n := len(nonmated)
	if n == 0 {
		return math.NaN(), false
	}
	desc := append([]float64(nil), nonmated...)
	sort.Sort(sort.Reverse(sort.Float64Slice(desc)))
	k := int(math.Floor(fpir*float64(n) + 1e-9))
	if k >= n {
		// Accept every non-mated probe with a face; a rank-1 miss (-Inf)
		// stays a miss.
		return -math.MaxFloat64, true
	}
	if math.IsInf(desc[k], -1) {
		return -1, fpir*float64(n) >= 1
	}
	return math.Nextafter(desc[k], math.Inf(1)), fpir*float64(n) >= 1
}

// rateAtOrAbove is the fraction of xs >= t.
func rateAtOrAbove(xs []float64, t float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	c := 0
	for _, x := range xs {
		if x >= t {
			c++
		}
	}
	return float64(c) / float64(len(xs))
}

func figures(splits []splitData, g string, byGroup bool, opts OpenSetOptions) OpenSetFigures {
	var f OpenSetFigures
	var allM, allN []float64
	var r1s []float64
	r1c, r1n := 0, 0
	for _, d := range splits {
		m := pick(d.mated, d.matedGrp, g, byGroup)
		allM = append(allM, m...)
		allN = append(allN, pick(d.nonmated, d.nonmatedGrp, g, byGroup)...)
		c, n := 0, 0
		for i, ok := range d.rank1 {
			if byGroup && d.matedGrp[i] != g {
				continue
			}
			n++
			if ok {
				c++
			}
		}
		r1c += c
		r1n += n
		if n > 0 {
			r1s = append(r1s, float64(c)/float64(n))
		}
	}
	f.MatedProbes, f.NonmatedProbes = len(allM), len(allN)
	if r1n > 0 {
		f.Rank1 = round4(float64(r1c) / float64(r1n))
	}
	m, s := MeanStd(r1s)
	f.Rank1Mean, f.Rank1Std = round4(m), round4(s)
	for _, fpir := range opts.FPIRs {
		pt := FPIRPoint{FPIR: fpir, NonmatedProbes: len(allN)}
		if t, ok := thresholdAtFPIR(allN, fpir); ok && len(allM) > 0 {
			pt.Measurable = true
			pt.FNIR, pt.Threshold = ptr(round4(1-rateAtOrAbove(allM, t))), ptr(round4(t))
		}
		var fn, th []float64
		for _, d := range splits {
			nm := pick(d.nonmated, d.nonmatedGrp, g, byGroup)
			mm := pick(d.mated, d.matedGrp, g, byGroup)
			if t, ok := thresholdAtFPIR(nm, fpir); ok && len(mm) > 0 {
				fn = append(fn, 1-rateAtOrAbove(mm, t))
				th = append(th, t)
			}
		}
		pt.MeasurableSplits = len(fn)
		if len(fn) > 0 {
			m, s := MeanStd(fn)
			pt.FNIRMean, pt.FNIRStd = ptr(round4(m)), ptr(round4(s))
			tm, _ := MeanStd(th)
			pt.ThresholdMean = ptr(round4(tm))
		}
		f.Points = append(f.Points, pt)
	}
	if opts.Calibrate {
		f.Calibrated = calibrated(splits, g, byGroup, opts)
	}
	return f
}
