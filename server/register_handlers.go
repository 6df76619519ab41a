package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/color"
	_ "image/jpeg" // registration photos
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/skip2/go-qrcode"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// Photo limits beyond the byte size: smaller than minPhotoSide cannot hold
// a usable face; more than maxPhotoPixels is a decompression bomb.
const (
	minPhotoSide   = 64
	maxPhotoPixels = 40_000_000
)

type registerPage struct {
	EventID, EventName string
	Action             string
	Name, Email        string
	Consent            bool
	// CaptureAllowed shows the optional second consent (the event keeps
	// check-in captures as templates); CaptureConsent is its state.
	CaptureAllowed, CaptureConsent bool
	Error                          string
	Reason                         string // rejection reason code, for tests and styling
	MaxMB                          int64
	// EventLang is the event's default language (settingLanguage).
	EventLang string
	// ResendPath, with an error, links the page that sends the
	// registration e-mail again (the address is taken).
	ResendPath string
}

func (p registerPage) eventLanguage() string { return p.EventLang }

func (s *Server) registerEvent(w http.ResponseWriter, r *http.Request) (*store.Event, bool) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("event"))
	if errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, http.StatusNotFound, "web.err.no_event")
		return nil, false
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return nil, false
	}
	return ev, true
}

func (s *Server) newRegisterPage(r *http.Request, ev *store.Event) registerPage {
	return registerPage{EventID: ev.ID, EventName: ev.Name, Action: r.URL.Path, MaxMB: s.cfg.MaxUploadBytes >> 20,
		CaptureAllowed: ev.Settings[api.SettingCaptureTemplates] == "true", EventLang: ev.Settings[settingLanguage]}
}

// handleRegisterPage shows the registration form.
func (s *Server) handleRegisterPage(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "register.html", s.newRegisterPage(r, ev))
}

// registration is a submitted registration form.
type registration struct {
	name, email    string
	consent        bool
	captureConsent bool
	photo          []byte
}

// readRegistration streams the multipart form, keeping the photo in memory
// up to MaxUploadBytes and nothing on disk.
func (s *Server) readRegistration(w http.ResponseWriter, r *http.Request) (registration, error) {
	var reg registration
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return reg, errorf(http.StatusBadRequest, "invalid_form", "The form could not be read. Please try again.")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return reg, nil
		}
		if err != nil {
			return reg, formError(err)
		}
		switch p.FormName() {
		case "name":
			reg.name, err = readField(p)
		case "email":
			reg.email, err = readField(p)
		case "consent":
			var v string
			v, err = readField(p)
			reg.consent = v == "yes"
		case "capture_consent":
			var v string
			v, err = readField(p)
			reg.captureConsent = v == "yes"
		case "photo":
			reg.photo, err = io.ReadAll(io.LimitReader(p, s.cfg.MaxUploadBytes+1))
			if err == nil && int64(len(reg.photo)) > s.cfg.MaxUploadBytes {
				return reg, &Rejection{Reason: ReasonTooLarge}
			}
		default:
			_, err = io.Copy(io.Discard, p)
		}
		if err != nil {
			return reg, formError(err)
		}
	}
}

func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Rejection{Reason: ReasonTooLarge}
	}
	return errorf(http.StatusBadRequest, "invalid_form", "The form could not be read. Please try again.")
}

func readField(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, 4<<10))
	return normText(string(b)), err
}

// checkPhoto verifies by content, not by name or declared type, that the
// upload is a JPEG or PNG of sensible dimensions.
func checkPhoto(b []byte) error {
	if ct := http.DetectContentType(b); ct != "image/jpeg" && ct != "image/png" {
		return &Rejection{Reason: ReasonNotAnImage, Detail: "sniffed " + ct}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return &Rejection{Reason: ReasonNotAnImage, Detail: err.Error()}
	}
	if cfg.Width < minPhotoSide || cfg.Height < minPhotoSide {
		return &Rejection{Reason: ReasonTooSmall, Detail: fmt.Sprintf("%dx%d", cfg.Width, cfg.Height)}
	}
	if cfg.Width*cfg.Height > maxPhotoPixels {
		return &Rejection{Reason: ReasonTooLarge, Detail: fmt.Sprintf("%dx%d", cfg.Width, cfg.Height)}
	}
	switch cfg.ColorModel {
	case color.Gray16Model, color.RGBA64Model, color.NRGBA64Model, color.Alpha16Model:
		// Twice the memory per pixel, and no camera takes selfies that way.
		return &Rejection{Reason: ReasonTooLarge, Detail: fmt.Sprintf("%dx%d at 16 bits per channel", cfg.Width, cfg.Height)}
	}
	return nil
}

