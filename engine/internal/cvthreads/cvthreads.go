// Package cvthreads sets OpenCV's thread count, which gocv v0.31.0 does not expose.
// It is its own package because cgo and Go assembly cannot share one.
//
// It links OpenCV's core as gocv does, with the flags of one build-tagged
// file per system: pkg-config's opencv4 on Linux (Debian's -dev packages)
// and other Unix systems (cgo_pkgconfig.go), Homebrew's opencv4 on macOS
// (cgo_darwin.go), and on Windows gocv's default OpenCV install under
// C:/opencv (cgo_windows.go). With the customenv build tag, as for gocv,
// no file adds flags: CGO_CPPFLAGS, CGO_CXXFLAGS and CGO_LDFLAGS from the
// environment say where OpenCV is (MSYS2's MinGW OpenCV on Windows, or a
// cross-built one: `pkg-config --cflags --libs opencv4` gives them).
package cvthreads

// #cgo CXXFLAGS: -std=c++11
// #include "threads.h"
import "C"

// Set sets how many threads OpenCV's DNN layers may use, process-wide. On
// the 2-core reference machine one thread makes the pipeline about 1.6x
// slower than two (docs/performance.md), so the engine leaves the default.
func Set(n int) { C.fcSetNumThreads(C.int(n)) }

// Get returns OpenCV's current thread count.
func Get() int { return int(C.fcGetNumThreads()) }

// FlushDenormals sets the CPU's flush-to-zero and denormals-are-zero modes
// on the calling OS thread and on OpenCV's worker threads (rebuilt from
// it). The caller must stay on that thread (runtime.LockOSThread) for the
// setting to apply to its own share of the work. It reports false on CPUs
// without SSE control (non-x86).
func FlushDenormals(on bool) bool {
	v := 0
	if on {
		v = 1
	}
	return C.fcFlushDenormals(C.int(v)) != 0
}
