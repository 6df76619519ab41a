package server

import (
	"context"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/server/store"
)

// Per-event calibration (DESIGN.md, "Thresholds are therefore never
// constants"): the impostor score distribution is estimated from
// cross-attendee pairs of the event's own gallery, its upper tail fitted
// (package calibrate), and the accept / confirm thresholds derived for the
// admin's target false-accept rate per check-in and the gallery size. The
// server recomputes when the gallery changes: every change advances the
// event's gallery cursor, so an event is dirty when its cursor differs from
// the one its calibration saw. Recomputation is debounced to at most once
// per Config.CalibrateEvery per event; it runs lazily when a kiosk asks for
// GET /v1/settings (or identifies) or the dashboard asks for the
// calibration, and in a background loop while the server is open.

const (
	// DefaultTargetFPIR is an event's target false-accept rate per
	// check-in until the admin picks another: 1 in 1,000.
	DefaultTargetFPIR = 1e-3
	// MinCalibrationAttendees is the smallest gallery calibrated; smaller
	// ones keep store.DefaultThresholds (conservative placeholders). 15
	// attendees give 105 pairs, the least the eval calls measurable
	// (measure.MinCalibrationPairs); smaller galleries gave thresholds far
	// too low (docs/accuracy.md, "Self-calibrated thresholds", small events).
	MinCalibrationAttendees = 15
	// SmallGalleryAttendees is the gallery size below which the panel says
	// the calibration errs strict: the 50 scores the tail is fitted on are
	// then more than a tenth of the pairs (docs/accuracy.md, small events).
	SmallGalleryAttendees = 30
	// histBin is the width of the dashboard's histogram bins (cosine).
	histBin = 0.02
)

// TargetChoices are the target rates the dashboard offers.
var TargetChoices = []float64{1e-3, 1e-4, 1e-5}

// Calibration statuses.
const (
	CalibrationCalibrated = "calibrated" // thresholds derived from the gallery
	CalibrationPinned     = "pinned"     // thresholds set by an admin
	CalibrationTooFew     = "too_few"    // gallery too small: default thresholds
)

// Calibration is GET /admin/events/{id}/calibration: what the dashboard's
// calibration panel draws. Rates that cannot be estimated are null.
type Calibration struct {
	EventID string `json:"event_id"`
	Status  string `json:"status"`
	// Note is in the language of the request (English when computed).
	Note string `json:"note,omitempty"`
	note calText
	// Thresholds are the ones in force (sent to kiosks).
	Thresholds api.Thresholds `json:"thresholds"`
	// CalibratedAccept/Confirm are what calibration gives for the target,
	// also while pinned (null when the gallery is too small).
	CalibratedAccept  *float64 `json:"calibrated_accept"`
	CalibratedConfirm *float64 `json:"calibrated_confirm"`
	TargetFPIR        float64  `json:"target_fpir"`
	// ImpliedFPIR is the false-accept rate per check-in the accept
	// threshold in force implies for this gallery (calibrate.RateAt);
	// ImpliedConfirmFPIR the rate at which an impostor reaches "Are you
	// NAME?".
	ImpliedFPIR        *float64 `json:"implied_fpir"`
	ImpliedConfirmFPIR *float64 `json:"implied_confirm_fpir"`
	// GallerySize is the number of attendees with a template; Attendees
	// those whose templates entered the impostor pairs (the largest group
	// of one model and version).
	GallerySize int                 `json:"gallery_size"`
	Attendees   int                 `json:"attendees"`
	Pairs       int                 `json:"pairs"`
	Sampled     bool                `json:"sampled"`
	Tail        *calibrate.Tail     `json:"tail,omitempty"`
	Histogram   calibrate.Histogram `json:"histogram"`
	FRR         FRREstimate         `json:"frr"`
	// GalleryCursor is the gallery state this was computed from; Stale
	// says the gallery has changed since and a recomputation is due
	// (debounced).
	GalleryCursor int64     `json:"gallery_cursor"`
	Stale         bool      `json:"stale"`
	ComputedAt    time.Time `json:"computed_at"`
	Targets       []float64 `json:"targets"`
	// History is the event's latest threshold changes from the audit log.
	History []AuditItem `json:"history"`
}

