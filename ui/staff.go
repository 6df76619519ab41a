package ui

import (
	"context"
	"errors"
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/kiosk"
)

// Staff is what staff mode asks of the kiosk core (kiosk.Staff). Calls may
// block on the engine or the database: the UI makes them off the UI
// goroutine.
type Staff interface {
	// Enrol registers a walk-up attendee from frame (as the camera sees
	// it, not mirrored). A frame or field that is not good enough returns
	// a *kiosk.EnrolRejected.
	Enrol(ctx context.Context, frame image.Image, name, email string, consent bool) (kiosk.EnrolResult, error)
	// TodayCount is the number of check-ins today.
	TodayCount(ctx context.Context) (int, error)
	// Search finds attendees by name.
	Search(ctx context.Context, query string) ([]kiosk.StaffPerson, error)
	// ManualCheckIn checks an attendee in by hand, audited under actor.
	ManualCheckIn(ctx context.Context, attendeeID, actor string) (kiosk.Result, error)
}

var _ Staff = (*kiosk.Staff)(nil)

// staffTimeout bounds one staff call: a photo through the gates or a
// database query.
const staffTimeout = 30 * time.Second

// staffScreen is staff mode: walk-up enrolment, today's count, manual
// check-in by name.
type staffScreen struct {
	root  *fyne.Container
	count *widget.Label
	tabs  *container.AppTabs

	// enrolment
	preview  *canvas.Image
	captured image.Image // frozen frame (camera orientation); nil: live
	capture  *keyButton
	name     *keyEntry
	email    *keyEntry
	consent  *widget.Check
	enrol    *keyButton
	enrolMsg *widget.Label

	// manual check-in
	search    *keyEntry
	results   *fyne.Container
	hits      []kiosk.StaffPerson
	confirm   *fyne.Container
	confirmQ  *widget.Label
	confirmOK *keyButton
	picked    *kiosk.StaffPerson
	checkMsg  *widget.Label
	close     *keyButton
	settings  *keyButton
}

func newStaffScreen(a *App) *staffScreen {
	s := &staffScreen{}
	tr := a.tr
	title := widget.NewLabel(tr.T("staff.title"))
	title.SizeName = theme.SizeNameHeadingText
	s.count = widget.NewLabel("")
	s.count.SizeName = theme.SizeNameSubHeadingText
	s.count.Importance = widget.HighImportance
	s.close = a.newButton(tr.T("settings.close"), theme.CancelIcon(), a.CloseAdmin)
	s.settings = a.newButton(tr.T("settings.title"), theme.SettingsIcon(), a.OpenSettings)
	top := container.NewBorder(nil, nil, title, container.NewHBox(s.settings, s.close), container.NewCenter(s.count))

	// Enrolment: live preview, capture, fields, consent, result.
	s.preview = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 4, 3)))
	s.preview.FillMode = canvas.ImageFillContain
	s.preview.SetMinSize(fyne.NewSize(400, 300))
	s.capture = a.newButton(tr.T("staff.capture"), theme.MediaPhotoIcon(), func() { a.staffCapture() })
	s.name = a.newEntry(false)
	s.name.SetPlaceHolder(tr.T("staff.name"))
	s.email = a.newEntry(false)
	s.email.SetPlaceHolder(tr.T("staff.email"))
	consentText := widget.NewLabel(tr.T("staff.consent_text"))
	consentText.Wrapping = fyne.TextWrapWord
	s.consent = widget.NewCheck(tr.T("staff.consent"), nil)
	s.enrol = a.newButton(tr.T("staff.enrol"), theme.ConfirmIcon(), func() { a.staffEnrol() })
	s.enrol.Importance = widget.HighImportance
	s.enrolMsg = widget.NewLabel("")
	s.enrolMsg.Wrapping = fyne.TextWrapWord
	left := container.NewBorder(nil, bigButton(s.capture, 400, 70), nil, nil, s.preview)
	form := container.NewVBox(
		widget.NewLabelWithStyle(tr.T("staff.name"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.name,
		widget.NewLabelWithStyle(tr.T("staff.email"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.email,
		consentText, s.consent, bigButton(s.enrol, 320, 70), s.enrolMsg)
	enrolTab := container.NewGridWithColumns(2, left, container.NewVScroll(form))

	// Manual check-in: search, hits, confirm.
	s.search = a.newEntry(false)
	s.search.SetPlaceHolder(tr.T("staff.search"))
	s.search.OnChanged = func(q string) { a.staffSearch(q) }
	s.results = container.NewVBox()
	s.confirmQ = wrapLabel("", theme.SizeNameSubHeadingText, widget.MediumImportance)
	s.confirmOK = a.newButton(tr.T("staff.checkin"), theme.ConfirmIcon(), func() { a.staffCheckIn() })
	s.confirmOK.Importance = widget.HighImportance
	cancel := a.newButton(tr.T("common.cancel"), nil, func() { s.picked = nil; s.confirm.Hide() })
	s.confirm = container.NewVBox(s.confirmQ, container.NewGridWithColumns(2, cancel, s.confirmOK))
	s.confirm.Hide()
	s.checkMsg = widget.NewLabel("")
	s.checkMsg.Wrapping = fyne.TextWrapWord
	checkTab := container.NewBorder(container.NewVBox(s.search, s.confirm, s.checkMsg), nil, nil, nil,
		container.NewVScroll(s.results))

	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(tr.T("staff.tab_enrol"), theme.AccountIcon(), container.NewPadded(enrolTab)),
		container.NewTabItemWithIcon(tr.T("staff.tab_checkin"), theme.SearchIcon(), container.NewPadded(checkTab)),
	)
	s.root = container.NewStack(canvas.NewRectangle(colBackground),
		container.NewPadded(container.NewBorder(top, nil, nil, nil, s.tabs)))
	return s
}

// async runs a call that may block (Staff, Pair) off the UI goroutine
// (tests run it inline).
func (a *App) async(f func()) {
	if a.inline {
		f()
		return
	}
	go f()
}

// OpenStaff shows staff mode without asking for the PIN (the PIN screen
// and the settings pane lead here). Call it on the UI goroutine.
func (a *App) OpenStaff() {
	s := a.staff
	s.captured = nil
	s.capture.SetText(a.tr.T("staff.capture"))
	s.name.SetText("")
	s.email.SetText("")
	s.consent.SetChecked(false)
	s.enrolMsg.SetText("")
	s.search.SetText("")
	s.checkMsg.SetText("")
	s.picked = nil
	s.confirm.Hide()
	if a.opts.Staff == nil {
		s.enrol.Disable()
		s.search.Disable()
		s.enrolMsg.SetText(a.tr.T("staff.unavailable"))
	} else {
		s.enrol.Enable()
		s.search.Enable()
	}
	a.admin = ScreenStaff
	a.render()
	a.refreshCount()
}

// refreshCount reloads today's check-in count.
func (a *App) refreshCount() {
	st := a.opts.Staff
	if st == nil {
		a.staff.count.SetText("")
		return
	}
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), staffTimeout)
		n, err := st.TodayCount(ctx)
		cancel()
		fyne.Do(func() {
			if err != nil {
				a.staff.count.SetText(a.tr.T("staff.count", "?"))
				return
			}
			a.staff.count.SetText(a.tr.T("staff.count", n))
		})
	})
}

