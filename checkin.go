package facecheck

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
)

// MaxCheckInAhead is how far ahead of the server's clock a check-in's time
// may be. Kiosks stamp check-ins with their own clock, which can run a
// little fast (a clock not yet synchronised after boot, or drifting through
// a day offline); minutes cover that. A time hours ahead would count
// someone as checked in before they came. The past stays open: kiosks work
// offline and send their queue when they are back, days later if need be.
const MaxCheckInAhead = 5 * time.Minute

// MaxAttendeeIDLen is the longest attendee id a check-in may carry (ids are
// UUIDs; the bound keeps a bad client from storing megabytes).
const MaxAttendeeIDLen = 64

// CheckInError is a check-in that ValidateCheckIn or CheckInTime refuses.
// Reason names the field and the rule in words fit for an API answer.
type CheckInError struct {
	Reason string
}

func (e *CheckInError) Error() string { return "invalid check-in: " + e.Reason }

// CheckInMethod reports whether method is a check-in method (api.Method*).
func CheckInMethod(method string) bool {
	switch method {
	case api.MethodFace, api.MethodConfirm, api.MethodQR, api.MethodCode, api.MethodManual:
		return true
	}
	return false
}

// ValidateCheckIn checks a check-in's shape, the same on the kiosk that
// records it and on the server that receives it, so a kiosk never queues
// what the server would refuse: the id is a UUID in canonical lower-case
// form (one check-in cannot be stored under two spellings), the attendee id
// is set and at most MaxAttendeeIDLen bytes, the method is known, score
// and margin are finite. Its time is CheckInTime's. It returns a
// *CheckInError.
func ValidateCheckIn(c api.CheckIn) error {
	bad := func(reason string) error { return &CheckInError{Reason: reason} }
	switch {
	case !canonicalUUID(c.ID):
		return bad("id must be a UUID in canonical lower-case form")
	case strings.TrimSpace(c.AttendeeID) == "" || len(c.AttendeeID) > MaxAttendeeIDLen:
		return bad("attendee_id must be 1 to 64 characters")
	case !CheckInMethod(c.Method):
		return bad("unknown method " + quote(c.Method))
	case !finite(c.Score) || !finite(c.Margin):
		return bad("score and margin must be finite")
	}
	return nil
}

// CheckInTime checks a check-in's time against the receiver's clock now:
// set, and at most MaxCheckInAhead ahead. Any time in the past is fine. It
// returns a *CheckInError.
func CheckInTime(at, now time.Time) error {
	switch {
	case at.IsZero():
		return &CheckInError{Reason: "at must be set"}
	case at.After(now.Add(MaxCheckInAhead)):
		return &CheckInError{Reason: "at is more than " + MaxCheckInAhead.String() + " ahead of the server's clock"}
	}
	return nil
}

func canonicalUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// quote quotes s for an error message, cut to 40 bytes (a method is a word;
// anything longer is a bad client).
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strconv.Quote(s)
}