// FRREstimate is the false-reject estimate. Without labels it exists only
// for attendees with two or more templates (pairs of the same person).
type FRREstimate struct {
	Estimable bool     `json:"estimable"`
	Attendees int      `json:"attendees"`
	Pairs     int      `json:"pairs"`
	AtAccept  *float64 `json:"at_accept"`
	AtConfirm *float64 `json:"at_confirm"`
	Note      string   `json:"note"`
	note      calText
}

// AuditItem is one audit log line. When, Who and Text are the line as
// the event page shows it, in the language of the request.
type AuditItem struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
	When   string    `json:"when"`
	Who    string    `json:"who"`
	Text   string    `json:"text"`
}

// calibrator holds each event's latest calibration.
type calibrator struct {
	mu sync.Mutex
	m  map[string]*calState
}

type calState struct {
	// mu serialises recomputation and the admin's changes for one event.
	mu     sync.Mutex
	report *Calibration // nil before the first computation
	tail   calibrate.Tail
	at     time.Time
}

func newCalibrator() *calibrator { return &calibrator{m: map[string]*calState{}} }

func (c *calibrator) state(id string) *calState {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[id]
	if !ok {
		st = &calState{}
		c.m[id] = st
	}
	return st
}

// calibrated returns ev with its thresholds brought up to date with its
// gallery (see the comment at the top). A failure is logged and leaves the
// stored thresholds in force.
func (s *Server) calibrated(ctx context.Context, ev *store.Event) *store.Event {
	e, _, err := s.calibration(ctx, ev, false)
	if err != nil {
		s.logger.Error("calibration", "event", ev.ID, "err", err)
		return ev
	}
	return e
}

// calibration returns the event (re-read when its thresholds changed) and
// its calibration, recomputing when the gallery changed and the debounce
// interval has passed, or when force is set.
func (s *Server) calibration(ctx context.Context, ev *store.Event, force bool) (*store.Event, *Calibration, error) {
	st := s.calib.state(ev.ID)
	st.mu.Lock()
	defer st.mu.Unlock()
	return s.calibrationLocked(ctx, st, ev, force)
}

func (s *Server) calibrationLocked(ctx context.Context, st *calState, ev *store.Event, force bool) (*store.Event, *Calibration, error) {
	cur, err := s.store.GalleryCursor(ctx, ev.ID)
	if err != nil {
		return ev, nil, err
	}
	if st.report != nil && !force {
		// The stored thresholds may have changed (a pin) since the report.
		fresh := st.report.GalleryCursor == cur
		if fresh || s.now().Sub(st.at) < s.cfg.CalibrateEvery {
			rep := *st.report
			rep.Stale = !fresh
			if ev.Thresholds != rep.Thresholds {
				// Read from another server process or an admin's PUT: report
				// on what is in force.
				rep.Thresholds = ev.Thresholds
				fillRates(&rep, st.tail)
			}
			return ev, &rep, nil
		}
	}
	return s.recalibrate(ctx, st, ev, cur)
}

// galleryTemplates is a snapshot of the gallery for calibration.
type galleryTemplates struct {
	size   int                    // attendees with at least one template
	people [][]facecheck.Template // templates of the main model of each attendee whose first is of it
	multi  [][]facecheck.Template // those of people with two or more (genuine pairs)
}

func (s *Server) galleryTemplates(ctx context.Context, ev *store.Event) (galleryTemplates, error) {
	var gt galleryTemplates
	g, err := s.galleries.get(ctx, s.store, ev)
	if err != nil {
		return gt, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, 0, len(g.people))
	groups := map[string]int{}
	for id, p := range g.people {
		if len(p.vectors) == 0 {
			continue
		}
		ids = append(ids, id)
		groups[modelKey(&p.vectors[0])]++
	}
	gt.size = len(ids)
	main, best := "", 0
	for k, n := range groups {
		if n > best || n == best && k < main {
			main, best = k, n
		}
	}
	slices.Sort(ids) // reproducible pair sampling
	for _, id := range ids {
		p := g.people[id]
		if modelKey(&p.vectors[0]) != main {
			continue
		}
		var same []facecheck.Template
		for i := range p.vectors {
			if modelKey(&p.vectors[i]) == main {
				same = append(same, p.vectors[i])
			}
		}
		gt.people = append(gt.people, same)
		if len(same) >= 2 {
			gt.multi = append(gt.multi, same)
		}
	}
	return gt, nil
}

