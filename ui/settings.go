package ui

import (
	"image"
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SettingSpec is one editable setting in the settings pane, supplied by
// the caller (the kiosk's settings, mapped by cmd/facecheck).
type SettingSpec struct {
	Key   string
	Label string
	Help  string
	// Min and Max bound a numeric setting; Min == Max means free text.
	Min, Max float64
	Value    string
	// Validate, when set, checks the value after the range check; its
	// error text is shown next to the field as is.
	Validate func(string) error
	// Limit, when set, is the overlay limit this setting is (the min and
	// max face-size boxes, the limits next to the live measures).
	Limit Limit
	// Device, for the camera setting, is the stored camera's name and ID
	// (process.camera_device), which its list of cameras picks.
	Device string
}

// Numeric reports whether the setting has a numeric range.
func (s SettingSpec) Numeric() bool { return s.Min < s.Max }

// check validates v: a number within [Min, Max] for numeric settings, then
// Validate. The returned message is translated for the range checks.
func (s SettingSpec) check(tr *Translator, v string) string {
	if s.Numeric() {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return tr.T("settings.not_number")
		}
		if f < s.Min || f > s.Max {
			return tr.T("settings.out_of_range", fmtNum(s.Min), fmtNum(s.Max))
		}
	}
	if s.Validate != nil {
		if err := s.Validate(v); err != nil {
			return err.Error()
		}
	}
	return ""
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// settingField is one row of the pane.
type settingField struct {
	spec    SettingSpec
	entry   *keyEntry
	errText *canvas.Text
	// live is the last valid value typed, which the overlays show while
	// the pane is open (a half-typed number does not make the boxes jump).
	live string
}

// settingsScreen lists the settings with their range, help and error.
type settingsScreen struct {
	root     *fyne.Container
	fields   []*settingField
	status   *canvas.Text
	apply    *keyButton
	close    *keyButton
	change   *keyButton
	staff    *keyButton
	reset    *keyButton
	language *widget.Select
	// The live preview: what the face settings do, as the admin types.
	preview  *canvas.Image
	oval     *Oval
	overlay  *overlay
	overlays *widget.Check // "show overlays" on the kiosk screen too
	server   *serverSection
	camera   *cameraChoice // the camera field's list; nil without one
	// resetArmed: the first tap on reset asks for a second one, so one
	// stray tap cannot wipe an admin's tuning.
	resetArmed bool
}

func newSettingsScreen(a *App) *settingsScreen {
	s := &settingsScreen{}
	rows := container.NewVBox()
	for _, spec := range a.opts.Settings {
		f := &settingField{spec: spec}
		f.entry = a.newEntry(false)
		f.entry.SetText(spec.Value)
		f.errText = canvas.NewText("", colError)
		f.errText.TextSize = 22
		f.entry.OnChanged = func(v string) {
			msg := f.spec.check(a.tr, v)
			f.showError(msg)
			if msg == "" {
				f.live = v
			}
			if f.spec.Limit != "" {
				a.updateOverlays() // the boxes follow the value being typed
			}
		}
		value := container.NewVBox(f.entry, f.errText)
		if spec.Key == cameraKey {
			s.camera = newCameraChoice(a, f)
			onChanged := f.entry.OnChanged
			f.entry.OnChanged = func(v string) { onChanged(v); s.camera.typed(v) }
			value = container.NewVBox(s.camera.pick, f.entry, f.errText, s.camera.status)
		}
		label := widget.NewLabelWithStyle(spec.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		help := spec.Help
		if spec.Numeric() {
			help = a.tr.T("settings.range", fmtNum(spec.Min), fmtNum(spec.Max)) + "  ·  " + help
		}
		helpText := widget.NewLabel(help)
		helpText.SizeName = theme.SizeNameCaptionText
		helpText.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewGridWithColumns(2,
			container.NewVBox(label, helpText),
			value))
		rows.Add(widget.NewSeparator())
		s.fields = append(s.fields, f)
	}

	var names []string
	codes := map[string]string{}
	for _, l := range Languages() {
		names = append(names, l[1])
		codes[l[1]] = l[0]
	}
	s.language = widget.NewSelect(names, nil)
	s.language.SetSelected(a.tr.T("lang.name"))
	s.language.OnChanged = func(name string) {
		if code := codes[name]; code != "" && code != a.tr.Lang() {
			if err := a.SetLanguage(code); err != nil {
				fyne.LogError("ui: switch language", err)
				return
			}
			a.OpenSettings() // the pane was rebuilt in the new language
		}
	}

	s.status = canvas.NewText("", colSuccess)
	s.status.TextSize = 24
	s.apply = a.newButton(a.tr.T("settings.apply"), theme.ConfirmIcon(), func() { a.applySettings() })
	s.apply.Importance = widget.HighImportance
	s.change = a.newButton(a.tr.T("pin.change"), nil, a.changePIN)
	s.close = a.newButton(a.tr.T("settings.close"), theme.CancelIcon(), a.CloseAdmin)

	title := widget.NewLabel(a.tr.T("settings.title"))
	title.SizeName = theme.SizeNameHeadingText
	top := container.NewBorder(nil, nil, title,
		container.NewHBox(widget.NewLabel(a.tr.T("settings.language")), s.language))
	s.staff = a.newButton(a.tr.T("staff.title"), theme.AccountIcon(), a.OpenStaff)
	s.reset = a.newButton(a.tr.T("settings.reset"), theme.HistoryIcon(), func() { a.resetSettings() })
	if a.opts.ResetSettings == nil {
		s.reset.Hide()
	}
	bottom := container.NewHBox(s.status, layout.NewSpacer(), s.staff, s.reset, s.change, s.close, s.apply)
	s.server = newServerSection(a)
	list := container.NewVBox(s.server.root, widget.NewSeparator(), rows)
	s.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewPadded(container.NewBorder(top, bottom, s.newPreview(a), nil, container.NewVScroll(list))))
	return s
}

