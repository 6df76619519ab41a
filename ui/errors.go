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

// failureText is the last kiosk failure (EventError, EventOutOfOrder) in
// the reader's language with its code, and the code alone; the kiosk's
// English text went to the log when the event came.
func (a *App) failureText() (code, text string) {
	if a.failure == nil {
		return "", ""
	}
	code = a.failure.Code
	if code == "" {
		code = kiosk.EINTERNAL
	}
	return code, a.tr.T("error.with_code", eventCodeText(a.tr, code, a.failure.Args), code)
}

// eventCodeText is the sentence for an Event's code with its Args.
func eventCodeText(tr *Translator, code string, args []int) string {
	if code == kiosk.EINVALID {
		// Its sentence names what to fix, which an event does not carry: the
		// log has it.
		code = kiosk.EINTERNAL
	}
	vals := make([]any, len(args))
	for i, v := range args {
		vals[i] = v
	}
	return tr.T("error.code."+code, vals...)
}
