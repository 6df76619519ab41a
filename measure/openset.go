package measure

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
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

// calibrated derives each split's thresholds from its enrolled templates
// alone (of group g when byGroup, for the whole gallery's size) and measures
// them on that split's non-mated and mated probes.
func calibrated(splits []splitData, g string, byGroup bool, opts OpenSetOptions) *Calibrated {
	c := &Calibrated{TargetFPIR: opts.TargetFPIR}
	var acc, conf, sizes []float64
	var fnMiss, fnN, cfMiss, cfFA int
	for s, d := range splits {
		gal := d.gallery
		if byGroup {
			gal = nil
			for i, t := range d.gallery {
				if d.galleryGrp[i] == g {
					gal = append(gal, t)
				}
			}
		}
		// N is the attendees, as the server counts it; an attendee's extra
		// templates are in the impostor scores instead (calibrate.Impostors
		// scores a pair by the best of one attendee's templates).
		a, cf, pairs := splitThresholds(gal, len(d.gallery), opts, s)
		c.ImpostorPairs = pairs
		if math.IsNaN(a) || pairs < MinCalibrationPairs {
			c.SkippedSplits++
			continue
		}
		acc, conf = append(acc, a), append(conf, cf)
		sizes = append(sizes, float64(len(d.gallery)))
		nm := pick(d.nonmated, d.nonmatedGrp, g, byGroup)
		fa := 0
		for _, x := range nm {
			if x >= a {
				fa++
			}
			if x >= cf {
				cfFA++
			}
		}
		c.FalseAccepts += fa
		c.NonmatedProbes += len(nm)
		if len(nm) > 0 {
			c.SplitFPIR = append(c.SplitFPIR, round4(float64(fa)/float64(len(nm))))
		}
		c.SplitAccept = append(c.SplitAccept, round4(a))
		for _, x := range pick(d.mated, d.matedGrp, g, byGroup) {
			fnN++
			if x < a {
				fnMiss++
			}
			if x < cf {
				cfMiss++
			}
		}
	}
	if c.NonmatedProbes > 0 {
		c.MeasuredFPIR = float64(c.FalseAccepts) / float64(c.NonmatedProbes)
		c.Ratio = round4(c.MeasuredFPIR / c.TargetFPIR)
		c.MeasuredFPIR = math.Round(c.MeasuredFPIR*1e6) / 1e6
	}
	if fnN > 0 {
		c.FNIR = round4(float64(fnMiss) / float64(fnN))
		c.FNIRConfirm = round4(float64(cfMiss) / float64(fnN))
	}
	if c.NonmatedProbes > 0 {
		c.FPIRConfirm = round4(float64(cfFA) / float64(c.NonmatedProbes))
	}
	m, s := MeanStd(acc)
	c.AcceptMean, c.AcceptStd = round4(m), round4(s)
	cm, _ := MeanStd(conf)
	c.ConfirmMean = round4(cm)
	gm, _ := MeanStd(sizes)
	c.GallerySizeMean = round4(gm)
	return c
}

// splitThresholds are the accept and confirm thresholds calibrated from
// the templates of each attendee of gal in split s for a gallery of size
// gallerySize attendees, and the number of impostor pairs behind them.
func splitThresholds(gal [][]engine.Template, gallerySize int, opts OpenSetOptions, s int) (accept, confirm float64, pairs int) {
	imp := calibrate.Impostors(gal, opts.MaxPairs, opts.Seed+uint64(s))
	a, cf := calibrate.Thresholds(calibrate.Fit(imp), opts.TargetFPIR, gallerySize)
	return a, cf, len(imp)
}

