package server

import (
	"encoding/json"
	"strings"

	"github.com/facecheck/facecheck/i18n"
)

// The calibration panel's words: its notes and its history of threshold
// changes are computed once per event but read in each admin's language,
// so the report keeps catalogue keys and arguments (calText) and the
// audit log keeps each threshold change as data (thresholdsDetail); the
// handler words both for the request (Calibration.in).

// english words what is computed before anyone reads it (logs, the
// report's defaults).
var english = i18n.MustNew(i18n.Default)

// calText is a catalogue message waiting for its reader's language.
type calText struct {
	key  string
	args []any
}

func (c calText) in(p *i18n.Printer) string {
	if c.key == "" {
		return ""
	}
	return p.T(c.key, c.args...)
}

// in returns a copy of c worded for p: the notes and the history. c
// itself is the calibrator's cached report and stays untouched.
func (c *Calibration) in(p *i18n.Printer) *Calibration {
	out := *c
	out.Note = c.note.in(p)
	out.FRR.Note = c.FRR.note.in(p)
	out.History = make([]AuditItem, len(c.History))
	for i, it := range c.History {
		it.word(p)
		out.History[i] = it
	}
	return &out
}

// thresholdsDetail is the audit detail of a threshold change, stored as
// JSON so that the event page can word it in its reader's language.
// Before values are set for a recalibration; Implied for a pin when the
// gallery lets it be estimated.
type thresholdsDetail struct {
	Accept        *float64 `json:"accept,omitempty"`
	Confirm       *float64 `json:"confirm,omitempty"`
	AcceptBefore  *float64 `json:"accept_before,omitempty"`
	ConfirmBefore *float64 `json:"confirm_before,omitempty"`
	Target        float64  `json:"target,omitempty"`
	TargetBefore  float64  `json:"target_before,omitempty"`
	Attendees     *int     `json:"attendees,omitempty"`
	Implied       *float64 `json:"implied_fpir,omitempty"`
	Defaults      bool     `json:"defaults,omitempty"`
}

// String is the detail as the audit log stores it.
func (d thresholdsDetail) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		return "" // plain floats and ints always marshal
	}
	return string(b)
}

// historyActions are the audit actions the history shows, with the
// catalogue key of their label.
var historyActions = map[string]string{
	"thresholds.calibrate": "web.calib.action_calibrate",
	"thresholds.target":    "web.calib.action_target",
	"thresholds.pin":       "web.calib.action_pin",
	"thresholds.unpin":     "web.calib.action_unpin",
	"event.settings":       "web.calib.action_settings",
}

// word sets the item's When, Who and Text in p's language. A detail
// that is not a thresholdsDetail (written before they were, or by the
// settings API) shows the action's label, then the detail as stored for
// threshold actions.
func (it *AuditItem) word(p *i18n.Printer) {
	it.When = p.DateTime(it.At.Local())
	it.Who = it.Actor
	if it.Actor == "calibration" {
		it.Who = p.T("web.calib.actor_auto")
	}
	label := it.Action
	if k, ok := historyActions[it.Action]; ok {
		label = p.T(k)
	}
	var d thresholdsDetail
	if !strings.HasPrefix(it.Detail, "{") || json.Unmarshal([]byte(it.Detail), &d) != nil || d.Accept == nil && d.Target == 0 {
		it.Text = label
		if it.Detail != "" && it.Action != "event.settings" {
			it.Text += ": " + it.Detail
		}
		return
	}
	it.Text = d.text(p, it.Action, label)
}

// text words a threshold change.
func (d thresholdsDetail) text(p *i18n.Printer, action, label string) string {
	f := func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	}
	switch {
	case action == "thresholds.calibrate" && d.AcceptBefore != nil && d.Attendees != nil:
		key := "web.calib.hist_calibrate"
		if d.Defaults {
			key = "web.calib.hist_defaults"
		}
		return p.T(key, *d.Attendees, f(d.AcceptBefore), f(d.Accept), f(d.ConfirmBefore), f(d.Confirm), rateIn(p, d.Target))
	case action == "thresholds.target":
		return p.T("web.calib.hist_target", rateIn(p, d.TargetBefore), rateIn(p, d.Target))
	case action == "thresholds.pin" && d.Implied != nil:
		return p.T("web.calib.hist_pin_implied", f(d.Accept), f(d.Confirm), rateIn(p, *d.Implied))
	case action == "thresholds.pin":
		return p.T("web.calib.hist_pin", f(d.Accept), f(d.Confirm))
	case action == "thresholds.unpin":
		return p.T("web.calib.hist_unpin", f(d.Accept), f(d.Confirm))
	}
	return label
}

// rateIn words a false-accept rate: "1 in 10,000", else a percentage.
func rateIn(p *i18n.Printer, r float64) string {
	if n := oneIn(r); n > 0 {
		return p.T("web.calib.one_in", n)
	}
	return p.T("web.calib.percent", max(r, 0)*100)
}