// Size of the settings pane's preview: the pane must still fit a
// 1280x800 screen.
const paneW, paneH = 440, 330

// newPreview builds the pane's live preview: the mirrored camera picture
// with the guide, the face-size boxes and the face box, the measures
// under it and the switch that puts the overlays on the kiosk screen.
func (s *settingsScreen) newPreview(a *App) fyne.CanvasObject {
	s.preview = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 4, 3)))
	s.preview.FillMode = canvas.ImageFillContain
	s.preview.ScaleMode = canvas.ImageScaleFastest
	s.oval = NewOval()
	s.overlay = newOverlay(a, 18)
	s.overlays = widget.NewCheck(a.tr.T("settings.overlays"), nil)
	s.overlays.SetChecked(a.showOverlays)
	s.overlays.OnChanged = a.SetShowOverlays
	pic := container.NewStack(canvas.NewRectangle(color.NRGBA{0x10, 0x10, 0x10, 0xff}), s.preview, s.oval.Object(), s.overlay.boxes)
	// Scrolls rather than grows the window on a short screen.
	return container.NewVScroll(container.NewVBox(container.NewGridWrap(fyne.NewSize(paneW, paneH), pic), s.overlay.readout, s.overlays))
}

// settingsFrame shows a live frame on the pane's preview while it is open.
func (a *App) settingsFrame(img *image.RGBA) {
	if a.admin != ScreenSettings {
		return
	}
	a.settings.preview.Image = img
	a.settings.preview.Refresh()
}

func (f *settingField) showError(msg string) {
	if f.errText.Text != msg {
		f.errText.Text = msg
		f.errText.Refresh()
	}
}

// load resets the fields to the current values.
func (s *settingsScreen) load(a *App) {
	for _, f := range s.fields {
		f.entry.SetText(f.spec.Value)
		f.live = f.spec.Value
		f.showError("")
	}
	s.status.Text = ""
	s.status.Refresh()
	s.server.update(a)
	if s.camera != nil {
		s.camera.load(a)
	}
}

// applySettings validates every field and, when all pass, hands the changed
// ones to ApplySettings. Nothing is applied while any field is invalid.
func (a *App) applySettings() {
	s := a.settings
	changed := map[string]string{}
	bad := 0
	for _, f := range s.fields {
		msg := f.spec.check(a.tr, f.entry.Text)
		f.showError(msg)
		if msg != "" {
			bad++
			continue
		}
		if f.entry.Text != f.spec.Value {
			changed[f.spec.Key] = f.entry.Text
		}
	}
	if bad > 0 {
		s.setStatus(a.tr.T("settings.invalid", bad), true)
		return
	}
	if s.camera != nil {
		s.camera.changes(changed)
	}
	if len(changed) > 0 && a.opts.ApplySettings != nil {
		if err := a.opts.ApplySettings(changed); err != nil {
			s.setStatus(a.errorText("settings: apply", err), true)
			return
		}
	}
	for i, f := range s.fields {
		if v, ok := changed[f.spec.Key]; ok {
			f.spec.Value = v
			a.opts.Settings[i].Value = v // keep across rebuilds (language switch)
		}
		if v, ok := changed[cameraDeviceKey]; ok && f.spec.Key == cameraKey {
			f.spec.Device, a.opts.Settings[i].Device = v, v
		}
	}
	s.setStatus(a.tr.T("settings.applied"), false)
}

// SettingsInForce shows values now in force that changed elsewhere (the
// event's defaults pushed by the server): the pane's fields and the
// overlays' limits follow, except a field the admin is editing (its text
// differs from the value it showed), which keeps what they typed. Safe from
// any goroutine.
func (a *App) SettingsInForce(values map[string]string) {
	fyne.Do(func() {
		for i := range a.opts.Settings {
			spec := &a.opts.Settings[i]
			if d, ok := values[cameraDeviceKey]; ok && spec.Key == cameraKey {
				spec.Device = d
				if s := a.settings; s != nil && i < len(s.fields) {
					s.fields[i].spec.Device = d
				}
			}
			v, ok := values[spec.Key]
			if !ok || v == spec.Value {
				continue
			}
			if s := a.settings; s != nil && i < len(s.fields) {
				f := s.fields[i]
				if f.entry.Text == f.spec.Value {
					f.entry.SetText(v)
					f.live = v
				}
				f.spec.Value = v
			}
			spec.Value = v
		}
		a.updateOverlays()
	})
}

// resetSettings: the first tap arms the button, the second drops every
// local override and shows the values now in force.
func (a *App) resetSettings() {
	s := a.settings
	if !s.resetArmed {
		s.resetArmed = true
		s.reset.SetText(a.tr.T("settings.reset_confirm"))
		return
	}
	s.resetArmed = false
	s.reset.SetText(a.tr.T("settings.reset"))
	values, err := a.opts.ResetSettings()
	if err != nil {
		s.setStatus(a.errorText("settings: reset", err), true)
		return
	}
	for i, f := range s.fields {
		if v, ok := values[f.spec.Key]; ok {
			f.spec.Value = v
			a.opts.Settings[i].Value = v
		}
		if v, ok := values[cameraDeviceKey]; ok && f.spec.Key == cameraKey {
			f.spec.Device, a.opts.Settings[i].Device = v, v
		}
	}
	s.load(a)
	s.setStatus(a.tr.T("settings.reset_done"), false)
}

func (s *settingsScreen) setStatus(msg string, isErr bool) {
	s.status.Color = colSuccess
	if isErr {
		s.status.Color = colError
	}
	s.status.Text = msg
	s.status.Refresh()
}