// Routing is margin routing at one operating point: an accepted match whose
// lead over the best other identity is below Margin goes to second
// verification ("Are you NAME?", QR or short code) instead of checking in.
// Shares are nil when their denominator is 0.
type Routing struct {
	Margin          float64 `json:"margin"`
	ThresholdSource string  `json:"threshold_source"` // "calibrated accept" or "FPIR 1e-2"
	ThresholdMean   float64 `json:"threshold_mean"`
	// Mated probes accepted with the right identity at rank 1, and how many
	// of them have margin < Margin (genuine check-ins sent to second
	// verification).
	MatedAccepted     int      `json:"mated_accepted"`
	SecondVerify      int      `json:"second_verify"`
	SecondVerifyShare *float64 `json:"second_verify_share"`
	// Non-mated probes accepted (false accepts), and those with margin <
	// Margin (caught by second verification).
	FalseAccepts            int      `json:"false_accepts"`
	FalseAcceptsCaught      int      `json:"false_accepts_caught"`
	FalseAcceptsCaughtShare *float64 `json:"false_accepts_caught_share"`
	// Mated probes whose rank-1 identity is wrong and at or above the
	// threshold (the wrong attendee checked in), and those caught.
	Misidentifications            int      `json:"misidentifications"`
	MisidentificationsCaught      int      `json:"misidentifications_caught"`
	MisidentificationsCaughtShare *float64 `json:"misidentifications_caught_share"`
	// All accepted probes (mated and non-mated) sent to second verification.
	CheckinsRouted      int      `json:"checkins_routed"`
	CheckinsRoutedShare *float64 `json:"checkins_routed_share"`
}

// routing counts margin routing over the splits at the calibrated accept
// threshold of each split (opts.Calibrate) or else at the pooled FPIR 1e-2
// threshold. nil when neither threshold exists.
func routing(splits []splitData, opts OpenSetOptions) *Routing {
	thr := make([]float64, len(splits))
	src := "calibrated accept"
	if opts.Calibrate {
		for s, d := range splits {
			thr[s], _, _ = splitThresholds(d.gallery, len(d.gallery), opts, s)
		}
	} else {
		src = "FPIR 1e-2"
		var allM, allN []float64
		for _, d := range splits {
			allM = append(allM, d.mated...)
			allN = append(allN, d.nonmated...)
		}
		t, ok := thresholdAtFPIR(allN, 1e-2)
		if !ok || len(allM) == 0 {
			return nil
		}
		for s := range thr {
			thr[s] = t
		}
	}
	var used []float64
	var rp []RoutedProbe
	for s, d := range splits {
		t := thr[s]
		if math.IsNaN(t) {
			continue
		}
		used = append(used, t)
		for i, top := range d.matedTop {
			rp = append(rp, RoutedProbe{Mated: true, RightID: d.rank1[i], Score: top, Margin: d.matedMargin[i], Threshold: t})
		}
		for i, top := range d.nonmated {
			rp = append(rp, RoutedProbe{Score: top, Margin: d.nonmatedMargin[i], Threshold: t})
		}
	}
	if len(used) == 0 {
		return nil
	}
	r := Route(rp, opts.Margin)
	r.ThresholdSource = src
	m, _ := MeanStd(used)
	r.ThresholdMean = round4(m)
	return r
}

// RoutedProbe is one search outcome for Route: a mated or non-mated probe,
// whether the rank-1 identity is the right one (mated only), the rank-1
// score, its margin over the best other identity and the accept threshold
// in force.
type RoutedProbe struct {
	Mated, RightID           bool
	Score, Margin, Threshold float64
}

// Route counts margin routing: a probe with Score >= Threshold is accepted;
// an accepted probe with Margin < margin goes to second verification.
func Route(probes []RoutedProbe, margin float64) *Routing {
	r := &Routing{Margin: margin}
	accepted := 0
	for _, p := range probes {
		if !(p.Score >= p.Threshold) {
			continue
		}
		accepted++
		low := p.Margin < margin
		if low {
			r.CheckinsRouted++
		}
		switch {
		case p.Mated && p.RightID:
			r.MatedAccepted++
			if low {
				r.SecondVerify++
			}
		case p.Mated:
			r.Misidentifications++
			if low {
				r.MisidentificationsCaught++
			}
		default:
			r.FalseAccepts++
			if low {
				r.FalseAcceptsCaught++
			}
		}
	}
	share := func(a, b int) *float64 {
		if b == 0 {
			return nil
		}
		return ptr(round4(float64(a) / float64(b)))
	}
	r.SecondVerifyShare = share(r.SecondVerify, r.MatedAccepted)
	r.FalseAcceptsCaughtShare = share(r.FalseAcceptsCaught, r.FalseAccepts)
	r.MisidentificationsCaughtShare = share(r.MisidentificationsCaught, r.Misidentifications)
	r.CheckinsRoutedShare = share(r.CheckinsRouted, accepted)
	return r
}

