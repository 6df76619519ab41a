// Package engine owns face recognition from pixels to identity: detection,
// 68-point landmarks, quality gates, head pose, eye state and blinks, texture
// liveness, 5-point alignment, 512-d embeddings, 8-bit templates, the
// in-memory gallery with its 1:N search, and a frame tracker. It also wraps
// OpenCV's image decoding and video capture so no other package needs gocv.
//
// Everything that leaves the package is a plain Go value; every gocv.Mat made
// here is closed here. An Engine holds one instance of each network and is
// safe for use by one goroutine at a time: run one Engine per goroutine
// (they are cheap to duplicate with New) rather than sharing one.
package engine
