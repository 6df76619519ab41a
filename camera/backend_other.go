//go:build !linux && !windows && !darwin

package camera

import "context"

// DefaultBackend is OpenCV's own choice on other systems.
func DefaultBackend() Backend { return Auto }

// Backends: only the default elsewhere.
func Backends() []Backend { return nil }

// System lists nothing elsewhere.
func System() Lister { return unsupported{} }

type unsupported struct{}

func (unsupported) List(context.Context) ([]Device, error) { return nil, ErrUnsupported }
