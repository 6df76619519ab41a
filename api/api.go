// Package api holds the wire types spoken between kiosks and the server
// (/v1/...) and the template codec both sides use: a template travels as 512
// unsigned bytes, gzip-compressed and sealed with AES-256-GCM under the key a
// kiosk receives at pairing, so a proxy or a copied cache reveals nothing.
// It imports nothing of the project.
package api

import "time"

// Version is the API path prefix.
const Version = "/v1"

// Header names.
const (
	// HeaderIdempotencyKey repeats a request's client-generated id so a replay is
	// recognised even when the body is re-encoded.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderKeyVersion is on the server's answers to GET /v1/gallery and
	// GET /v1/settings: the version of the event key (EventKey.KeyVersion).
	// A kiosk that holds another version fetches GET /v1/key, then the
	// whole gallery again, sealed under the new key.
	HeaderKeyVersion = "Facecheck-Key-Version"
)

// Template is an 8-bit template on the wire, before sealing.
type Template struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Data is Dim unsigned bytes (int8 value + 128).
	Data []byte `json:"data"`
}

// SealedTemplate is Template after SealTemplate: opaque without the event key.
type SealedTemplate struct {
	Model   string `json:"model"`
	Version int    `json:"version"`
	// Sealed is nonce || AES-256-GCM(gzip(Data)), bound to the attendee id.
	Sealed []byte `json:"sealed"`
}

// PairRequest exchanges a one-time pairing code for a device token.
type PairRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
	AppVersion string `json:"app_version,omitempty"`
}

// PairResponse is what a kiosk keeps after pairing. Token authenticates every
// later call (Authorization: Bearer); TemplateKey opens sealed templates.
type PairResponse struct {
	KioskID     string `json:"kiosk_id"`
	Token       string `json:"token"`
	EventID     string `json:"event_id"`
	EventName   string `json:"event_name"`
	TemplateKey []byte `json:"template_key"`
	// KeyVersion is TemplateKey's version (EventKey.KeyVersion); 0 from
	// a server before key rotation.
	KeyVersion int `json:"key_version,omitempty"`
}

// EventKey is GET /v1/key: the event's current template key. The server
// rotates it when an admin revokes a kiosk (every template and short-code
// hash is sealed again under the new key, KeyVersion counts up), so the
// revoked kiosk's copy opens nothing sent after that; the other kiosks
// learn of it from HeaderKeyVersion on their next sync.
type EventKey struct {
	EventID     string `json:"event_id"`
	KeyVersion  int    `json:"key_version"`
	TemplateKey []byte `json:"template_key"`
}

// Gallery delta operations.
const (
	OpUpsert = "upsert"
	OpDelete = "delete"
)

// GalleryRecord is one line of the gallery delta feed
// (GET /v1/gallery?since=CURSOR, application/x-ndjson). A delete is a
// tombstone: the kiosk drops the attendee and every template of theirs.
type GalleryRecord struct {
	Op         string           `json:"op"`
	Cursor     int64            `json:"cursor"`
	AttendeeID string           `json:"attendee_id"`
	Name       string           `json:"name,omitempty"`
	Info       string           `json:"info,omitempty"` // badge / seat line shown on welcome
	CodeHash   string           `json:"code_hash,omitempty"`
	Templates  []SealedTemplate `json:"templates,omitempty"`
	// CaptureConsent is true when the attendee let the event keep the
	// capture of a confirmed check-in as an extra template
	// (EnrolRequest.CaptureConsent, the registration page). Kiosks send
	// CheckIn.Capture only for attendees whose latest record carries it, so
	// the features of everyone else never leave the kiosk. Always false in a
	// tombstone.
	CaptureConsent bool `json:"capture_consent,omitempty"`
}

// GalleryEnd is the last line of a complete delta feed; a feed without it was
// cut and must not advance the kiosk's cursor. Count is the number of
// records before it: a feed whose count does not match is not applied.
type GalleryEnd struct {
	End    bool  `json:"end"`
	Cursor int64 `json:"cursor"`
	Count  int   `json:"count"`
	// Snapshot announces that the feed is the event's whole gallery, not a
	// delta: the kiosk drops every attendee missing from it. The server
	// sends one for since=0 and when the kiosk's cursor is beyond its own
	// (the server's database was reset or restored). A feed whose end
	// cursor went back without it (a server before this field, or one that
	// lies) is applied as a snapshot only if it deletes a small share of
	// the kiosk's gallery.
	Snapshot bool `json:"snapshot,omitempty"`
}

// Check-in methods.
const (
	MethodFace    = "face"
	MethodConfirm = "confirm" // face + "Are you NAME?" answered yes
	MethodQR      = "qr"
	MethodCode    = "code"
	MethodManual  = "manual"
)

// CheckIn is one check-in as recorded by a kiosk. ID is a client-generated
// UUID and the idempotency key: the server counts each ID once.
type CheckIn struct {
	ID         string    `json:"id"`
	AttendeeID string    `json:"attendee_id"`
	Method     string    `json:"method"`
	Score      float32   `json:"score"`
	Margin     float32   `json:"margin"`
	At         time.Time `json:"at"`
	// Capture is the face the kiosk matched, as a template sealed for
	// AttendeeID (features, never the image), sent with face check-ins
	// (method face, or qr/code verifying a face match) when the event's
	// process.capture_templates setting is on and the attendee's gallery
	// record carries GalleryRecord.CaptureConsent. The server keeps it as
	// the attendee's capture template, replacing an older one, only if the
	// attendee consented (EnrolRequest.CaptureConsent, the registration
	// page); otherwise it is dropped (a kiosk built before the feed carried
	// the consent may still send one).
	Capture *SealedTemplate `json:"capture,omitempty"`
}

