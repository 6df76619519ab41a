package server

import (
	"context"
	"fmt"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/i18n"
)

// FaceEncoder turns a photo into a template. It is the server's boundary to
// the face engine: cmd/facecheck-server implements it with engine/, tests
// with a double. Encode gets the raw bytes of an uploaded JPEG or PNG that
// the server has already checked is a decodable image; it returns a
// *Rejection when the photo is not good enough to enrol (any other error is
// an internal failure, logged and answered with a 500). The returned
// template's Data is the Dim (512) unsigned bytes, int8 value + 128.
// Encode must be safe for concurrent use.
type FaceEncoder interface {
	Encode(ctx context.Context, img []byte) (api.Template, error)
}

// Rejection reasons: why a photo cannot be enrolled. The registration page
// shows a specific message for each, and a generic one for any other code.
const (
	ReasonNoFace     = "no_face"
	ReasonManyFaces  = "many_faces"
	ReasonBlurry     = "blurry"
	ReasonTooSmall   = "too_small"
	ReasonEyesClosed = "eyes_closed"
	ReasonTurnedAway = "turned_away"
	ReasonNotAnImage = "not_an_image"
	// Further engine gate reasons with messages of their own.
	ReasonTooBig    = "too_big"
	ReasonCut       = "cut"
	ReasonTooDark   = "too_dark"
	ReasonTooBright = "too_bright"
	// ReasonTooLarge is the server's own: the upload exceeds the size limit.
	ReasonTooLarge = "too_large"
)

// Rejection is a photo the engine will not enrol, with one of the Reason
// codes. Detail is an optional note for logs (e.g. the measured blur).
type Rejection struct {
	Reason string
	Detail string
}

func (r *Rejection) Error() string {
	if r.Detail != "" {
		return fmt.Sprintf("photo rejected: %s (%s)", r.Reason, r.Detail)
	}
	return "photo rejected: " + r.Reason
}

// rejectionKey is the catalogue key of the message shown for a rejection
// reason (web.reject.<reason>, or web.reject.other).
func rejectionKey(reason string) string {
	if i18n.MustNew(i18n.Default).Has("web.reject." + reason) {
		return "web.reject." + reason
	}
	return "web.reject.other"
}

// RejectionMessage returns the English message shown for a rejection
// reason (the pages show it in the visitor's language).
func RejectionMessage(reason string) string {
	return i18n.MustNew(i18n.Default).T(rejectionKey(reason))
}
