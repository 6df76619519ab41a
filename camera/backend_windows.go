package camera

// DefaultBackend is DirectShow: every webcam driver supports it, and its
// device order is the one SetupAPI lists (the settings pane's names).
// Media Foundation is selectable for cameras that only it serves well.
func DefaultBackend() Backend { return DirectShow }

// Backends are the backends a kiosk may choose on Windows.
func Backends() []Backend { return []Backend{DirectShow, MediaFoundation} }

// System is Windows' camera listing, from SetupAPI.
func System() Lister { return &PnP{Enum: setupAPI{}} }
