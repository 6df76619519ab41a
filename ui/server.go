package ui

import (
	"context"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

// pairTimeout bounds one pairing attempt from the window: the request and
// its retries. An admin waits for the answer, so it is short.
const pairTimeout = time.Minute

// serverSection is the settings pane's "Server": who the kiosk is paired
// with, the sync status and, when not paired, pairing by a one-time code
// from the admin dashboard (what --server URL --pair-code CODE does on the
// command line).
type serverSection struct {
	root   *fyne.Container
	status *widget.Label
	form   *fyne.Container // URL, code and Pair: not paired yet
	url    *keyEntry
	code   *keyEntry
	pair   *keyButton
	msg    *widget.Label // pairing progress or what went wrong
}

func newServerSection(a *App) *serverSection {
	s := &serverSection{}
	title := widget.NewLabel(a.tr.T("server.title"))
	title.SizeName = theme.SizeNameSubHeadingText
	title.TextStyle.Bold = true
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.url = a.newEntry(false)
	s.url.SetPlaceHolder("https://checkin.example.org")
	s.code = a.newEntry(false)
	s.code.SetPlaceHolder(a.tr.T("server.code_hint"))
	s.url.OnSubmitted = func(string) { a.focus(s.code) }
	s.code.OnSubmitted = func(string) { a.pairKiosk() }
	s.pair = a.newButton(a.tr.T("server.pair"), theme.LoginIcon(), a.pairKiosk)
	s.pair.Importance = widget.HighImportance
	s.msg = widget.NewLabel("")
	s.msg.Wrapping = fyne.TextWrapWord
	s.msg.Hide()
	bold := func(key string) *widget.Label {
		return widget.NewLabelWithStyle(a.tr.T(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	s.form = container.NewVBox(
		container.NewGridWithColumns(2, container.NewVBox(bold("server.url"), s.url), container.NewVBox(bold("server.code"), s.code)),
		container.NewHBox(bigButton(s.pair, 240, 64)))
	s.root = container.NewVBox(title, s.status, s.form, s.msg)
	s.update(a)
	return s
}

// update shows the pairing and the latest sync status.
func (s *serverSection) update(a *App) {
	tr := a.tr
	var lines []string
	switch {
	case a.sync != nil && (a.sync.State == kiosk.SyncRevoked || a.sync.State == kiosk.SyncEventClosed):
		lines = append(lines, tr.T("server."+a.sync.State))
	case a.pairedWith == "":
		lines = append(lines, tr.T("server.not_paired"))
	default:
		lines = append(lines, tr.T("server.paired", a.pairedWith))
	}
	if st := a.sync; st != nil && a.pairedWith != "" {
		switch {
		case st.State == kiosk.SyncEventClosed: // said above
		case st.Online:
			lines = append(lines, tr.T("server.online", st.Queued, st.Gallery))
		case st.State == api.SyncStarting:
			lines = append(lines, tr.T("server.starting", st.Queued, st.Gallery))
		case st.State == api.SyncDegraded:
			lines = append(lines, tr.T("server.degraded", st.Queued, st.Gallery))
		default:
			lines = append(lines, tr.T("server.offline", st.Queued, st.Gallery))
		}
		if !st.LastSync.IsZero() {
			lines = append(lines, tr.T("server.last_sync", st.LastSync.Local().Format("15:04:05")))
		}
		if st.LastError != "" {
			lines = append(lines, tr.T("server.last_error", st.LastError))
		}
	}
	s.status.SetText(strings.Join(lines, "\n"))
	if a.pairedWith == "" && a.opts.Pair != nil {
		s.form.Show()
	} else {
		s.form.Hide()
	}
}

func (s *serverSection) setMessage(text string, imp widget.Importance) {
	s.msg.Importance = imp
	s.msg.SetText(text)
	if text == "" {
		s.msg.Hide()
	} else {
		s.msg.Show()
	}
}

// pairKiosk is the Pair button: it checks that both fields are filled in
// and the address looks like one, then calls Options.Pair off the UI
// goroutine and says how it went.
func (a *App) pairKiosk() {
	s := a.settings.server
	if a.opts.Pair == nil || a.pairedWith != "" || s.pair.Disabled() {
		return
	}
	server, code := strings.TrimRight(strings.TrimSpace(s.url.Text), "/"), strings.TrimSpace(s.code.Text)
	if server == "" || code == "" {
		s.setMessage(a.tr.T("server.err_empty"), widget.DangerImportance)
		return
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.setMessage(a.tr.T("server.err_url"), widget.DangerImportance)
		return
	}
	s.pair.Disable()
	s.setMessage(a.tr.T("server.pairing"), widget.MediumImportance)
	pair := a.opts.Pair
	a.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), pairTimeout)
		err := pair(ctx, server, code)
		cancel()
		fyne.Do(func() {
			s := a.settings.server // rebuilt if the language changed meanwhile
			s.pair.Enable()
			if err != nil {
				s.setMessage(a.pairError(err, server), widget.DangerImportance)
				return
			}
			a.pairedWith = server
			s.code.SetText("")
			s.setMessage(a.tr.T("server.paired", server), widget.SuccessImportance)
			s.update(a)
			a.pairedEventChanged()
		})
	})
}

// pairError puts a pairing failure in plain words.
func (a *App) pairError(err error, server string) string {
	switch kiosk.ErrorCode(err) {
	case kiosk.EUNAUTHORIZED:
		return a.tr.T("server.err_code")
	case kiosk.EOFFLINE:
		return a.tr.T("server.err_offline", server)
	case kiosk.EPROTOCOL:
		return a.tr.T("server.err_protocol")
	}
	return a.tr.T("server.err_other", a.errorText("pair with "+server, err))
}
