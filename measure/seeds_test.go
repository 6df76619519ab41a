package measure_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/measure"
)

// TestSeeds: each seed's figures are exactly what OpenSet gives with that
// seed, and the summary gives their range and mean.
func TestSeeds(t *testing.T) {
	probes := synthProbes(t, 60, 4, 1.6, false)
	opts := measure.OpenSetOptions{Splits: 5, Seed: 3, Calibrate: true, TargetFPIR: 1e-2}
	got, err := measure.Seeds(probes, opts, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d seeds, want 3", len(got))
	}
	distinct := map[float64]bool{}
	for i, s := range got {
		o := opts
		o.Seed = 3 + uint64(i)
		rep, err := measure.OpenSet(probes, o)
		if err != nil {
			t.Fatal(err)
		}
		if s.Seed != o.Seed || s.FNIR1e2 == nil || s.Ratio == nil || s.FNIRCalibrated == nil ||
			*s.FNIR1e2 != *rep.FNIR1e2 || *s.Ratio != *rep.FPIRRatio || *s.FNIRCalibrated != *rep.FNIRCalibrated {
			t.Fatalf("seed %d: %+v, OpenSet gives FNIR %v ratio %v calibrated FNIR %v", o.Seed, s, rep.FNIR1e2, rep.FPIRRatio, rep.FNIRCalibrated)
		}
		distinct[*s.FNIRCalibrated] = true
	}
	if len(distinct) < 2 {
		t.Error("three seeds gave the same calibrated FNIR: the seed is not reaching the splits")
	}
	var out bytes.Buffer
	measure.PrintSeeds(&out, got)
	for _, want := range []string{"over 3 seeds", "seed 5:", "calibrated FPIR / target:", "(mean "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := measure.Seeds(probes, opts, 0); err == nil {
		t.Error("0 seeds: no error")
	}
}
