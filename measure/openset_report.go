package measure

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"sort"
)

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
