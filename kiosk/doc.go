// Package kiosk is the kiosk's core, without a display: camera sources,
// the check-in state machine that turns frames into check-ins (Machine),
// live settings, staff mode and the admin PIN, and the sync worker with
// its durable outbox. It emits Events that the Fyne UI (package ui) and
// the headless JSON runner render; it never imports a UI toolkit.
//
// A Station (station.go) is one running kiosk, and the only place its
// parts are put together: the window (ui.Run), `facecheck kiosk
// --headless` and the demo each open a Station and start it. Errors meant
// for a person carry a code (errors.go); the UI words the code, the log
// keeps the text. docs/architecture.md draws the packages and a frame's
// path.
package kiosk