// detCurve samples pooled FNIR at log-spaced FPIRs the non-mated count resolves.
func detCurve(splits []splitData, g string, byGroup bool) []DETPoint {
	var allM, allN []float64
	for _, d := range splits {
		allM = append(allM, pick(d.mated, d.matedGrp, g, byGroup)...)
		allN = append(allN, pick(d.nonmated, d.nonmatedGrp, g, byGroup)...)
	}
	var pts []DETPoint
	for e := -5.0; e <= 0.001; e += 0.05 {
		fpir := math.Pow(10, e)
		t, ok := thresholdAtFPIR(allN, fpir)
		if !ok || len(allM) == 0 {
			continue
		}
		pts = append(pts, DETPoint{FPIR: fpir, FNIR: 1 - rateAtOrAbove(allM, t)})
	}
	return pts
}

// Print writes the report for a person.
func (r *OpenSetReport) Print(w io.Writer) {
	fmt.Fprintf(w, "open-set 1:N: images %d (identities %d), face detected in %d\n", r.Images, r.Identities, r.Detected)
	fmt.Fprintf(w, "%d splits, half the identities enrolled with %d photo(s) each (seed %d)\n", r.Splits, r.EnrolPerID, r.Seed)
	printFigures(w, "all", &r.All)
	names := make([]string, 0, len(r.Groups))
	for g := range r.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		printFigures(w, "group "+g, r.Groups[g])
	}
	if r.Fusion != nil {
		r.Fusion.Print(w, &r.All)
	}
}

func printFigures(w io.Writer, name string, f *OpenSetFigures) {
	fmt.Fprintf(w, "[%s] mated probes %d, non-mated probes %d (pooled over splits)\n", name, f.MatedProbes, f.NonmatedProbes)
	fmt.Fprintf(w, "  rank-1 %.2f%% (per split %.2f ± %.2f%%)\n", 100*f.Rank1, 100*f.Rank1Mean, 100*f.Rank1Std)
	for _, p := range f.Points {
		if !p.Measurable {
			fmt.Fprintf(w, "  FNIR @ FPIR %.0e: not measurable (%d non-mated probes resolve down to %.1e)\n", p.FPIR, p.NonmatedProbes, 1/math.Max(1, float64(p.NonmatedProbes)))
			continue
		}
		per := "per split: not measurable"
		if p.FNIRMean != nil {
			per = fmt.Sprintf("per split %.2f ± %.2f%% over %d", 100**p.FNIRMean, 100**p.FNIRStd, p.MeasurableSplits)
		}
		fmt.Fprintf(w, "  FNIR @ FPIR %.0e: %.2f%% at threshold %.4f (pooled; %s; %d non-mated probes)\n",
			p.FPIR, 100**p.FNIR, *p.Threshold, per, p.NonmatedProbes)
	}
	if c := f.Calibrated; c != nil && c.NonmatedProbes == 0 && c.SkippedSplits > 0 {
		fmt.Fprintf(w, "  calibrated: not measurable (%d impostor pairs per split in this group's own gallery, need %d)\n",
			c.ImpostorPairs, MinCalibrationPairs)
	} else if c != nil {
		if c.SkippedSplits > 0 {
			fmt.Fprintf(w, "  (%d splits skipped: fewer than %d impostor pairs)\n", c.SkippedSplits, MinCalibrationPairs)
		}
		fmt.Fprintf(w, "  calibrated (enrolled templates only, %d impostor pairs, ~%.0f attendees): accept %.4f ± %.4f, confirm %.4f\n",
			c.ImpostorPairs, c.GallerySizeMean, c.AcceptMean, c.AcceptStd, c.ConfirmMean)
		fmt.Fprintf(w, "    target FPIR %.1e, measured %.2e (%d/%d), ratio %.2f; FNIR at accept %.2f%%\n",
			c.TargetFPIR, c.MeasuredFPIR, c.FalseAccepts, c.NonmatedProbes, c.Ratio, 100*c.FNIR)
		fmt.Fprintf(w, "    at confirm (\"Are you NAME?\"): genuine not even asked %.2f%%, non-enrolled asked %.2f%%\n",
			100*c.FNIRConfirm, 100*c.FPIRConfirm)
	}
	if r := f.Routing; r != nil {
		fmt.Fprintf(w, "  margin routing (margin < %.3f at the %s threshold, mean %.4f):\n", r.Margin, r.ThresholdSource, r.ThresholdMean)
		fmt.Fprintf(w, "    genuine check-ins sent to second verification: %s (%d/%d)\n", pct(r.SecondVerifyShare), r.SecondVerify, r.MatedAccepted)
		fmt.Fprintf(w, "    false accepts (non-mated) caught: %s (%d/%d)\n", pct(r.FalseAcceptsCaughtShare), r.FalseAcceptsCaught, r.FalseAccepts)
		fmt.Fprintf(w, "    misidentifications (wrong attendee at rank 1) caught: %s (%d/%d)\n", pct(r.MisidentificationsCaughtShare), r.MisidentificationsCaught, r.Misidentifications)
		fmt.Fprintf(w, "    all accepted check-ins routed: %s (%d)\n", pct(r.CheckinsRoutedShare), r.CheckinsRouted)
	}
}

