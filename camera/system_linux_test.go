package camera

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestSystemLinux lists this machine's cameras through the real sysfs and
// ioctl: whatever is there must come back without error, each a capture
// node that exists. (The reference machine has no camera: an empty list.)
func TestSystemLinux(t *testing.T) {
	devs, err := List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cameras: %v", len(devs), devs)
	for _, d := range devs {
		if _, err := os.Stat("/dev/video" + strconv.Itoa(d.Index)); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	// The ioctl on something that is no V4L2 node fails as the kernel says.
	if _, err := queryCap("/dev/null"); !errors.Is(err, syscall.ENOTTY) {
		t.Errorf("VIDIOC_QUERYCAP on /dev/null = %v, want ENOTTY", err)
	}
	if _, err := queryCap("/nonexistent/video0"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("queryCap of a missing node = %v", err)
	}
}
