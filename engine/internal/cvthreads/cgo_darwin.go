//go:build darwin && !customenv

package cvthreads

// macOS: Homebrew's opencv formula ships opencv4.pc, which Homebrew's
// pkg-config finds in $(brew --prefix)/lib/pkgconfig (/opt/homebrew on
// Apple silicon, /usr/local on Intel), as gocv's own flags do. The
// threads.cpp SSE code is x86 only; on Apple silicon FlushDenormals
// reports false.

// #cgo pkg-config: opencv4
import "C"
