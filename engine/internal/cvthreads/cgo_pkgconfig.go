//go:build !windows && !darwin && !customenv

package cvthreads

// Linux and other Unix systems: the opencv4.pc of the system's OpenCV
// (Debian: libopencv-dev), as gocv's own flags.

// #cgo pkg-config: opencv4
import "C"
