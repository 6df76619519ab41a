package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/facecheck/facecheck/kiosk"
)

// CameraControl is what the error screen asks of the camera when it is
// gone. Calls come from the UI goroutine and must not block.
type CameraControl interface {
	// Retry opens the camera again: at once, or at the kiosk's next
	// attempt (it keeps retrying by itself, with backoff).
	Retry()
	// UseCamera switches to a device index ("0".."3"), a video file or an
	// image folder for every later (re)open. An error says why not.
	UseCamera(spec string) error
}

// cameraPanel is the error screen's "retry" and "choose another camera".
type cameraPanel struct {
	root    *fyne.Container
	retry   *widget.Button
	choices map[string]*widget.Button
	path    *widget.Entry
	usePath *widget.Button
	status  *widget.Label
}

func newCameraPanel(a *App) *cameraPanel {
	p := &cameraPanel{choices: map[string]*widget.Button{}}
	p.status = wrapLabel("", theme.SizeNameText, widget.MediumImportance)
	p.retry = widget.NewButtonWithIcon(a.tr.T("camera.retry"), theme.ViewRefreshIcon(), func() {
		if c := a.opts.Camera; c != nil {
			c.Retry()
			p.status.Importance = widget.MediumImportance
			p.status.SetText(a.tr.T("camera.retrying"))
		}
	})
	p.retry.Importance = widget.HighImportance
	use := func(spec string) {
		c := a.opts.Camera
		if c == nil || strings.TrimSpace(spec) == "" {
			return
		}
		if err := c.UseCamera(strings.TrimSpace(spec)); err != nil {
			p.status.Importance = widget.DangerImportance
			p.status.SetText(a.tr.T("camera.failed", a.errorText("camera: use "+spec, err)))
			return
		}
		p.status.Importance = widget.MediumImportance
		p.status.SetText(a.tr.T("camera.switching", strings.TrimSpace(spec)))
	}
	choices := a.opts.CameraChoices
	if len(choices) == 0 {
		choices = []string{"0", "1", "2", "3"}
	}
	row := container.NewHBox()
	for _, c := range choices {
		b := widget.NewButton(a.tr.T("camera.device", c), func() { use(c) })
		p.choices[c] = b
		row.Add(container.NewGridWrap(fyne.NewSize(170, 72), b))
	}
	p.path = widget.NewEntry()
	p.path.SetPlaceHolder(a.tr.T("camera.path"))
	p.path.OnSubmitted = use
	p.usePath = widget.NewButton(a.tr.T("camera.use_path"), func() { use(p.path.Text) })
	p.root = container.NewVBox(
		container.NewCenter(bigButton(p.retry, bigButtonW+80, 90)),
		widget.NewLabelWithStyle(a.tr.T("camera.choose"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		container.NewCenter(row),
		container.NewBorder(nil, nil, nil, p.usePath, p.path),
		p.status,
	)
	p.root.Hide()
	return p
}

// show reveals the panel when the error (its code) is about the camera and
// the kiosk can act on it.
func (p *cameraPanel) show(a *App, code string) {
	if a.opts.Camera != nil && code == kiosk.ECAMERA {
		if !p.root.Visible() {
			p.status.SetText("")
		}
		p.root.Show()
		return
	}
	p.root.Hide()
}