func modelKey(v *facecheck.Template) string { return v.Model + "\x00" + strconv.Itoa(v.Version) }

// eventSeed makes an event's pair sample reproducible.
func eventSeed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// targetOf is the event's target rate, or the default when unset.
func targetOf(th api.Thresholds) float64 {
	if th.TargetFPIR > 0 && th.TargetFPIR < 1 {
		return th.TargetFPIR
	}
	return DefaultTargetFPIR
}

// recalibrate recomputes the event's calibration from its gallery at
// cursor cur and stores the thresholds unless they are pinned.
func (s *Server) recalibrate(ctx context.Context, st *calState, ev *store.Event, cur int64) (*store.Event, *Calibration, error) {
	gt, err := s.galleryTemplates(ctx, ev)
	if err != nil {
		return ev, nil, err
	}
	// An attendee's capture template is an extra chance for an impostor:
	// the pair scores take the best of each attendee's templates.
	scores := calibrate.Impostors(gt.people, s.cfg.CalibrationMaxPairs, eventSeed(ev.ID))
	tail := calibrate.Fit(scores)
	target := targetOf(ev.Thresholds)
	n := len(gt.people)
	rep := &Calibration{
		EventID: ev.ID, TargetFPIR: target, GallerySize: gt.size, Attendees: n, Pairs: len(scores),
		Sampled:       s.cfg.CalibrationMaxPairs > 0 && n*(n-1)/2 > s.cfg.CalibrationMaxPairs,
		GalleryCursor: cur, ComputedAt: s.now().UTC(), Targets: TargetChoices,
	}
	if tail.N > 0 {
		t := tail
		rep.Tail = &t
	}
	accept, confirm := math.NaN(), math.NaN()
	if n >= MinCalibrationAttendees {
		accept, confirm = calibrate.Thresholds(tail, target, gt.size)
	}
	ok := !math.IsNaN(accept) && !math.IsNaN(confirm)
	if ok {
		accept, confirm = clampCos(accept), clampCos(confirm)
		rep.CalibratedAccept, rep.CalibratedConfirm = &accept, &confirm
	}
	now := s.now().UTC().Truncate(time.Second)
	var before api.Thresholds
	ev, changed, err := s.store.UpdateThresholds(ctx, ev.ID, func(th api.Thresholds) (api.Thresholds, bool) {
		before = th
		if th.Pinned {
			return th, false
		}
		nt := th
		nt.TargetFPIR, nt.GallerySize, nt.Pinned = target, gt.size, false
		if ok {
			nt.Accept, nt.Confirm, nt.CalibratedAt = float32(accept), float32(confirm), now
		} else {
			d := store.DefaultThresholds
			nt.Accept, nt.Confirm, nt.CalibratedAt = d.Accept, d.Confirm, time.Time{}
		}
		if nt.Margin == 0 && !th.Pinned {
			nt.Margin = store.DefaultThresholds.Margin
		}
		same := nt.Accept == th.Accept && nt.Confirm == th.Confirm && nt.Margin == th.Margin &&
			nt.TargetFPIR == th.TargetFPIR && nt.GallerySize == th.GallerySize && nt.CalibratedAt.IsZero() == th.CalibratedAt.IsZero()
		return nt, !same
	})
	if err != nil {
		return ev, nil, err
	}
	th := ev.Thresholds
	switch {
	case th.Pinned:
		rep.Status = CalibrationPinned
		rep.note = calText{key: "web.calib.note_pinned"}
	case !ok:
		rep.Status = CalibrationTooFew
		rep.note = calText{key: "web.calib.note_too_few", args: []any{n, MinCalibrationAttendees}}
	default:
		rep.Status = CalibrationCalibrated
		if n < SmallGalleryAttendees {
			rep.note = calText{key: "web.calib.note_small", args: []any{n, SmallGalleryAttendees}}
		}
	}
	rep.Note = rep.note.in(english)
	if changed {
		b, a := float64(before.Accept), float64(th.Accept)
		bc, ac := float64(before.Confirm), float64(th.Confirm)
		detail := thresholdsDetail{Accept: &a, Confirm: &ac, AcceptBefore: &b, ConfirmBefore: &bc,
			Attendees: &gt.size, Target: target, Defaults: !ok}.String()
		s.logger.Info("thresholds recalibrated", "event", ev.ID, "detail", detail)
		if err := s.store.AddAudit(ctx, store.AuditEntry{Actor: "calibration", Action: "thresholds.calibrate",
			Target: ev.ID, Detail: detail}); err != nil {
			s.logger.Error("audit", "action", "thresholds.calibrate", "err", err)
		}
	} else if !ok && st.report == nil {
		s.logger.Info("calibration: too few attendees, default thresholds", "event", ev.ID, "attendees", n)
	}
	rep.Thresholds = th
	genuine := calibrate.Genuine(gt.multi)
	rep.Histogram = calibrate.NewHistogram(tail.Scores(), genuine, histBin, float64(th.Accept), float64(th.Confirm))
	rep.FRR = frrEstimate(genuine, len(gt.multi), th)
	fillRates(rep, tail)
	rep.History = s.thresholdHistory(ctx, ev.ID)
	st.report, st.tail, st.at = rep, tail, s.now()
	return ev, rep, nil
}

