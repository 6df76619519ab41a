package server

import (
	"context"
	"fmt"

	"github.com/facecheck/facecheck/api"
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

// rejectionMessages are shown to the person registering.
var rejectionMessages = map[string]string{
	ReasonNoFace:     "We couldn't find a face in this photo. Face the camera in good light and try again.",
	ReasonManyFaces:  "There is more than one face in this photo. Please take a photo of yourself alone.",
	ReasonBlurry:     "This photo is blurry. Hold the camera still and try again.",
	ReasonTooSmall:   "Your face is too small in this photo. Come closer to the camera.",
	ReasonEyesClosed: "Your eyes seem closed. Look at the camera with your eyes open.",
	ReasonTurnedAway: "Please look straight at the camera.",
	ReasonNotAnImage: "This file is not a photo we can read. Please use a JPEG or PNG image.",
	ReasonTooLarge:   "This photo is too large. Please use a smaller image.",
	ReasonTooBig:     "Your face is too close to the camera. Hold it a little further away.",
	ReasonCut:        "Part of your face is cut off. Centre your face in the photo.",
	ReasonTooDark:    "This photo is too dark. Find better light and try again.",
	ReasonTooBright:  "This photo is too bright. Avoid strong light behind or on you.",
}

// RejectionMessage returns the message shown for a rejection reason.
func RejectionMessage(reason string) string {
	if m, ok := rejectionMessages[reason]; ok {
		return m
	}
	return "This photo cannot be used. Please try another one."
}
