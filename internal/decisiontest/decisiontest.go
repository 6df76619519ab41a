// Package decisiontest reads the one table the decision rule
// (facecheck.Thresholds.Decide) is tested with, so the facecheck, kiosk and
// server tests drive the same cases. It imports no gocv: the server's tests
// use it.
package decisiontest

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/facecheck/facecheck"
)

// Case is one row of the module's testdata/decisions.csv: a match
// (Score, Margin, the caller's Risk) under thresholds Th, whether the asker
// can verify a code, and the decision and risk the rule must give.
type Case struct {
	Name          string
	Th            facecheck.Thresholds
	Score, Margin float32
	Risk          facecheck.Risk
	CanVerify     bool
	Want          facecheck.Decision
	WantRisk      facecheck.Risk
}

// NearThreshold reports whether the case's score or margin lies within eps
// of a threshold, where an 8-bit template's rounding may tip it either way.
func (c Case) NearThreshold(eps float32) bool {
	near := func(v, th float32) bool { return v > th-eps && v < th+eps }
	return near(c.Score, c.Th.Accept) || near(c.Score, c.Th.Confirm) || near(c.Margin, c.Th.Margin)
}

// Table reads testdata/decisions.csv at the module root, the one
// table the decision rule is tested with on every side.
func Table(tb testing.TB) []Case {
	tb.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("decision table: no source path")
	}
	path := filepath.Join(filepath.Dir(self), "..", "..", "testdata", "decisions.csv")
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("decision table: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = 10
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("decision table %s: %v", path, err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "name,accept,confirm,margin_min,score,margin,risk,can_verify,want,want_risk" {
		tb.Fatalf("decision table %s: unexpected header %q", path, rows[0])
	}
	var out []Case
	for i, row := range rows[1:] {
		num := func(s string) float32 {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				tb.Fatalf("decision table row %d (%s): %v", i+1, row[0], err)
			}
			return float32(v)
		}
		canVerify, err := strconv.ParseBool(row[7])
		if err != nil {
			tb.Fatalf("decision table row %d (%s): %v", i+1, row[0], err)
		}
		out = append(out, Case{
			Name:  row[0],
			Th:    facecheck.Thresholds{Accept: num(row[1]), Confirm: num(row[2]), Margin: num(row[3])},
			Score: num(row[4]), Margin: num(row[5]), Risk: facecheck.Risk(row[6]), CanVerify: canVerify,
			Want: facecheck.Decision(row[8]), WantRisk: facecheck.Risk(row[9]),
		})
	}
	return out
}
