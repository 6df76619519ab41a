package measure

import (
	"math"

	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/engine"
)

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
