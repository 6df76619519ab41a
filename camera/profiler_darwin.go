package camera

import (
	"context"
	"os/exec"
	"time"
)

// runProfiler runs system_profiler, which answers in about a second; the
// timeout keeps a hung one from holding the settings pane.
func runProfiler(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "/usr/sbin/system_profiler", "SPCameraDataType", "-json").Output()
}
