package measure

import (
	"math"
)

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
