//go:build windows && !customenv

package cvthreads

// Windows without customenv: the OpenCV 4.6.0 that gocv's Windows script
// builds with MinGW into C:/opencv/build/install, the same paths gocv
// v0.31.0's cgo.go links. MSYS2's OpenCV (or a cross-built one) goes
// through the customenv tag and CGO_* variables instead.

// #cgo CPPFLAGS: -IC:/opencv/build/install/include
// #cgo LDFLAGS: -LC:/opencv/build/install/x64/mingw/lib -lopencv_core460
import "C"
