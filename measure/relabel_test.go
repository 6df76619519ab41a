package measure_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/measure"
)

func TestReadRelabels(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      int
		err       string
	}{
		{"ok with comments", "# why\npath,identity,evidence\na/1.jpg,b,\"same person, see x\"\n", 1, ""},
		{"wrong header", "path,identity\na/1.jpg,b\n", 0, "want path,identity,evidence"},
		{"missing evidence", "path,identity,evidence\na/1.jpg,b,\n", 0, "all required"},
		{"ragged row", "path,identity,evidence\na/1.jpg,b\n", 0, "wrong number of fields"},
		{"empty", "", 0, "read header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := measure.ReadRelabels(strings.NewReader(tc.csv))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("got %d fixes, err %v; want %d", len(got), err, tc.want)
			}
		})
	}
}

func TestApplyRelabels(t *testing.T) {
	samples := []measure.Sample{{Path: "x/1.jpg", Identity: "x"}, {Path: "y/1.jpg", Identity: "y"}}
	out, err := measure.ApplyRelabels(samples, []measure.Relabel{{Path: "y/1.jpg", Identity: "x", Evidence: "same"}})
	if err != nil {
		t.Fatal(err)
	}
	if out[1].Identity != "x" || samples[1].Identity != "y" {
		t.Errorf("got %v, input %v: want a relabelled copy", out, samples)
	}
	if _, err := measure.ApplyRelabels(samples, []measure.Relabel{{Path: "z/9.jpg", Identity: "x", Evidence: "e"}}); err == nil {
		t.Error("a correction for a photo not in the labels was accepted")
	}
}

// TestDevFacesRelabels keeps the committed corrections in step with the
// dev labels: every path they name exists.
func TestDevFacesRelabels(t *testing.T) {
	dir := testenv.Faces(t)
	samples, err := measure.ReadLabelSet(filepath.Join(dir, "labels.csv"), measure.LabelOptions{Relabel: filepath.Join("testdata", "devfaces-relabel.csv")})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, s := range samples {
		ids[s.Identity]++
	}
	if ids["deepface_person_01"] != 0 || ids["abdullah_gul"] != 1 {
		t.Errorf("corrections not applied: deepface_person_01 %d photos, abdullah_gul %d", ids["deepface_person_01"], ids["abdullah_gul"])
	}
}
