package facecheck_test

import (
	"math"
	"testing"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/internal/decisiontest"
)

func TestDecide(t *testing.T) {
	for _, tc := range decisiontest.Table(t) {
		t.Run(tc.Name, func(t *testing.T) {
			got, risk := tc.Th.Decide(tc.Score, tc.Margin, tc.Risk, tc.CanVerify)
			if got != tc.Want || risk != tc.WantRisk {
				t.Fatalf("Decide(%.2f, %.2f, %q, %v) = %s, %q; want %s, %q",
					tc.Score, tc.Margin, tc.Risk, tc.CanVerify, got, risk, tc.Want, tc.WantRisk)
			}
		})
	}
	t.Run("NaNRejects", func(t *testing.T) {
		th := facecheck.Thresholds{Accept: 0.4, Confirm: 0.33, Margin: 0.05}
		if got, _ := th.Decide(float32(math.NaN()), 1, facecheck.RiskNone, true); got != facecheck.Reject {
			t.Fatalf("NaN score: %s", got)
		}
	})
}