// pct formats a share as a percentage, "n/a" when nil.
func pct(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", 100**x)
}

// PlotDET draws FNIR against FPIR, both on log axes (FPIR 1e-4..1, FNIR
// 1e-3..1; an FNIR of 0 is drawn at the floor), one line per curve.
func PlotDET(path, title string, curves map[string][]DETPoint) error {
	const W, H, L, R, T, B = 640, 480, 60, 20, 40, 50
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.White)
	x := func(v float64) int { return L + int((math.Log10(max(v, 1e-4))+4)/4*float64(W-L-R)) }
	y := func(v float64) int { return H - B - int((math.Log10(max(v, 1e-3))+3)/3*float64(H-T-B)) }
	grid := color.RGBA{220, 220, 220, 255}
	for e := -4; e <= 0; e++ {
		xx := x(math.Pow(10, float64(e)))
		fill(img, image.Rect(xx, T, xx+1, H-B), grid)
		label(img, xx-12, H-B+16, fmt.Sprintf("1e%d", e))
	}
	for e := -3; e <= 0; e++ {
		yy := y(math.Pow(10, float64(e)))
		fill(img, image.Rect(L, yy, W-R, yy+1), grid)
		label(img, L-34, yy+4, fmt.Sprintf("1e%d", e))
	}
	fill(img, image.Rect(L, T, L+1, H-B), color.Black)
	fill(img, image.Rect(L, H-B, W-R, H-B+1), color.Black)
	label(img, L, 14, title)
	label(img, W/2-60, H-12, "FPIR (log)")
	label(img, 4, T-8, "FNIR (log)")
	palette := []color.RGBA{{20, 80, 200, 255}, {200, 60, 20, 255}, {20, 150, 60, 255}, {150, 20, 150, 255}, {200, 150, 0, 255}}
	names := make([]string, 0, len(curves))
	for n := range curves {
		names = append(names, n)
	}
	sort.Strings(names)
	for k, n := range names {
		c := palette[k%len(palette)]
		pts := curves[n]
		for i := 1; i < len(pts); i++ {
			line(img, x(pts[i-1].FPIR), y(pts[i-1].FNIR), x(pts[i].FPIR), y(pts[i].FNIR), c)
		}
		name := n
		if name == "" {
			name = "all"
		}
		fill(img, image.Rect(W-R-120, T+6+14*k, W-R-108, T+14+14*k), c)
		label(img, W-R-104, T+14+14*k, name)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("det plot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("det plot: %w", err)
	}
	return f.Close()
}
