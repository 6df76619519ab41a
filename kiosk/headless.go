package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/facecheck/facecheck/i18n"
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
	Code       string             `json:"code,omitempty"`
}

// LineFor flattens an event into a headless output line.
func LineFor(e Event, frame int) Line {
	l := Line{Event: string(e.Kind), At: e.At, Frame: frame, State: e.State, Prompt: e.Prompt, Face: e.Face,
		Candidate: e.Candidate, Timings: e.Timings, Err: e.Err, Code: e.Code}
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
func RunHeadless(ctx context.Context, cam Camera, k *Machine, o HeadlessOptions, w io.Writer) ([]Result, error) {
	return runHeadless(ctx, cam, k, o, w, nil)
}

// RunHeadless plays cam through the station's machine as the package's
// RunHeadless does, applying settings changed meanwhile (a server push,
// pairing) between two frames.
func (s *Station) RunHeadless(ctx context.Context, cam Camera, o HeadlessOptions, w io.Writer) ([]Result, error) {
	return runHeadless(ctx, cam, s.Machine, o, w, s.applyPending)
}

// runHeadless is RunHeadless with beforeStep, when not nil, called before
// each frame is stepped.
func runHeadless(ctx context.Context, cam Camera, k *Machine, o HeadlessOptions, w io.Writer, beforeStep func() error) ([]Result, error) {
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
		if beforeStep != nil {
			if err := beforeStep(); err != nil {
				if werr := write([]Event{{Kind: EventError, At: time.Now(), State: k.State(), Err: "settings: " + err.Error(), Code: ErrorCode(err)}}, frame); werr != nil {
					return results, werr
				}
			}
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

// promptText is the kiosk screen's English sentence for p (the shared
// catalogue, package i18n), or p itself when it has none.
func promptText(p Prompt) string {
	if en := i18n.MustNew(i18n.Default); en.Has("prompt." + string(p)) {
		return en.T("prompt." + string(p))
	}
	return string(p)
}

// HeadlessOut is the headless kiosk's stdout: the runner's lines and the
// sync worker's status lines, each written whole (the two write from
// different goroutines).
type HeadlessOut struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder
}

// NewHeadlessOut writes to w.
func NewHeadlessOut(w io.Writer) *HeadlessOut {
	o := &HeadlessOut{w: w}
	o.enc = json.NewEncoder(w)
	return o
}

// Write writes b in one call to the underlying writer.
func (o *HeadlessOut) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(b)
}

// SyncLine writes a sync status event as a JSON line (Line has no sync
// field); other events are ignored. Use it as StationConfig.OnEvent.
func (o *HeadlessOut) SyncLine(e Event) {
	if e.Kind != EventSync {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(struct {
		Event EventKind   `json:"event"`
		At    time.Time   `json:"at"`
		Sync  *SyncStatus `json:"sync"`
	}{e.Kind, e.At, e.Sync})
}
