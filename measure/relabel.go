package measure

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Relabel corrects one photo's identity in a labelled set. Public face sets
// carry label noise (the same person under two names, a photo filed under
// the wrong person); left in, one such photo counts as a false match or a
// false non-match in every split it falls in. Corrections are kept in a
// file next to the evidence for each, and figures are reported with and
// without them.
type Relabel struct {
	Path     string // as in the labels CSV
	Identity string // the corrected identity
	Evidence string // why: a human-readable reason with its sources
}

// ReadRelabels reads a CSV with the header path,identity,evidence.
func ReadRelabels(r io.Reader) ([]Relabel, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("relabels: read header: %w", err)
	}
	if len(head) != 3 || strings.Join(head, ",") != "path,identity,evidence" {
		return nil, fmt.Errorf("relabels: header %q, want path,identity,evidence", strings.Join(head, ","))
	}
	var out []Relabel
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("relabels: %w", err)
		}
		r := Relabel{Path: rec[0], Identity: rec[1], Evidence: rec[2]}
		if r.Path == "" || r.Identity == "" || r.Evidence == "" {
			return nil, fmt.Errorf("relabels: line %d: path, identity and evidence are all required", line)
		}
		out = append(out, r)
	}
}

// ReadRelabelsFile opens and reads a relabels CSV.
func ReadRelabelsFile(path string) ([]Relabel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("relabels: %w", err)
	}
	defer f.Close()
	return ReadRelabels(f)
}

// ApplyRelabels returns a copy of samples with the corrections applied. A
// correction whose path is not among the samples is an error: the file was
// written for another version of the set.
func ApplyRelabels(samples []Sample, fixes []Relabel) ([]Sample, error) {
	out := append([]Sample(nil), samples...)
	at := make(map[string]int, len(out))
	for i, s := range out {
		at[s.Path] = i
	}
	for _, f := range fixes {
		i, ok := at[f.Path]
		if !ok {
			return nil, fmt.Errorf("relabels: %s is not in the labels", f.Path)
		}
		out[i].Identity = f.Identity
	}
	return out, nil
}
