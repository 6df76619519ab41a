// Package measure owns how facecheck is measured: accuracy on labelled faces
// (closed-set verification and leave-one-out identification, the LFW pairs
// protocol) and per-stage speed. It drives the real engine on real images and
// reports numbers; it decides nothing at check-in time.
package measure

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Sample is one labelled photo.
type Sample struct {
	Path     string // relative to the root
	Identity string
	Group    string // optional population group, "" when the CSV has none
}

// ReadLabels reads a CSV with a header naming at least the columns path and
// identity (any order; other columns such as group, source_repo are kept or
// ignored).
func ReadLabels(r io.Reader) ([]Sample, error) { return ReadLabelsGroupedBy(r, "group") }

// ReadLabelsGroupedBy is ReadLabels taking each sample's Group from the
// column named groupColumn (case-insensitive; e.g. source_repo to compare
// the populations of different sources). A named column that the header
// lacks is an error, except "group", which is optional.
func ReadLabelsGroupedBy(r io.Reader, groupColumn string) ([]Sample, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("labels: read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	pi, ok1 := col["path"]
	ii, ok2 := col["identity"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("labels: header %q needs the columns path and identity", strings.Join(head, ","))
	}
	groupColumn = strings.ToLower(strings.TrimSpace(groupColumn))
	gi, hasGroup := col[groupColumn]
	if !hasGroup && groupColumn != "" && groupColumn != "group" {
		return nil, fmt.Errorf("labels: no column %q to group by (header %q)", groupColumn, strings.Join(head, ","))
	}
	var out []Sample
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("labels: line %d: %w", line, err)
		}
		if len(rec) <= max(pi, ii) {
			return nil, fmt.Errorf("labels: line %d: %d columns, want at least %d", line, len(rec), max(pi, ii)+1)
		}
		s := Sample{Path: rec[pi], Identity: rec[ii]}
		if s.Path == "" || s.Identity == "" {
			return nil, fmt.Errorf("labels: line %d: empty path or identity", line)
		}
		if hasGroup && gi < len(rec) {
			s.Group = rec[gi]
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("labels: no rows")
	}
	return out, nil
}

// ReadLabelsFile opens and reads a labels CSV.
func ReadLabelsFile(path string) ([]Sample, error) { return ReadLabelSet(path, LabelOptions{}) }

// LabelOptions say how ReadLabelSet reads a labels CSV.
type LabelOptions struct {
	// Relabel is a corrections CSV (ReadRelabels) to apply; "" for none.
	Relabel string
	// GroupColumn names the column that gives each sample's Group
	// (default "group", optional).
	GroupColumn string
}

// ReadLabelSet opens and reads a labels CSV as o says.
func ReadLabelSet(path string, o LabelOptions) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	if o.GroupColumn == "" {
		o.GroupColumn = "group"
	}
	samples, err := ReadLabelsGroupedBy(f, o.GroupColumn)
	if err != nil || o.Relabel == "" {
		return samples, err
	}
	fixes, err := ReadRelabelsFile(o.Relabel)
	if err != nil {
		return nil, err
	}
	return ApplyRelabels(samples, fixes)
}
