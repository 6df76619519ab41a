package measure

import (
	"fmt"
	"io"
	"math"
)

// SeedFigures are one seed's headline open-set figures (see Seeds).
type SeedFigures struct {
	Seed    uint64   `json:"seed"`
	FNIR1e2 *float64 `json:"fnir_at_fpir_1e-2"`
	// Ratio and FNIRCalibrated are set with OpenSetOptions.Calibrate.
	Ratio          *float64 `json:"fpir_ratio,omitempty"`
	FNIRCalibrated *float64 `json:"fnir_at_calibrated_threshold,omitempty"`
}

// Seeds repeats OpenSet for n consecutive split seeds from opts.Seed (the
// same probes, the same options otherwise). With ~95 identities the pooled
// figures of one seed move with which identities happen to be strangers, so
// a claim about calibration rests on several seeds, not one.
func Seeds(probes []Probe, opts OpenSetOptions, n int) ([]SeedFigures, error) {
	if n < 1 {
		return nil, fmt.Errorf("seeds: %d, want at least 1", n)
	}
	first := max(opts.Seed, 1)
	out := make([]SeedFigures, 0, n)
	for i := range uint64(n) {
		o := opts
		o.Seed = first + i
		o.Frames = nil // the seed summary is about single photos
		rep, err := OpenSet(probes, o)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", o.Seed, err)
		}
		out = append(out, SeedFigures{Seed: o.Seed, FNIR1e2: rep.FNIR1e2, Ratio: rep.FPIRRatio, FNIRCalibrated: rep.FNIRCalibrated})
	}
	return out, nil
}

// PrintSeeds writes one line per seed and the range and mean of each figure.
func PrintSeeds(w io.Writer, seeds []SeedFigures) {
	fmt.Fprintf(w, "over %d seeds:\n", len(seeds))
	var fnir, ratio, cal []float64
	for _, s := range seeds {
		fmt.Fprintf(w, "  seed %d: FNIR @ FPIR 1e-2 %s", s.Seed, pct(s.FNIR1e2))
		if s.FNIR1e2 != nil {
			fnir = append(fnir, *s.FNIR1e2)
		}
		if s.Ratio != nil && s.FNIRCalibrated != nil {
			fmt.Fprintf(w, "; calibrated: ratio %.2f, FNIR at accept %s", *s.Ratio, pct(s.FNIRCalibrated))
			ratio = append(ratio, *s.Ratio)
			cal = append(cal, *s.FNIRCalibrated)
		}
		fmt.Fprintln(w)
	}
	span := func(name string, xs []float64, scale float64, unit string) {
		if len(xs) == 0 {
			return
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range xs {
			lo, hi = min(lo, x), max(hi, x)
		}
		m, _ := MeanStd(xs)
		fmt.Fprintf(w, "  %s: %.2f-%.2f%s (mean %.2f%s)\n", name, lo*scale, hi*scale, unit, m*scale, unit)
	}
	span("FNIR @ FPIR 1e-2", fnir, 100, "%")
	span("calibrated FPIR / target", ratio, 1, "")
	span("FNIR at the calibrated accept", cal, 100, "%")
}
