package camera

import (
	"context"
	"fmt"
)

// PnP lists Windows' cameras as DirectShow numbers them: DirectShow's video
// input category holds the kernel-streaming devices that register both a
// capture and a video interface (KSCATEGORY_CAPTURE and KSCATEGORY_VIDEO),
// so the cameras are the capture devices that are also video devices, in
// the order SetupAPI enumerates the capture class.
//
// Where the indices may not match OpenCV's: DirectShow also lists virtual
// cameras registered as DirectShow filters (OBS Virtual Camera and the
// like), which SetupAPI does not see, and does not document its order;
// Media Foundation (backend msmf) lists the camera class
// (KSCATEGORY_VIDEO_CAMERA), which may order or filter differently. Not
// yet checked on a Windows machine with several cameras.
type PnP struct {
	Enum Enumerator
}

// Enumerator is what the listing asks of SetupAPI.
type Enumerator interface {
	// Devices returns the present devices exposing an interface of class,
	// in SetupAPI's order.
	Devices(class InterfaceClass) ([]PnPDevice, error)
}

// InterfaceClass is a device interface class the listing asks for.
type InterfaceClass int

const (
	// ClassCapture is KSCATEGORY_CAPTURE.
	ClassCapture InterfaceClass = iota
	// ClassVideo is KSCATEGORY_VIDEO.
	ClassVideo
)

// PnPDevice is one device of a SetupAPI listing.
type PnPDevice struct {
	// InstanceID is the device instance ID
	// (USB\VID_046D&PID_082D&MI_00\7&1A2B3C4D&0&0000).
	InstanceID string
	// Name is its friendly name, else its description.
	Name string
}

// List returns the cameras with DirectShow's indices.
func (p *PnP) List(ctx context.Context) ([]Device, error) {
	capture, err := p.Enum.Devices(ClassCapture)
	if err != nil {
		return nil, fmt.Errorf("camera: list capture devices: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	video, err := p.Enum.Devices(ClassVideo)
	if err != nil {
		return nil, fmt.Errorf("camera: list video devices: %w", err)
	}
	isVideo := map[string]bool{}
	for _, d := range video {
		isVideo[d.InstanceID] = true
	}
	seen := map[string]bool{}
	var devs []Device
	for _, d := range capture {
		if !isVideo[d.InstanceID] || seen[d.InstanceID] || d.InstanceID == "" {
			continue // audio capture devices, or a device listed twice
		}
		seen[d.InstanceID] = true
		devs = append(devs, Device{Index: len(devs), Name: cleanName(d.Name, len(devs)), ID: d.InstanceID})
		if len(devs) == MaxDevices {
			break
		}
	}
	return devs, nil
}