// staffFrame shows a live frame in staff mode unless one is captured.
func (a *App) staffFrame(img *image.RGBA) {
	if a.admin != ScreenStaff || a.staff.captured != nil {
		return
	}
	a.staff.preview.Image = img
	a.staff.preview.Refresh()
}

// staffCapture freezes the current camera frame, or goes back to live.
func (a *App) staffCapture() {
	s := a.staff
	if s.captured != nil {
		s.captured = nil
		s.capture.SetText(a.tr.T("staff.capture"))
		return
	}
	var src image.Image
	if a.opts.Frames != nil {
		src = a.opts.Frames()
	}
	if src == nil {
		s.enrolMsg.Importance = widget.DangerImportance
		s.enrolMsg.SetText(a.tr.T("staff.reason.no_photo"))
		return
	}
	s.captured = src
	s.preview.Image = mirrorInto(nil, src)
	s.preview.Refresh()
	s.capture.SetText(a.tr.T("staff.retake"))
}

// staffEnrol sends the captured (or current) frame and the fields.
func (a *App) staffEnrol() {
	s, st := a.staff, a.opts.Staff
	if st == nil {
		return
	}
	if s.captured == nil {
		a.staffCapture()
	}
	frame := s.captured
	name, email, consent := s.name.Text, s.email.Text, s.consent.Checked
	s.enrol.Disable()
	s.enrolMsg.Importance = widget.MediumImportance
	s.enrolMsg.SetText(a.tr.T("staff.working"))
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), staffTimeout)
		res, err := st.Enrol(ctx, frame, name, email, consent)
		cancel()
		fyne.Do(func() {
			s.enrol.Enable()
			if err != nil {
				s.enrolMsg.Importance = widget.DangerImportance
				s.enrolMsg.SetText(a.enrolError(err))
				var rej *kiosk.EnrolRejected
				if errors.As(err, &rej) && frameReason(rej.Reasons) {
					s.captured = nil // retake: the picture was the problem
					s.capture.SetText(a.tr.T("staff.capture"))
				}
				return
			}
			s.enrolMsg.Importance = widget.SuccessImportance
			msg := a.tr.T("staff.enrolled", res.Name)
			if res.Queued {
				msg += "\n" + a.tr.T("staff.queued")
			} else {
				msg += "\n" + a.tr.T("staff.not_paired")
			}
			s.enrolMsg.SetText(msg)
			s.captured = nil
			s.capture.SetText(a.tr.T("staff.capture"))
			s.name.SetText("")
			s.email.SetText("")
			s.consent.SetChecked(false)
		})
	})
}

