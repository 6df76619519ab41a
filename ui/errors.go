package ui

import (
	"fyne.io/fyne/v2"

	"github.com/facecheck/facecheck/kiosk"
)

// errorText is what a person at the kiosk reads about err: the sentence
// for its code (kiosk.ErrorCode) in their language, and the code, which
// staff can look up in the log; for input that was refused, the kiosk's
// message saying what to fix. The error's own text goes to the log only,
// under where.
func (a *App) errorText(where string, err error) string { return errorText(a.tr, where, err) }

func errorText(tr *Translator, where string, err error) string {
	fyne.LogError("ui: "+where, err)
	code := kiosk.ErrorCode(err)
	text := tr.T("error.code." + code)
	if msg := kiosk.ErrorMessage(err); code == kiosk.EINVALID && msg != "" {
		text = tr.T("error.code.invalid", msg)
	}
	return tr.T("error.with_code", text, code)
}