func clampCos(x float64) float64 { return math.Max(-1, math.Min(1, x)) }

// fillRates sets the rates the thresholds in force imply.
func fillRates(rep *Calibration, tail calibrate.Tail) {
	rep.ImpliedFPIR, rep.ImpliedConfirmFPIR = nil, nil
	if tail.N == 0 || rep.Attendees < 2 {
		return
	}
	n := rep.GallerySize
	if r := calibrate.RateAt(tail, float64(rep.Thresholds.Accept), n); !math.IsNaN(r) {
		rep.ImpliedFPIR = &r
	}
	if r := calibrate.RateAt(tail, float64(rep.Thresholds.Confirm), n); !math.IsNaN(r) {
		rep.ImpliedConfirmFPIR = &r
	}
}

// frrEstimate is the false-reject estimate from the genuine scores of
// attendees with two or more templates.
func frrEstimate(genuine []float64, attendees int, th api.Thresholds) FRREstimate {
	if len(genuine) == 0 {
		note := calText{key: "web.calib.frr_none"}
		return FRREstimate{Note: note.in(english), note: note}
	}
	below := func(t float32) *float64 {
		r := calibrate.ShareBelow(genuine, float64(t))
		return &r
	}
	note := calText{key: "web.calib.frr_from", args: []any{len(genuine), attendees}}
	return FRREstimate{Estimable: true, Attendees: attendees, Pairs: len(genuine),
		AtAccept: below(th.Accept), AtConfirm: below(th.Confirm), Note: note.in(english), note: note}
}

// thresholdHistory is the event's latest threshold changes.
func (s *Server) thresholdHistory(ctx context.Context, eventID string) []AuditItem {
	es, err := s.store.ListAudit(ctx, 500)
	if err != nil {
		s.logger.Error("calibration history", "err", err)
		return nil
	}
	out := []AuditItem{}
	for _, e := range es {
		if e.Target == eventID && (strings.HasPrefix(e.Action, "thresholds.") || e.Action == "event.settings") {
			it := AuditItem{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail}
			it.word(english)
			out = append(out, it)
			if len(out) == 10 {
				break
			}
		}
	}
	return out
}

// rateText writes a rate as "1 in 1,000".
func rateText(r float64) string {
	if !(r > 0) {
		return "0"
	}
	n := math.Round(1 / r)
	s := strconv.FormatFloat(n, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return "1 in " + b.String()
}

// calibrationLoop recomputes dirty events in the background while the
// server is open, at most once per CalibrateEvery each.
func (s *Server) calibrationLoop() {
	defer s.bg.Done()
	every := max(s.cfg.CalibrateEvery, time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		es, err := s.store.ListEvents(ctx)
		if err != nil {
			s.logger.Error("calibration loop", "err", err)
		}
		for _, ev := range es {
			select {
			case <-s.done:
				cancel()
				return
			default:
			}
			if _, _, err := s.calibration(ctx, ev, false); err != nil {
				s.logger.Error("calibration", "event", ev.ID, "err", err)
			}
		}
		cancel()
	}
}