// frameReason reports whether any reason is about the picture.
func frameReason(rs []string) bool {
	for _, r := range rs {
		switch r {
		case "name", "email", "consent":
		default:
			return true
		}
	}
	return false
}

// enrolError puts an enrolment error in plain words.
func (a *App) enrolError(err error) string {
	var rej *kiosk.EnrolRejected
	if !errors.As(err, &rej) || len(rej.Reasons) == 0 {
		return a.tr.T("staff.enrol_failed", a.errorText("staff: enrol", err))
	}
	msg := a.tr.T("staff.rejected")
	seen := map[string]bool{}
	for _, r := range rej.Reasons {
		key := "staff.reason." + r
		txt := a.tr.T(key)
		if txt == key {
			txt = a.tr.T("staff.reason.other", r)
		}
		if !seen[txt] {
			seen[txt] = true
			msg += "\n• " + txt
		}
	}
	return msg
}

// staffSearch lists the attendees matching q.
func (a *App) staffSearch(q string) {
	s, st := a.staff, a.opts.Staff
	if st == nil {
		return
	}
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), staffTimeout)
		hits, err := st.Search(ctx, q)
		cancel()
		fyne.Do(func() {
			if s.search.Text != q {
				return // typed on since
			}
			s.results.RemoveAll()
			s.hits = hits
			if err != nil {
				s.checkMsg.Importance = widget.DangerImportance
				s.checkMsg.SetText(a.errorText("staff: search", err))
				return
			}
			if len(hits) == 0 && q != "" {
				s.results.Add(widget.NewLabel(a.tr.T("staff.no_hits")))
			}
			for i := range hits {
				p := hits[i]
				label := p.Name
				if p.Info != "" {
					label += " · " + p.Info
				}
				if p.CheckedIn {
					label += "  ✓ " + a.tr.T("staff.already")
				}
				b := a.newButton(label, nil, func() { a.staffPick(p) })
				b.Alignment = widget.ButtonAlignLeading
				s.results.Add(container.NewGridWrap(fyne.NewSize(700, 64), b))
			}
			s.results.Refresh()
		})
	})
}

// staffPick asks to confirm the manual check-in of p.
func (a *App) staffPick(p kiosk.StaffPerson) {
	s := a.staff
	s.picked = &p
	s.confirmQ.SetText(a.tr.T("staff.confirm", p.Name))
	s.checkMsg.SetText("")
	s.confirm.Show()
}

// staffCheckIn checks the picked person in.
func (a *App) staffCheckIn() {
	s, st := a.staff, a.opts.Staff
	if st == nil || s.picked == nil {
		return
	}
	p := *s.picked
	s.confirmOK.Disable()
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), staffTimeout)
		res, err := st.ManualCheckIn(ctx, p.ID, "staff")
		cancel()
		fyne.Do(func() {
			s.confirmOK.Enable()
			s.picked = nil
			s.confirm.Hide()
			switch {
			case err != nil:
				s.checkMsg.Importance = widget.DangerImportance
				s.checkMsg.SetText(a.tr.T("staff.checkin_failed", a.errorText("staff: check-in", err)))
				return
			case res.Outcome == kiosk.OutcomeRepeat:
				s.checkMsg.Importance = widget.WarningImportance
				s.checkMsg.SetText(a.tr.T("staff.checkin_repeat", res.Name))
			default:
				s.checkMsg.Importance = widget.SuccessImportance
				s.checkMsg.SetText(a.tr.T("staff.checkin_done", res.Name))
			}
			a.refreshCount()
			if q := s.search.Text; q != "" {
				a.staffSearch(q) // show the ✓
			}
		})
	})
}

// staffFooterButton is the main screen's way into staff mode.
func newStaffButton(a *App) *keyButton {
	b := a.newButton(a.tr.T("staff.title"), theme.AccountIcon(), a.OpenStaffAdmin)
	b.Importance = widget.LowImportance
	return b
}

// OpenStaffAdmin asks for the admin PIN, then shows staff mode. Call it on
// the UI goroutine.
func (a *App) OpenStaffAdmin() {
	a.OpenAdmin()
	a.afterPIN = ScreenStaff
}
