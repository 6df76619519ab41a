// Package camera names the cameras of this machine: the capture devices
// there are, each by the index OpenCV opens it with and by the name a
// person recognises, and which OpenCV capture API (backend) opens them on
// this system (V4L2 on Linux, DirectShow or Media Foundation on Windows,
// AVFoundation on macOS).
//
// It needs neither cgo nor OpenCV, so it builds and is tested on every
// system: each system's listing reads through a small interface (a sysfs
// root, a SetupAPI enumerator, the system_profiler output) that the tests
// replace with fakes. The engine opens the devices; the kiosk uses a
// Device's Ref to find the chosen camera again when indices move.
package camera
