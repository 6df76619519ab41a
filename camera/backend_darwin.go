package camera

// DefaultBackend is AVFoundation, the only camera API of current macOS.
func DefaultBackend() Backend { return AVFoundation }

// Backends are the backends a kiosk may choose on macOS.
func Backends() []Backend { return []Backend{AVFoundation} }

// System is macOS's camera listing, from system_profiler.
func System() Lister { return &Profiler{Run: runProfiler} }
