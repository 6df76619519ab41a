package camera

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// v4l2Capability is struct v4l2_capability of <linux/videodev2.h>.
type v4l2Capability struct {
	Driver       [16]byte
	Card         [32]byte
	BusInfo      [32]byte
	Version      uint32
	Capabilities uint32
	DeviceCaps   uint32
	Reserved     [3]uint32
}

const (
	vidiocQueryCap       = 0x80685600 // _IOR('V', 0, struct v4l2_capability)
	capVideoCapture      = 0x00000001
	capVideoCaptureMPane = 0x00001000
	capDeviceCaps        = 0x80000000
)

// queryCap asks the V4L2 node whether it captures video. Opening a node
// starts no stream, and works while another program uses the camera.
func queryCap(node string) (bool, error) {
	fd, err := unix.Open(node, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("camera: open %s: %w", node, err)
	}
	defer unix.Close(fd)
	var c v4l2Capability
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), vidiocQueryCap, uintptr(unsafe.Pointer(&c))); errno != 0 {
		return false, fmt.Errorf("camera: VIDIOC_QUERYCAP %s: %w", node, errno)
	}
	caps := c.Capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.DeviceCaps // this node's, not the whole device's
	}
	return caps&(capVideoCapture|capVideoCaptureMPane) != 0, nil
}