// CheckInBatch is the body of POST /v1/checkins.
type CheckInBatch struct {
	CheckIns []CheckIn `json:"checkins"`
}

// Check-in result statuses.
const (
	StatusAccepted  = "accepted"
	StatusDuplicate = "duplicate" // this ID was already received; nothing changed
	// StatusRejected answers a CheckIn the server will never accept (an
	// attendee of another event, unknown or deleted): the kiosk drops it
	// from its outbox instead of retrying.
	StatusRejected = "rejected"
)

// CheckInResult answers one CheckIn of a batch.
type CheckInResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Repeat is true when the attendee had already checked in (another ID,
	// possibly from another kiosk); both check-ins are kept.
	Repeat bool `json:"repeat"`
	// Captured is true when the check-in's Capture was kept as a template.
	Captured bool `json:"captured,omitempty"`
}

// CheckInBatchResult is the response of POST /v1/checkins.
type CheckInBatchResult struct {
	Results []CheckInResult `json:"results"`
}

// EnrolRequest is POST /v1/enrol: a walk-up registration made at a kiosk.
// ID is client-generated so a queued enrolment replayed after an outage is
// stored once.
type EnrolRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Consent bool   `json:"consent"`
	// CaptureConsent lets the event keep the capture of a confirmed
	// check-in as a second template (CheckIn.Capture); optional.
	CaptureConsent bool           `json:"capture_consent,omitempty"`
	Template       SealedTemplate `json:"template"`
}

// EnrolResponse answers an EnrolRequest.
type EnrolResponse struct {
	AttendeeID string `json:"attendee_id"`
	ShortCode  string `json:"short_code"`
}

// Thresholds are an event's calibrated decision thresholds (cosine similarity).
type Thresholds struct {
	Accept  float32 `json:"accept"`
	Confirm float32 `json:"confirm"`
	Margin  float32 `json:"margin"`
	// TargetFPIR is the false-accept rate per check-in they were derived for.
	TargetFPIR   float64   `json:"target_fpir"`
	GallerySize  int       `json:"gallery_size"`
	Pinned       bool      `json:"pinned"` // set by an admin, not calibrated
	CalibratedAt time.Time `json:"calibrated_at"`
}

// EventSettings is GET /v1/settings: per-event defaults for kiosk settings
// (keys as in the kiosk's settings table) and the event's thresholds. Local
// overrides on the kiosk win over Values.
type EventSettings struct {
	EventID    string            `json:"event_id"`
	EventName  string            `json:"event_name"`
	Values     map[string]string `json:"values"`
	Thresholds Thresholds        `json:"thresholds"`
}

// SettingCaptureTemplates is the event setting ("true"/"false", default
// false) under which kiosks send CheckIn.Capture and the server keeps it.
// The event decides: a kiosk's local override cannot make the server keep
// captures the event has not allowed.
const SettingCaptureTemplates = "process.capture_templates"

// CaptureMethod reports whether a check-in by method may carry a capture:
// a face match accepted outright, or one the person then proved with their
// QR or short code. A "yes" to "Are you NAME?" or a manual check-in is not
// evidence enough to teach the gallery a new face.
func CaptureMethod(method string) bool {
	return method == MethodFace || method == MethodQR || method == MethodCode
}

// Heartbeat is POST /v1/heartbeat: a kiosk's status for the dashboard,
// sent after every sync round, successful or not.
type Heartbeat struct {
	AppVersion string    `json:"app_version"`
	Queued     int       `json:"queued"`
	Cursor     int64     `json:"cursor"`
	At         time.Time `json:"at"`
	// The fields below are the kiosk's own view of its sync (kiosks
	// before them leave them out).
	// State is one of the SyncState values.
	State string `json:"state,omitempty"`
	// LastSync is the end of the kiosk's last round in which every call
	// succeeded; zero before the first one.
	LastSync time.Time `json:"last_sync,omitzero"`
	// LastError is the last failure, short, in English (for the admin).
	LastError string `json:"last_error,omitempty"`
	// Gallery is the number of people the kiosk can recognise.
	Gallery int `json:"gallery"`
}

// Kiosk sync states (Heartbeat.State, and the kiosk's own status).
const (
	// SyncOnline: the last call to the server succeeded.
	SyncOnline = "online"
	// SyncOffline: the server could not be reached (or answered 5xx).
	SyncOffline = "offline"
	// SyncDegraded: the server answered, but not with something the kiosk
	// can use (a refused gallery snapshot, a refused token), or the
	// kiosk's own disk is full.
	SyncDegraded = "degraded"
	// SyncStarting: paired, no sync round finished yet.
	SyncStarting = "starting"
)

// CodeEventClosed is the Problem code of the 410 answer a kiosk endpoint
// gives for an event that was closed or purged: the kiosk wipes that
// event's gallery.
const CodeEventClosed = "event_closed"

// CodeTokenRevoked is the Problem code of the 401 answer to a kiosk whose
// token an admin revoked: the kiosk wipes its gallery, check-ins, pairing
// and event key.
const CodeTokenRevoked = "token_revoked"

// Problem is the body of every 4xx/5xx answer (RFC 9457 problem details).
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is a stable machine-readable reason, e.g. "token_revoked".
	Code string `json:"code,omitempty"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}
