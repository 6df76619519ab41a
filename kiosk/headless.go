package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/measure"
	"github.com/facecheck/facecheck/storage"
)

// Line is one JSON line of the headless runner. Event is the event kind,
// except that a recorded check-in is "checkin".
type Line struct {
	Event      string             `json:"event"`
	At         time.Time          `json:"at"`
	Frame      int                `json:"frame"`
	State      State              `json:"state"`
	Prompt     Prompt             `json:"prompt,omitempty"`
	Face       *FaceInfo          `json:"face,omitempty"`
	Candidate  *Candidate         `json:"candidate,omitempty"`
	Outcome    Outcome            `json:"outcome,omitempty"`
	AttendeeID string             `json:"attendee_id,omitempty"`
	Name       string             `json:"name,omitempty"`
	Method     string             `json:"method,omitempty"`
	CheckInID  string             `json:"checkin_id,omitempty"`
	Frames     int                `json:"frames,omitempty"`
	Captured   bool               `json:"captured,omitempty"`
	Score      *float32           `json:"score,omitempty"`
	Margin     *float32           `json:"margin,omitempty"`
	LatencyMS  *float64           `json:"latency_ms,omitempty"`
	ApproachMS *float64           `json:"approach_ms,omitempty"`
	Timings    map[string]float64 `json:"timings,omitempty"`
	Err        string             `json:"error,omitempty"`
}

// LineFor flattens an event into a headless output line.
func LineFor(e Event, frame int) Line {
	l := Line{Event: string(e.Kind), At: e.At, Frame: frame, State: e.State, Prompt: e.Prompt, Face: e.Face,
		Candidate: e.Candidate, Timings: e.Timings, Err: e.Err}
	if r := e.Result; r != nil {
		if r.Outcome == OutcomeCheckedIn {
			l.Event = "checkin"
		}
		l.Outcome, l.AttendeeID, l.Name, l.Method, l.CheckInID = r.Outcome, r.AttendeeID, r.Name, r.Method, r.CheckInID
		l.Frames, l.Captured = r.Frames, r.Captured
		l.Score, l.Margin, l.LatencyMS, l.ApproachMS = &r.Score, &r.Margin, &r.LatencyMS, &r.ApproachMS
	}
	return l
}

// HeadlessOptions configure RunHeadless.
type HeadlessOptions struct {
	// AutoConfirm answers every "Are you NAME?" question with this value.
	AutoConfirm bool
	// Faces writes the per-frame face events too (many lines).
	Faces bool
}

// RunHeadless plays cam through k until io.EOF or ctx is done, writes one
// JSON line per event to w and returns every result.
func RunHeadless(ctx context.Context, cam Camera, k *Kiosk, o HeadlessOptions, w io.Writer) ([]Result, error) {
	enc := json.NewEncoder(w)
	var results []Result
	write := func(evs []Event, frame int) error {
		for _, e := range evs {
			if e.Kind == EventFace && !o.Faces {
				continue
			}
			if e.Result != nil {
				results = append(results, *e.Result)
			}
			if err := enc.Encode(LineFor(e, frame)); err != nil {
				return err
			}
		}
		return nil
	}
	for frame := 0; ; frame++ {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		im, err := cam.Read()
		if errors.Is(err, io.EOF) {
			return results, nil
		}
		if err != nil {
			return results, err
		}
		evs, err := k.Step(ctx, im)
		if werr := write(evs, frame); werr != nil {
			return results, werr
		}
		if err != nil {
			return results, err
		}
		if k.State() == StateConfirm {
			evs, err := k.Answer(ctx, o.AutoConfirm)
			if werr := write(evs, frame); werr != nil {
				return results, werr
			}
			if err != nil {
				return results, err
			}
		}
	}
}

// Encoder is what enrolment needs from the engine.
type Encoder interface {
	Encode(engine.Image) (engine.Encoded, error)
}

// LabelledPerson is one identity of a labels CSV (columns path, identity).
type LabelledPerson struct {
	ID    string
	Paths []string // relative to the image root, in CSV order
}

// ReadPeople reads a labels CSV (measure.ReadLabelsFile: columns path and
// identity) and returns its identities sorted by id, for enrolling people
// from labelled photos in demos and tests.
func ReadPeople(labels string) ([]LabelledPerson, error) {
	samples, err := measure.ReadLabelsFile(labels)
	if err != nil {
		return nil, fmt.Errorf("kiosk: %w", err)
	}
	by := map[string]*LabelledPerson{}
	for _, s := range samples {
		p := by[s.Identity]
		if p == nil {
			p = &LabelledPerson{ID: s.Identity}
			by[s.Identity] = p
		}
		p.Paths = append(p.Paths, s.Path)
	}
	out := make([]LabelledPerson, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// EnrolPhoto encodes the photo at path and stores attendee id/name with its
// template.
func EnrolPhoto(ctx context.Context, e Encoder, db *storage.DB, id, name, path string) error {
	im, err := engine.LoadImage(path)
	if err != nil {
		return err
	}
	enc, err := e.Encode(im)
	if err != nil {
		return fmt.Errorf("kiosk: enrol %s: %w", id, err)
	}
	t, err := engine.Quantize(enc.Embedding)
	if err != nil {
		return err
	}
	return db.UpsertAttendee(ctx, storage.Attendee{ID: id, Name: name},
		[]api.Template{{Model: t.Model, Version: t.Version, Data: t.Bytes()}})
}

// EnrolFirst enrols the first photo of the first n people into db.
func EnrolFirst(ctx context.Context, e Encoder, db *storage.DB, people []LabelledPerson, root string, n int) ([]LabelledPerson, error) {
	var done []LabelledPerson
	for _, p := range people {
		if len(done) >= n {
			break
		}
		if len(p.Paths) == 0 {
			continue
		}
		if err := EnrolPhoto(ctx, e, db, p.ID, p.ID, filepath.Join(root, p.Paths[0])); err != nil {
			return done, err
		}
		done = append(done, p)
	}
	return done, nil
}

// LoadGallery fills a new gallery from the templates stored in db.
func LoadGallery(ctx context.Context, db *storage.DB, maxPerID int) (*engine.Gallery, error) {
	ts, err := db.AllTemplates(ctx)
	if err != nil {
		return nil, err
	}
	g := engine.NewGallery(maxPerID)
	for _, gt := range ts {
		t, err := engine.TemplateFromBytes(gt.Model, gt.Version, gt.Data)
		if err != nil {
			return nil, fmt.Errorf("kiosk: template of %s: %w", gt.AttendeeID, err)
		}
		if err := g.Add(gt.AttendeeID, t); err != nil {
			return nil, err
		}
	}
	return g, nil
}
