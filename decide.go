package facecheck

import "github.com/facecheck/facecheck/api"

// Thresholds are an event's decision thresholds, in cosine similarity
// (api.Thresholds on the wire, kiosk.Config on a kiosk).
type Thresholds struct {
	// Accept checks in outright; Confirm asks "Are you NAME?".
	Accept, Confirm float32
	// Margin is the least lead over the second-best identity that tells
	// the two apart.
	Margin float32
}

// Decision is what a match leads to; its values are the api.Decision*
// strings of the identify API.
type Decision string

// Decisions.
const (
	Accept  Decision = api.DecisionAccept  // check in
	Confirm Decision = api.DecisionConfirm // ask "Are you NAME?"
	Verify  Decision = api.DecisionVerify  // ask for the QR code or short code
	Reject  Decision = api.DecisionReject  // not recognised
)

// Risk is why a match needs proof (second verification).
type Risk string

// Risks. RiskLowMargin is the rule's own; the others are found by the
// caller (a kiosk) and passed to Decide.
const (
	RiskNone      Risk = ""
	RiskLowMargin Risk = "low_margin" // the second-best identity is close
	RiskLiveness  Risk = "liveness"   // texture liveness below the kiosk's minimum
	RiskRepeat    Risk = "repeat"     // already checked in today, and the event wants that proved
)

// Decide maps a match (the best identity's score and its margin over the
// second best) onto th, as the package doc explains. risk is what the
// caller found (RiskLiveness, RiskRepeat or RiskNone); canVerify says
// whether the asker can check a registration code. It returns the decision
// and the risk behind it: the one that led to Verify, or that held back an
// Accept to a Confirm, or that rode along with an Accept (a repeat not to
// be proved). A low margin outranks the caller's risk. NaN scores reject.
func (th Thresholds) Decide(score, margin float32, risk Risk, canVerify bool) (Decision, Risk) {
	if !(score >= th.Confirm) {
		return Reject, RiskNone
	}
	if margin < th.Margin {
		risk = RiskLowMargin
	}
	switch {
	case risk != RiskNone && canVerify:
		return Verify, risk
	case score >= th.Accept && margin >= th.Margin && risk != RiskLiveness:
		return Accept, risk
	default:
		return Confirm, risk
	}
}
