package server

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/calibrate"
	"github.com/facecheck/facecheck/server/store"
)

// targetOption is one entry of the dashboard's target selector.
type targetOption struct {
	Value    string
	Label    string
	Selected bool
	// OneIn is N of "1 in N check-ins", for the page's own language; 0
	// when the rate is not of that form (then Label).
	OneIn int
}

// oneIn is N when r reads "1 in N" (rateText), else 0.
func oneIn(r float64) int {
	if r <= 0 || r >= 0.5 {
		return 0
	}
	return int(math.Round(1 / r))
}

func targetOptions(th api.Thresholds) []targetOption {
	cur := targetOf(th)
	out := make([]targetOption, 0, len(TargetChoices)+1)
	found := false
	for _, r := range TargetChoices {
		sel := math.Abs(r-cur) <= 1e-12
		found = found || sel
		out = append(out, targetOption{Value: strconv.FormatFloat(r, 'g', -1, 64), Label: rateText(r) + " check-ins", Selected: sel, OneIn: oneIn(r)})
	}
	if !found {
		out = append(out, targetOption{Value: strconv.FormatFloat(cur, 'g', -1, 64), Label: rateText(cur) + " check-ins", Selected: true, OneIn: oneIn(cur)})
	}
	slices.SortFunc(out, func(a, b targetOption) int {
		x, _ := strconv.ParseFloat(a.Value, 64)
		y, _ := strconv.ParseFloat(b.Value, 64)
		return cmp.Compare(y, x)
	})
	return out
}

// handleCalibration is GET /admin/events/{id}/calibration (JSON).
func (s *Server) handleCalibration(w http.ResponseWriter, r *http.Request) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, notFoundError(err, "event"))
		return
	}
	_, rep, err := s.calibration(r.Context(), ev, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept-Language, Cookie")
	// In the language the event page is in: the switcher's cookie, else
	// the browser's.
	s.writeJSON(w, r, http.StatusOK, rep.in(s.printer(w, r)))
}

// calibrationChange runs change on the event's thresholds under the
// event's calibration lock, audits it and recalibrates.
func (s *Server) calibrationChange(w http.ResponseWriter, r *http.Request, action string,
	change func(th api.Thresholds, tail calibrate.Tail) (api.Thresholds, string, error)) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	st := s.calib.state(ev.ID)
	st.mu.Lock()
	defer st.mu.Unlock()
	// Bring the tail up to date for the implied rate of a pin.
	ev, _, err = s.calibrationLocked(r.Context(), st, ev, true)
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	var detail string
	var cerr error
	ev, _, err = s.store.UpdateThresholds(r.Context(), ev.ID, func(th api.Thresholds) (api.Thresholds, bool) {
		nt, d, err := change(th, st.tail)
		if err != nil {
			cerr = err
			return th, false
		}
		detail = d
		return nt, true
	})
	if cerr != nil {
		s.renderErr(w, r, cerr)
		return
	}
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	// Audited before recalibrating, so the report's history shows it.
	s.audit(r, sessionFrom(r.Context()).Username, action, ev.ID, detail)
	if _, _, err := s.calibrationLocked(r.Context(), st, ev, true); err != nil {
		s.renderErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/events/"+ev.ID+"#calibration", http.StatusSeeOther)
}

// handleCalibrationTarget sets the event's target false-accept rate.
func (s *Server) handleCalibrationTarget(w http.ResponseWriter, r *http.Request) {
	s.calibrationChange(w, r, "thresholds.target", func(th api.Thresholds, _ calibrate.Tail) (api.Thresholds, string, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("target_fpir")), 64)
		if err != nil || !(v >= 1e-7 && v <= 0.1) {
			return th, "", errorf(http.StatusUnprocessableEntity, "invalid_target", "The target must be a rate between 1 in 10,000,000 and 1 in 10.")
		}
		d := thresholdsDetail{TargetBefore: targetOf(th), Target: v}
		th.TargetFPIR = v
		return th, d.String(), nil
	})
}

// handleCalibrationPin pins a raw accept threshold (and confirm: blank
// means the score an impostor reaches ConfirmFactor times as often).
func (s *Server) handleCalibrationPin(w http.ResponseWriter, r *http.Request) {
	s.calibrationChange(w, r, "thresholds.pin", func(th api.Thresholds, tail calibrate.Tail) (api.Thresholds, string, error) {
		bad := errorf(http.StatusUnprocessableEntity, "invalid_thresholds", "Accept and confirm must be cosines between -1 and 1, confirm not above accept.")
		accept, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("accept")), 64)
		if err != nil || math.IsNaN(accept) || accept < -1 || accept > 1 {
			return th, "", bad
		}
		confirm := accept - 0.1
		if c := strings.TrimSpace(r.PostFormValue("confirm")); c != "" {
			if confirm, err = strconv.ParseFloat(c, 64); err != nil || math.IsNaN(confirm) {
				return th, "", bad
			}
		} else if tail.N > 0 {
			if p := tail.Survival(accept); p > 0 {
				confirm = tail.Quantile(math.Min(1, calibrate.ConfirmFactor*p))
			}
		}
		confirm = math.Min(clampCos(confirm), accept)
		if confirm < -1 {
			return th, "", bad
		}
		th.Accept, th.Confirm, th.Pinned = float32(accept), float32(confirm), true
		if th.Margin == 0 {
			th.Margin = store.DefaultThresholds.Margin
		}
		d := thresholdsDetail{Accept: &accept, Confirm: &confirm}
		if tail.N > 0 {
			if r := calibrate.RateAt(tail, accept, th.GallerySize); !math.IsNaN(r) {
				d.Implied = &r
			}
		}
		return th, d.String(), validateThresholds(th)
	})
}

// handleCalibrationUnpin returns the event to calibrated thresholds.
func (s *Server) handleCalibrationUnpin(w http.ResponseWriter, r *http.Request) {
	s.calibrationChange(w, r, "thresholds.unpin", func(th api.Thresholds, _ calibrate.Tail) (api.Thresholds, string, error) {
		a, c := float64(th.Accept), float64(th.Confirm)
		th.Pinned = false
		return th, thresholdsDetail{Accept: &a, Confirm: &c}.String(), nil
	})
}
