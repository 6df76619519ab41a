package api

// IdentifyRequest is POST /v1/identify for thin clients: features in.
type IdentifyRequest struct {
	Template SealedTemplate `json:"template"`
}

// IdentifyResponse is the best candidate out.
type IdentifyResponse struct {
	Found      bool    `json:"found"`
	AttendeeID string  `json:"attendee_id,omitempty"`
	Name       string  `json:"name,omitempty"`
	Score      float32 `json:"score"`
	Margin     float32 `json:"margin"`
	Decision   string  `json:"decision"` // accept, confirm, verify, reject
}

// ProbeID is the attendee id a probe template is bound to when sealed for
// POST /v1/identify: SealTemplate(key, ProbeID, t).
const ProbeID = "probe"

// Decisions of IdentifyResponse (facecheck.Thresholds.Decide makes them).
const (
	DecisionAccept  = "accept"
	DecisionConfirm = "confirm"
	DecisionVerify  = "verify"
	DecisionReject  = "reject"
)
