package kiosk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/facecheck/facecheck/storage"
)

// Error codes: what went wrong, in a word the UI turns into a sentence in
// the reader's language ("error."+code in assets/i18n). The error's own
// text is for the log, never for the screen.
const (
	EINTERNAL     = "internal"     // a fault of the kiosk itself (disk, database, bug)
	EINVALID      = "invalid"      // the input was refused; Message says why
	ENOTFOUND     = "not_found"    // no such attendee
	EOFFLINE      = "offline"      // the server did not answer
	EUNAUTHORIZED = "unauthorized" // the server refused the kiosk or the pairing code
	EPROTOCOL     = "protocol"     // the address answers, but not as a facecheck server
	EINSECURE     = "insecure"     // a plain http:// server address to another machine
	ECERTIFICATE  = "certificate"  // the server's TLS certificate is not trusted
)

// Codes of the errors an attendee meets at the kiosk (Event.Code).
const (
	ECAMERA      = "camera"       // the camera stopped; the kiosk keeps retrying
	EDISKFULL    = "disk_full"    // out of order: the kiosk's disk is full
	EDAMAGED     = "damaged"      // out of order: the kiosk's database file is damaged
	EOUTOFORDER  = "out_of_order" // out of order: check-ins cannot be saved
	ECODEEMPTY   = "code_empty"   // nothing code-like was typed
	ECODEUNKNOWN = "code_unknown" // the code is nobody's on this kiosk
	ECODEWRONG   = "code_wrong"   // the code is not the candidate's; Args: attempt, of
	ECODEOFF     = "code_off"     // no event key: codes cannot be checked
)

// EventCodes lists every code an Event can carry, for the test that each
// has a sentence in every language.
var EventCodes = []string{EINTERNAL, EINVALID, ENOTFOUND, EOFFLINE, EUNAUTHORIZED, EPROTOCOL, EINSECURE, ECERTIFICATE,
	ECAMERA, EDISKFULL, EDAMAGED, EOUTOFORDER, ECODEEMPTY, ECODEUNKNOWN, ECODEWRONG, ECODEOFF}

// Error is an error meant for a person at the kiosk: a code, and for
// EINVALID a message naming what to fix.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "kiosk: " + e.Code + ": " + e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: an *Error's own, else the one the
// kiosk's typed errors stand for, else EINTERNAL (nil gives "").
func ErrorCode(err error) string {
	var e *Error
	var he *HTTPError
	var rej *EnrolRejected
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &rej):
		return EINVALID
	case errors.Is(err, ErrInsecureURL):
		return EINSECURE
	case errors.Is(err, ErrCertificate):
		return ECERTIFICATE
	case errors.Is(err, ErrUnauthorized):
		return EUNAUTHORIZED
	case errors.Is(err, ErrProtocol), errors.As(err, &he) && he.Status == http.StatusNotFound:
		return EPROTOCOL
	case errors.Is(err, ErrOffline), errors.Is(err, context.DeadlineExceeded):
		return EOFFLINE
	case errors.Is(err, storage.ErrNotFound):
		return ENOTFOUND
	}
	return EINTERNAL
}

// ErrorMessage returns the message of an *Error in err's chain, else "".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
