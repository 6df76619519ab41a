package api

import "time"

// The admin API (/v1/admin/...): what the dashboard and scripts read and
// send.

// PairingCodeRequest is POST /v1/admin/pairing-codes.
type PairingCodeRequest struct {
	EventID string `json:"event_id"`
}

// PairingCode is a one-time code a kiosk exchanges at POST /v1/pair.
type PairingCode struct {
	Code      string    `json:"code"`
	EventID   string    `json:"event_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// EventCreate is POST /v1/admin/events.
type EventCreate struct {
	Name string `json:"name"`
	// EndsAt and RetentionDays: see Event; omitted, the event has no end
	// date and the default retention (30 days).
	EndsAt        *time.Time `json:"ends_at,omitempty"`
	RetentionDays *int       `json:"retention_days,omitempty"`
}

// Event is an event as the admin API shows it (never its template key).
type Event struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Thresholds Thresholds        `json:"thresholds"`
	Values     map[string]string `json:"values"`
	CreatedAt  time.Time         `json:"created_at"`
	// EndsAt is when the event ends; nil: no end date, the event is kept
	// until it is closed.
	EndsAt *time.Time `json:"ends_at,omitempty"`
	// RetentionDays is how long after its end (or its close, when that is
	// earlier) the server keeps the event's personal data and templates.
	RetentionDays int `json:"retention_days"`
	// ClosedAt: closed by hand; registration and kiosks are refused (410
	// CodeEventClosed), the data stays until the purge or a delete.
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// PurgeAt is when the server purges the event (nil while it has
	// neither an end date nor a close); PurgedAt when it did.
	PurgeAt  *time.Time `json:"purge_at,omitempty"`
	PurgedAt *time.Time `json:"purged_at,omitempty"`
}

// EventSettingsUpdate is PUT /v1/admin/events/{id}/settings. Nil fields are
// left unchanged; Values replaces the whole map.
type EventSettingsUpdate struct {
	Thresholds *Thresholds       `json:"thresholds,omitempty"`
	Values     map[string]string `json:"values,omitempty"`
	// EndsAt and RetentionDays change the event's lifecycle (see Event).
	EndsAt        *time.Time `json:"ends_at,omitempty"`
	RetentionDays *int       `json:"retention_days,omitempty"`
}

// Attendee is an attendee as the admin API lists it.
type Attendee struct {
	ID        string    `json:"id"`
	EventID   string    `json:"event_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Info      string    `json:"info,omitempty"`
	Source    string    `json:"source"`
	CheckIns  int       `json:"checkins"`
	Templates int       `json:"templates"`
	CreatedAt time.Time `json:"created_at"`
	Deleted   bool      `json:"deleted,omitempty"`
}

// AttendeeList is GET /v1/admin/events/{id}/attendees.
type AttendeeList struct {
	Attendees []Attendee `json:"attendees"`
	Total     int        `json:"total"`
}

// Kiosk is a paired device as the admin API lists it.
type Kiosk struct {
	ID         string     `json:"id"`
	EventID    string     `json:"event_id"`
	Name       string     `json:"name"`
	AppVersion string     `json:"app_version,omitempty"`
	Revoked    bool       `json:"revoked"`
	Queued     int        `json:"queued"`
	Cursor     int64      `json:"cursor"`
	LastSeen   *time.Time `json:"last_seen,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	// From the kiosk's last heartbeat (Heartbeat): its sync state, the end
	// of its last fully successful round, its last error and gallery size.
	SyncState string     `json:"sync_state,omitempty"`
	LastSync  *time.Time `json:"last_sync,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	Gallery   int        `json:"gallery"`
}

// EventStats is GET /v1/admin/events/{id}/stats and the live counter's payload.
type EventStats struct {
	Attendees int `json:"attendees"`
	CheckIns  int `json:"checkins"` // distinct attendees checked in
	Repeats   int `json:"repeats"`
	Kiosks    int `json:"kiosks"`
}

// Session is GET /v1/admin/session: who is logged in and the CSRF token to
// send as X-CSRF-Token with every state-changing admin call.
type Session struct {
	Username  string `json:"username"`
	CSRFToken string `json:"csrf_token"`
}