// handleRegister enrols an attendee from the form: the photo is checked,
// encoded by the FaceEncoder and dropped; only the template is stored.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return
	}
	page := s.newRegisterPage(r, ev)
	if ok, wait := s.registerRate.take(clientIP(r)); !ok {
		s.metrics.inc("facecheck_rate_limited_total", "what", "registration")
		w.Header().Set("Retry-After", retryAfter(wait))
		page.Error = "web.err.too_many_registrations"
		s.render(w, r, http.StatusTooManyRequests, "register.html", page)
		return
	}
	fail := func(status int, msg, reason string) {
		page.Error, page.Reason = msg, reason
		if reason != "" {
			s.metrics.inc("facecheck_rejected_photos_total", "reason", reason)
		}
		s.render(w, r, status, "register.html", page)
	}
	reg, err := s.readRegistration(w, r)
	page.Name, page.Email, page.Consent, page.CaptureConsent = reg.name, reg.email, reg.consent, reg.captureConsent
	var rej *Rejection
	var e *Error
	switch {
	case errors.As(err, &rej):
		fail(http.StatusRequestEntityTooLarge, rejectionKey(rej.Reason), rej.Reason)
		return
	case errors.As(err, &e):
		fail(e.Status, errMessage(e), "")
		return
	case err != nil:
		s.renderInternal(w, r, err)
		return
	}
	if err := checkText("name", reg.name, 1, 200); err != nil {
		fail(http.StatusUnprocessableEntity, "web.err.name", "")
		return
	}
	if reg.email == "" || checkEmail(reg.email, true) != nil {
		fail(http.StatusUnprocessableEntity, "web.err.email", "")
		return
	}
	if !reg.consent {
		fail(http.StatusUnprocessableEntity, "web.err.consent", "")
		return
	}
	if len(reg.photo) == 0 {
		fail(http.StatusUnprocessableEntity, "web.err.no_photo", "")
		return
	}
	if err := checkPhoto(reg.photo); err != nil {
		errors.As(err, &rej)
		fail(http.StatusUnprocessableEntity, rejectionKey(rej.Reason), rej.Reason)
		return
	}
	if s.encoder == nil {
		fail(http.StatusServiceUnavailable, "web.err.unavailable", "")
		return
	}
	t, err := s.encoder.Encode(r.Context(), reg.photo)
	if errors.As(err, &rej) {
		s.logger.Info("photo rejected", "event", ev.ID, "reason", rej.Reason, "detail", rej.Detail)
		fail(http.StatusUnprocessableEntity, rejectionKey(rej.Reason), rej.Reason)
		return
	}
	if err != nil {
		s.renderInternal(w, r, fmt.Errorf("encode photo: %w", err))
		return
	}
	if _, err := newVector(t); err != nil {
		s.renderInternal(w, r, fmt.Errorf("encoder returned a bad template: %w", err))
		return
	}
	// With e-mail, the event may make the registration wait until the
	// attendee opens the link mailed to them (confirm_handlers.go).
	pending := false
	if s.mailOn() {
		if pending, err = s.store.EventConfirmsEmail(r.Context(), ev.ID); err != nil {
			s.renderInternal(w, r, err)
			return
		}
	}
	create := store.AttendeeCreate{
		EventID: ev.ID, Name: reg.name, Email: reg.email, Consent: true, Source: store.SourceWeb, Templates: []api.Template{t},
		CaptureConsent: reg.captureConsent && page.CaptureAllowed, Pending: pending,
	}
	res, err := s.store.CreateAttendee(r.Context(), create)
	if errors.Is(err, store.ErrConflict) && s.mailOn() {
		// A registration with this address that was never confirmed in
		// time (perhaps someone else typed it) gives way.
		released, rerr := s.store.ReleaseExpiredPending(r.Context(), ev.ID, reg.email)
		if rerr != nil {
			s.renderInternal(w, r, rerr)
			return
		}
		if released {
			res, err = s.store.CreateAttendee(r.Context(), create)
		}
	}
	if errors.Is(err, store.ErrConflict) {
		if s.mailOn() {
			// The address's owner gets the withdraw link by e-mail.
			page.ResendPath = resendPath(ev.ID)
			fail(http.StatusConflict, "web.err.conflict_mail", "")
			return
		}
		fail(http.StatusConflict, "web.err.conflict", "")
		return
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.metrics.inc("facecheck_enrolments_total", "source", store.SourceWeb)
	s.audit(r, "attendee:"+res.Attendee.ID, "attendee.register", res.Attendee.ID, "event "+ev.ID)
	token := res.ManageToken
	if s.mailOn() {
		l, err := s.queueRegistrationMail(r.Context(), res.Attendee, res.Attendee.Email, s.pageLang(w, r, page.EventLang))
		if err != nil {
			s.renderInternal(w, r, err)
			return
		}
		token = l.ManageToken
	}
	s.hub.publish(ev.ID)
	if pending {
		http.Redirect(w, r, sentPath(ev.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, registeredPath(ev.ID, res.Attendee.ID, token), http.StatusSeeOther)
}

func registeredPath(eventID, attendeeID, token string) string {
	return "/register/" + url.PathEscape(eventID) + "/me/" + url.PathEscape(attendeeID) + "?t=" + url.QueryEscape(token)
}

type registeredPage struct {
	EventName    string
	Name         string
	ShortCode    string
	QR           template.URL
	WithdrawPath string
	Token        string
	EventLang    string
	// Pending: the attendee has not confirmed their address yet.
	Pending bool
}

func (p registeredPage) eventLanguage() string { return p.EventLang }

// manageAttendee checks the attendee's link token and that the attendee
// belongs to the event in the path.
func (s *Server) manageAttendee(w http.ResponseWriter, r *http.Request, token string) (*store.Event, *store.Attendee, bool) {
	ev, ok := s.registerEvent(w, r)
	if !ok {
		return nil, nil, false
	}
	a, err := s.store.CheckManageToken(r.Context(), r.PathValue("attendee"), token)
	if errors.Is(err, store.ErrInvalidCredentials) || err == nil && a.EventID != ev.ID {
		s.renderError(w, r, http.StatusNotFound, "web.err.bad_link")
		return nil, nil, false
	}
	if err != nil {
		s.renderInternal(w, r, err)
		return nil, nil, false
	}
	return ev, a, true
}

// handleRegisteredPage is the confirmation page: short code, its QR code
// for second verification at the kiosk, and the withdraw button.
func (s *Server) handleRegisteredPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	ev, a, ok := s.manageAttendee(w, r, token)
	if !ok {
		return
	}
	code, err := s.store.ShortCode(r.Context(), ev, a.ID)
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	png, err := qrcode.Encode(code, qrcode.Medium, 256)
	if err != nil {
		s.renderInternal(w, r, fmt.Errorf("qr code: %w", err))
		return
	}
	pending, err := s.store.AttendeePending(r.Context(), a.ID)
	if err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "registered.html", registeredPage{
		Pending:   pending,
		EventName: ev.Name, Name: a.Name, ShortCode: code,
		QR:           template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		WithdrawPath: "/register/" + url.PathEscape(ev.ID) + "/me/" + url.PathEscape(a.ID) + "/delete",
		Token:        token, EventLang: ev.Settings[settingLanguage],
	})
}

// handleWithdraw deletes the attendee's data: the template goes at once,
// kiosks drop it on their next sync.
func (s *Server) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ev, a, ok := s.manageAttendee(w, r, r.PostFormValue("t"))
	if !ok {
		return
	}
	if _, err := s.deleteAttendee(r, "attendee:"+a.ID, a.ID); err != nil {
		s.renderInternal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "message.html", messagePage{
		Title: "web.withdrawn.title", Message: "web.withdrawn.message", Args: []any{ev.Name},
		Status: http.StatusOK, EventLang: ev.Settings[settingLanguage],
	})
}
