package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/assets"
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
	// Faces writes the per-frame face events too (many lines); in Text
	// mode also every state change.
	Faces bool
	// Text writes short human-readable lines ("frame N  …") instead of
	// JSON: one per check-in or other result, per identity question, per
	// error and per change of the prompt shown to the person (in the
	// screen's English words).
	Text bool
}

// RunHeadless plays cam through k until io.EOF or ctx is done, writes one
// JSON line per event to w (or, with o.Text, a readable line per
// meaningful event) and returns every result. When the storage cannot
// record a check-in (full disk, damaged file) it writes an out_of_order
// line, drops frames while it probes the storage with backoff, and writes
// a resumed line when check-ins can be recorded again; it does not stop.
func RunHeadless(ctx context.Context, cam Camera, k *Kiosk, o HeadlessOptions, w io.Writer) ([]Result, error) {
	var results []Result
	var line func(e Event, frame int) error
	var text *textWriter
	if o.Text {
		text = &textWriter{w: w, verbose: o.Faces, confirm: k.Config().Confirm}
		line = text.event
	} else {
		enc := json.NewEncoder(w)
		line = func(e Event, frame int) error {
			if e.Kind == EventFace && !o.Faces {
				return nil
			}
			return enc.Encode(LineFor(e, frame))
		}
	}
	write := func(evs []Event, frame int) error {
		for _, e := range evs {
			if e.Result != nil {
				results = append(results, *e.Result)
			}
			if err := line(e, frame); err != nil {
				return fmt.Errorf("kiosk: headless output: %w", err)
			}
		}
		return nil
	}
	var out *outage // a storage outage in progress
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
		if out != nil {
			// Out of order: frames are dropped until the storage takes
			// writes again, one per probe (a video is not real time here:
			// read on, it would be over before the disk has room again).
			if now := time.Now(); out.try(ctx, now) {
				evs := out.resumed(k, now)
				out = nil
				if werr := write(evs, frame); werr != nil {
					return results, werr
				}
			} else if !sleep(ctx, out.until(now), nil) {
				return results, ctx.Err()
			}
			continue
		}
		evs, err := k.Step(ctx, im)
		if werr := write(evs, frame); werr != nil {
			return results, werr
		}
		if err != nil && storageFailure(err) {
			// A full disk degrades the kiosk, it does not stop it.
			now := time.Now()
			out = newOutage(k, err, now)
			if werr := write([]Event{out.event(now)}, frame); werr != nil {
				return results, werr
			}
			continue
		}
		if err != nil {
			return results, err
		}
		if k.State() == StateConfirm {
			if q := k.Question(); q != nil && text != nil {
				if err := text.question(*q, o.AutoConfirm, frame); err != nil {
					return results, fmt.Errorf("kiosk: headless output: %w", err)
				}
			}
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

// textWriter writes RunHeadless's human-readable lines ("frame N  …"):
// results, identity questions, errors and each prompt shown to the person
// (the kiosk emits a prompt event only when the prompt changes); verbose
// adds state changes and a line per frame with a face.
type textWriter struct {
	w       io.Writer
	verbose bool
	confirm float32 // the score from which a face is asked about
}

func (t *textWriter) printf(frame int, format string, args ...any) error {
	_, err := fmt.Fprintf(t.w, "frame %4d  "+format+"\n", append([]any{frame}, args...)...)
	return err
}

func (t *textWriter) event(e Event, frame int) error {
	switch e.Kind {
	case EventResult:
		if e.Result != nil {
			return t.result(*e.Result, frame)
		}
	case EventPrompt:
		if e.Prompt != PromptNone {
			return t.printf(frame, "prompt: %s", promptText(e.Prompt))
		}
		if t.verbose {
			return t.printf(frame, "prompt cleared")
		}
	case EventError:
		return t.printf(frame, "error: %s", e.Err)
	case EventOutOfOrder:
		return t.printf(frame, "out of order: %s", e.Err)
	case EventResumed:
		return t.printf(frame, "resumed: check-ins are recorded again")
	case EventState:
		if t.verbose {
			return t.printf(frame, "state %s", e.State)
		}
	case EventFace:
		if f := e.Face; t.verbose && f != nil {
			return t.printf(frame, "face at %.2f,%.2f size %.2fx%.2f  fit %.2f  presence %.2f  blur %.0f  brightness %.0f",
				f.Box.X, f.Box.Y, f.Box.W, f.Box.H, f.GuideFit, f.Presence, f.Blur, f.Brightness)
		}
	}
	return nil
}

func (t *textWriter) result(r Result, frame int) error {
	p := who(r.Name, r.AttendeeID)
	switch r.Outcome {
	case OutcomeCheckedIn:
		return t.printf(frame, "checked in %s  score %.3f  margin %.3f  method %s  latency %.0f ms",
			p, r.Score, r.Margin, r.Method, r.LatencyMS)
	case OutcomeRepeat:
		return t.printf(frame, "welcomed back %s: already checked in today  score %.3f  margin %.3f  method %s  latency %.0f ms",
			p, r.Score, r.Margin, r.Method, r.LatencyMS)
	case OutcomeNotFound:
		return t.printf(frame, "not recognised  best score %.3f, below %.2f  latency %.0f ms", r.Score, t.confirm, r.LatencyMS)
	case OutcomeDeclined:
		return t.printf(frame, "declined: not %s  score %.3f  margin %.3f", p, r.Score, r.Margin)
	case OutcomeTimeout:
		return t.printf(frame, "no answer about %s: timed out  score %.3f  margin %.3f", p, r.Score, r.Margin)
	}
	return t.printf(frame, "result %s %s  score %.3f  margin %.3f", r.Outcome, p, r.Score, r.Margin)
}

// question records the answer RunHeadless gives to "Are you NAME?".
func (t *textWriter) question(c Candidate, yes bool, frame int) error {
	answer := "no"
	if yes {
		answer = "yes"
	}
	return t.printf(frame, "asked \"Are you %s?\"  score %.3f  margin %.3f  answered %s",
		who(c.Name, c.AttendeeID), c.Score, c.Margin, answer)
}

// who names an attendee as "Name (id)", or by id alone when they match.
func who(name, id string) string {
	switch {
	case name == "" || name == id:
		return id
	case id == "":
		return name
	}
	return name + " (" + id + ")"
}

// promptText is the kiosk screen's English sentence for p (the UI's
// translation, assets/i18n/en.json), or p itself when it has none.
func promptText(p Prompt) string {
	if s, ok := englishPrompts()["prompt."+string(p)]; ok && s != "" {
		return s
	}
	return string(p)
}

var englishPrompts = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	if b, err := assets.Translation("en"); err == nil {
		_ = json.Unmarshal(b, &m) // a broken file leaves the prompt names
	}
	return m
})

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
