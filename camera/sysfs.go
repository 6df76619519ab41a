package camera

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sysfs lists Linux's V4L2 capture devices from sysfs: each
// class/video4linux/videoN is /dev/videoN, which OpenCV's V4L2 backend
// opens as index N; its name file is the device's name.
type Sysfs struct {
	// Root is the sysfs mount ("/sys"); Dev holds the device nodes ("/dev").
	Root, Dev string
	// Query asks a device node whether it captures video (the V4L2
	// VIDIOC_QUERYCAP ioctl on Linux). A UVC webcam has two nodes, one
	// for video and one for metadata; only the first is a camera. When it
	// fails (no permission, or no ioctl), the node's sysfs index decides:
	// 0 is a device's first node, its capture node on UVC webcams.
	Query func(node string) (capture bool, err error)
}

// List returns the capture devices in index order.
func (s *Sysfs) List(ctx context.Context) ([]Device, error) {
	class := filepath.Join(s.Root, "class", "video4linux")
	ents, err := os.ReadDir(class)
	if os.IsNotExist(err) {
		return nil, nil // no V4L2 device, or no V4L2 at all (a container)
	}
	if err != nil {
		return nil, fmt.Errorf("camera: list %s: %w", class, err)
	}
	var devs []Device
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, ok := strings.CutPrefix(e.Name(), "video")
		index, err := strconv.Atoi(n)
		if !ok || err != nil || index < 0 || strconv.Itoa(index) != n {
			continue // v4l-subdev*, vbi*, radio*, swradio*: not cameras
		}
		dir := filepath.Join(class, e.Name())
		if !s.capture(dir, index) {
			continue
		}
		devs = append(devs, Device{Index: index, Name: cleanName(readAttr(dir, "name"), index), ID: s.id(dir)})
		if len(devs) > 4*MaxDevices {
			break
		}
	}
	return bound(devs), nil
}

func (s *Sysfs) capture(dir string, index int) bool {
	if s.Query != nil {
		if ok, err := s.Query(filepath.Join(s.Dev, fmt.Sprintf("video%d", index))); err == nil {
			return ok
		}
	}
	return readAttr(dir, "index") == "0"
}

// id is the device's sysfs path under Root (the USB port it hangs on,
// e.g. devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0): it stays the
// same while the camera stays in that port, whatever its videoN.
func (s *Sysfs) id(dir string) string {
	real, err := filepath.EvalSymlinks(filepath.Join(dir, "device"))
	if err != nil {
		return ""
	}
	root, err := filepath.EvalSymlinks(s.Root)
	if err != nil {
		return ""
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel)
}

// readAttr reads a small sysfs attribute, trimmed; "" when absent.
func readAttr(dir, name string) string {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	return strings.TrimSpace(string(buf[:n]))
}
