package camera

// DefaultBackend is V4L2: OpenCV's index N is /dev/videoN.
func DefaultBackend() Backend { return V4L2 }

// Backends are the backends a kiosk may choose on Linux.
func Backends() []Backend { return []Backend{V4L2} }

// System is Linux's camera listing, from sysfs.
func System() Lister { return &Sysfs{Root: "/sys", Dev: "/dev", Query: queryCap} }
