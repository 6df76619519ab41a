package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/facecheck/facecheck/i18n"
)

//go:embed templates/*
var templateFS embed.FS

// QRCID is the Content-ID of the QR code in the registration e-mail.
const QRCID = "qr@facecheck"

// Registration is what an attendee's e-mail says.
type Registration struct {
	// To is the attendee's address; Lang the language they registered in.
	To, Lang  string
	Name      string
	EventName string
	// ShortCode is the attendee's code for a second check at the kiosk;
	// the QR code encodes it.
	ShortCode string
	// ConfirmURL, when set, is the link that confirms the address (the
	// registration is pending until then); ConfirmExpires is its end.
	ConfirmURL     string
	ConfirmExpires time.Time
	// WithdrawURL opens the attendee's page with the withdraw button;
	// ResendURL asks for this e-mail again.
	WithdrawURL, ResendURL string
}

var (
	textTmpl = texttemplate.Must(texttemplate.New("registration.txt").Funcs(texttemplate.FuncMap{"t": i18n.MustNew(i18n.Default).T}).
			ParseFS(templateFS, "templates/registration.txt"))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("registration.html").Funcs(htmltemplate.FuncMap{"t": i18n.MustNew(i18n.Default).T}).
			ParseFS(templateFS, "templates/registration.html"))
)

// Compose writes r's e-mail in r.Lang (English when the catalogue has no
// such language): the subject, the text, the same in HTML, and the QR code
// of the short code as an inline PNG.
func Compose(r Registration) (*Message, error) {
	p := i18n.MustNew(r.Lang)
	data := struct {
		Registration
		Expires  string
		QRCID    string
		PageLang string
	}{Registration: r, QRCID: QRCID, PageLang: p.Lang()}
	if r.ConfirmURL != "" {
		// With the zone: the attendee may read it far from the server.
		local := r.ConfirmExpires.Local()
		data.Expires = p.DateTime(local) + " (" + local.Format("MST") + ")"
	}
	tt, err := textTmpl.Clone()
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	if err := tt.Funcs(texttemplate.FuncMap{"t": p.T}).Execute(&text, data); err != nil {
		return nil, fmt.Errorf("mail text: %w", err)
	}
	ht, err := htmlTmpl.Clone()
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := ht.Funcs(htmltemplate.FuncMap{"t": p.T}).Execute(&html, data); err != nil {
		return nil, fmt.Errorf("mail html: %w", err)
	}
	png, err := qrcode.Encode(r.ShortCode, qrcode.Medium, 256)
	if err != nil {
		return nil, fmt.Errorf("mail qr code: %w", err)
	}
	subject := p.T("mail.subject.registered", r.EventName)
	if r.ConfirmURL != "" {
		subject = p.T("mail.subject.confirm", r.EventName)
	}
	return &Message{
		To: r.To, Subject: subject, Text: text.String(), HTML: html.String(),
		Inline: []Inline{{CID: QRCID, Name: "qr.png", ContentType: "image/png", Data: png}},
	}, nil
}
