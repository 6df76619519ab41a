package camera

import (
	"fmt"
	"slices"
	"strings"
)

// Backend is an OpenCV capture API that opens cameras by index.
type Backend string

// The backends a kiosk may choose. Auto is this system's default.
const (
	Auto            Backend = ""
	V4L2            Backend = "v4l2"
	DirectShow      Backend = "dshow"
	MediaFoundation Backend = "msmf"
	AVFoundation    Backend = "avfoundation"
)

// Resolve returns the backend Auto stands for on this system.
func (b Backend) Resolve() Backend {
	if b == Auto {
		return DefaultBackend()
	}
	return b
}

// ParseBackend checks s ("auto" or "" for the default) against the
// backends of this system.
func ParseBackend(s string) (Backend, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "auto" {
		return Auto, nil
	}
	b := Backend(s)
	if !slices.Contains(Backends(), b) {
		return Auto, fmt.Errorf("camera: backend %q is not one of this system's: %s", s, strings.Join(Choices(), ", "))
	}
	return b, nil
}

// Choices are the values ParseBackend takes on this system, "auto" first:
// a setting's or a flag's choices.
func Choices() []string {
	out := []string{"auto"}
	for _, b := range Backends() {
		out = append(out, string(b))
	}
	return out
}

// String is the backend's name; Auto is "auto".
func (b Backend) String() string {
	if b == Auto {
		return "auto"
	}
	return string(b)
}
