package ui

import (
	"context"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/camera"
)

// The settings keys of the camera choice: the index (or a video file or
// image folder) and, for a camera picked from the list, its name and ID.
const (
	cameraKey       = "process.camera"
	cameraDeviceKey = "process.camera_device"
)

// cameraChoice is the settings pane's camera field: this machine's
// cameras by name in a list, above the entry, which still takes an index,
// a video file or an image folder. Picking a camera puts its index in the
// entry and keeps its name and ID, which are stored with the index so the
// kiosk finds the same camera when plugging order moves it to another
// index; typing into the entry drops them.
type cameraChoice struct {
	field  *settingField
	pick   *widget.Select
	status *widget.Label
	devs   []camera.Device
	// device is the Ref of the camera the entry's index stands for ("":
	// the entry was typed, or nothing was picked).
	device string
}

func newCameraChoice(a *App, f *settingField) *cameraChoice {
	c := &cameraChoice{field: f, device: f.spec.Device}
	c.status = widget.NewLabel("")
	c.status.SizeName = "captionText"
	c.pick = widget.NewSelect(nil, func(label string) {
		for _, d := range c.devs {
			if d.String() == label {
				c.device = d.Ref()
				f.entry.SetText(strconv.Itoa(d.Index)) // its OnChanged keeps device: the index matches
				return
			}
		}
	})
	c.pick.PlaceHolder = a.tr.T("settings.camera_choose")
	return c
}

// typed is the entry's change: a value other than the picked camera's
// index is a camera, file or folder of its own.
func (c *cameraChoice) typed(v string) {
	for _, d := range c.devs {
		if d.Ref() == c.device && strconv.Itoa(d.Index) == v {
			return
		}
	}
	if c.device != "" && v == c.field.spec.Value && c.device == c.field.spec.Device {
		return // back to the stored camera, which is not connected now
	}
	c.device = ""
	c.pick.ClearSelected()
}

// load lists the cameras off the UI goroutine (macOS's listing takes
// about a second) and shows the stored one picked.
func (c *cameraChoice) load(a *App) {
	c.device = c.field.spec.Device
	c.status.SetText("")
	list := a.opts.ListCameras
	if list == nil {
		c.pick.Hide()
		return
	}
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		devs, err := list(ctx)
		fyne.Do(func() { c.show(a, devs, err) })
	})
}

func (c *cameraChoice) show(a *App, devs []camera.Device, err error) {
	c.devs = devs
	var labels []string
	for _, d := range devs {
		labels = append(labels, d.String())
	}
	c.pick.SetOptions(labels)
	switch {
	case err != nil:
		fyne.LogError("ui: list cameras", err)
		c.status.SetText(a.tr.T("settings.camera_list_failed"))
	case len(devs) == 0:
		c.status.SetText(a.tr.T("settings.camera_none"))
	}
	// The stored camera, where it is now, picked without touching the
	// entry (it shows the stored value until the admin picks).
	c.pick.Selected = ""
	if idx, err := strconv.Atoi(c.field.entry.Text); err == nil {
		if n, m := camera.Resolve(devs, c.device, idx); m != camera.NotFound || c.device == "" {
			for _, d := range devs {
				if d.Index == n {
					c.pick.Selected = d.String()
				}
			}
		}
	}
	c.pick.Refresh()
}

// changes adds the camera's name and ID to changed when they differ from
// the stored ones, and the index with them.
func (c *cameraChoice) changes(changed map[string]string) {
	if c.device == c.field.spec.Device {
		return
	}
	changed[cameraDeviceKey] = c.device
	changed[cameraKey] = c.field.entry.Text
}
