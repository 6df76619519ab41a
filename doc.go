// Package facecheck holds the domain rules the kiosk and the server share,
// written once and free of gocv, Fyne and database/sql so both sides (and
// the server's tests) can import it: the 8-bit template codec and its
// similarity (Template), the validation of a check-in (ValidateCheckIn,
// CheckInTime) and the decision rule that turns a gallery match into
// accept, confirm, verify or reject (Thresholds.Decide). Wire types stay in
// api; engine turns pixels into the templates compared here.
//
// # The decision rule
//
// A match is the best identity's score and its margin over the
// second-best identity (cosine similarity). Against an event's thresholds:
//
//   - score below Confirm: reject (not recognised);
//   - margin below Margin, at any score from Confirm up: verify;
//   - a risk the caller found (a liveness doubt, a repeat the event wants
//     proved): verify;
//   - score at or above Accept: accept; between Confirm and Accept: confirm
//     ("Are you NAME?").
//
// Verify asks for proof: the QR code or short code of the registration.
// Where that cannot be checked (a kiosk with second verification off or
// without the event key) verify falls back to confirm, and a liveness
// doubt never checks in without a question.
//
// A low margin asks for proof below Accept too. The kiosk used to ask "Are
// you NAME?" there while the server's identify API answered verify; the
// server was right. A low margin means two registered attendees are about
// equally near the face. The answer to "Are you NAME?" comes from the
// person in front of the camera, at a kiosk and behind the walk-up
// identify API alike: the very person in doubt, who wants to get in. The
// question names only the first of the two near candidates, so the second
// one tapping "yes" is checked in as someone else: a registered person
// swapped for another, which the thresholds' false-accept target (set for
// strangers) does not count, and which later turns the real attendee away
// as a repeat. A "yes" carries nothing that tells the two apart; the code
// does. With a clear margin only one registered face is near, and the
// question only has to catch an honest stranger, which is what confirm is
// for.
package facecheck
