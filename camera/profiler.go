package camera

import (
	"context"
	"encoding/json"
	"fmt"
)

// Profiler lists macOS's cameras from `system_profiler SPCameraDataType
// -json`, in its order, which is taken as AVFoundation's index order.
// Not yet checked on a Mac with several cameras: OpenCV's AVFoundation
// backend numbers the devices AVCaptureDevice lists, and system_profiler
// is assumed to list them alike.
type Profiler struct {
	// Run returns system_profiler's JSON output.
	Run func(ctx context.Context) ([]byte, error)
}

// maxProfilerOutput bounds what is parsed: a few hundred bytes a camera.
const maxProfilerOutput = 1 << 20

// List returns the cameras.
func (p *Profiler) List(ctx context.Context) ([]Device, error) {
	out, err := p.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("camera: system_profiler: %w", err)
	}
	return parseProfiler(out)
}

func parseProfiler(out []byte) ([]Device, error) {
	if len(out) > maxProfilerOutput {
		return nil, fmt.Errorf("camera: system_profiler printed %d bytes, more than %d", len(out), maxProfilerOutput)
	}
	var doc struct {
		Cameras []struct {
			Name     string `json:"_name"`
			UniqueID string `json:"spcamera_unique-id"`
		} `json:"SPCameraDataType"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("camera: system_profiler output: %w", err)
	}
	var devs []Device
	for i, c := range doc.Cameras {
		if i == MaxDevices {
			break
		}
		devs = append(devs, Device{Index: i, Name: cleanName(c.Name, i), ID: c.UniqueID})
	}
	return devs, nil
}
