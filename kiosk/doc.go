// Package kiosk is the kiosk's headless core: camera sources, the check-in
// state machine that turns frames into check-ins, live settings, and the
// sync worker with its durable outbox. It emits Events that the Fyne UI and
// the headless JSON runner render; it never imports a UI toolkit.
package kiosk
