package kiosk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// Staff mode (issue 5 item 7, issue 6 item 6): walk-up enrolment through
// the registration-photo gates, today's check-in count and manual check-in
// by name. It works offline: an enrolled person is stored in the local
// gallery at once (they can check in on this kiosk straight away) and the
// enrolment is queued in the outbox for the sync worker.

// Walk-up enrolment input errors. The UI tells the person which field to fix.
var (
	ErrConsentRequired = errors.New("kiosk: enrolment needs the person's consent")
	ErrNameRequired    = errors.New("kiosk: enrolment needs a name")
	ErrNameTooLong     = errors.New("kiosk: the name is longer than 200 characters")
	ErrEmailInvalid    = errors.New("kiosk: the e-mail address is not valid")
	ErrNoPhoto         = errors.New("kiosk: no camera picture to enrol")
)

// PhotoEnroller runs a registration photo through the photo gates
// (*engine.Engine). Give Staff its own engine: an Engine is not safe for
// concurrent use and the Runner's machine uses another.
type PhotoEnroller interface {
	EnrolPhoto(engine.Image) (engine.Encoded, error)
}

// StaffOptions configure a Staff service.
type StaffOptions struct {
	DB      *storage.DB
	Engine  PhotoEnroller
	Gallery *engine.Gallery // the gallery the machine searches; enrolled people are added to it
	// Pairing returns the current pairing (nil when not paired): its
	// TemplateKey seals the template queued for the server.
	Pairing func() *Pairing
	// Location defines "today"; nil means time.Local.
	Location *time.Location
	// Clock; nil means time.Now.
	Clock func() time.Time
	// Kick, when set, is called after an enrolment is queued (Syncer.Kick)
	// so it reaches the server without waiting for the next round.
	Kick func()
}

// Staff is the staff-mode service. Its methods are safe for concurrent use;
// Enrol runs one photo at a time.
type Staff struct {
	o  StaffOptions
	mu sync.Mutex // one EnrolPhoto at a time on o.Engine
}

// NewStaff returns a staff service.
func NewStaff(o StaffOptions) (*Staff, error) {
	if o.DB == nil || o.Engine == nil || o.Gallery == nil {
		return nil, errors.New("kiosk: NewStaff needs a database, an engine and a gallery")
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Staff{o: o}, nil
}

// EnrolResult is a successful walk-up enrolment.
type EnrolResult struct {
	AttendeeID string // new UUID, also the id the server stores
	Name       string
	// Queued is true when the enrolment waits in the outbox for the server;
	// false when the kiosk is not paired and it is kept on this kiosk only.
	Queued bool
	// Note says in words where the enrolment went.
	Note string
}

// Not-paired note of EnrolResult.
const NoteNotPaired = "This kiosk is not paired with a server: the person can check in here, but the registration stays on this kiosk only."

// ValidateEnrolment checks the typed fields of a walk-up enrolment and
// returns them trimmed. The e-mail rule matches the server's.
func ValidateEnrolment(name, email string, consent bool) (string, string, error) {
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	if name == "" {
		return name, email, ErrNameRequired
	}
	if utf8.RuneCountInString(name) > 200 {
		return name, email, ErrNameTooLong
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.ContainsAny(email, " <>\"\t\r\n") || len(email) > 254 {
		return name, email, ErrEmailInvalid
	}
	if !consent {
		return name, email, ErrConsentRequired
	}
	return name, email, nil
}

// EnrolRejected is a walk-up enrolment refused for its input, with the
// reasons as codes the UI explains in words: the fields "name", "email",
// "consent", "no_photo", and the photo gates' reasons (engine.Reason:
// "many_faces", "too_small", "blur", …). It wraps the field's error
// (ErrNameRequired, …) or the *engine.RejectedError.
type EnrolRejected struct {
	Reasons []string
	Err     error
}

func (e *EnrolRejected) Error() string {
	return "kiosk: enrolment rejected (" + strings.Join(e.Reasons, ", ") + "): " + e.Err.Error()
}

func (e *EnrolRejected) Unwrap() error { return e.Err }

// fieldReasons are the EnrolRejected reasons of the field errors.
var fieldReasons = map[error]string{
	ErrNameRequired: "name", ErrNameTooLong: "name", ErrEmailInvalid: "email",
	ErrConsentRequired: "consent", ErrNoPhoto: "no_photo",
}

// Enrol registers a walk-up attendee from one camera frame (as the camera
// sees it, not mirrored). The fields are checked first, then the frame
// goes through engine.EnrolPhoto; input that is not good enough returns an
// *EnrolRejected (wrapping ErrNameRequired, ErrEmailInvalid,
// ErrConsentRequired, ErrNoPhoto or the *engine.RejectedError whose Issues
// say why). On success the attendee and their template are stored locally
// and added to the gallery, and, when paired, an api.EnrolRequest sealed
// under the pairing's template key is queued for the sync worker.
func (s *Staff) Enrol(ctx context.Context, frame image.Image, name, email string, consent bool) (EnrolResult, error) {
	name, email, err := ValidateEnrolment(name, email, consent)
	if err != nil {
		return EnrolResult{}, &EnrolRejected{Reasons: []string{fieldReasons[err]}, Err: err}
	}
	if frame == nil {
		return EnrolResult{}, &EnrolRejected{Reasons: []string{"no_photo"}, Err: ErrNoPhoto}
	}
	im := engine.FromImage(frame)
	if !im.Valid() {
		return EnrolResult{}, &EnrolRejected{Reasons: []string{"no_photo"}, Err: ErrNoPhoto}
	}
	s.mu.Lock()
	enc, err := s.o.Engine.EnrolPhoto(im)
	s.mu.Unlock()
	var rej *engine.RejectedError
	if errors.As(err, &rej) {
		r := &EnrolRejected{Err: fmt.Errorf("kiosk: enrol: %w", err)}
		for _, is := range rej.Issues {
			r.Reasons = append(r.Reasons, string(is.Reason))
		}
		return EnrolResult{}, r
	}
	if err != nil {
		return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
	}
	t, err := engine.Quantize(enc.Embedding)
	if err != nil {
		return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
	}
	tpl := api.Template{Model: t.Model, Version: t.Version, Data: t.Bytes()}
	id := uuid.NewString()
	res := EnrolResult{AttendeeID: id, Name: name}

	var req *api.EnrolRequest
	if p := s.pairing(); p != nil && len(p.TemplateKey) > 0 {
		sealed, err := api.SealTemplate(p.TemplateKey, id, tpl)
		if err != nil {
			return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
		}
		req = &api.EnrolRequest{ID: id, Name: name, Email: email, Consent: true, Template: sealed}
	}
	// Local first (so the person can check in at once), then the outbox;
	// a failed queue takes the local copy back out, so nothing is
	// half-registered.
	if err := s.o.DB.UpsertAttendee(ctx, storage.Attendee{ID: id, Name: name}, []api.Template{tpl}); err != nil {
		return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
	}
	if req != nil {
		if _, err := s.o.DB.QueueEnrolment(ctx, *req); err != nil {
			if derr := s.o.DB.DeleteAttendee(context.WithoutCancel(ctx), id); derr != nil {
				err = errors.Join(err, derr)
			}
			return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
		}
		res.Queued = true
		res.Note = "Registered. It will reach the server with the next sync."
	} else {
		res.Note = NoteNotPaired
		if err := s.o.DB.Audit(ctx, "kiosk", "enrol.local", fmt.Sprintf("walk-up enrolment %s kept on this kiosk only (not paired; consent given)", id)); err != nil {
			return EnrolResult{}, fmt.Errorf("kiosk: enrol: %w", err)
		}
	}
	if err := s.o.Gallery.Replace(id, t); err != nil {
		return EnrolResult{}, fmt.Errorf("kiosk: enrol: gallery: %w", err)
	}
	if res.Queued && s.o.Kick != nil {
		s.o.Kick()
	}
	return res, nil
}

func (s *Staff) pairing() *Pairing {
	if s.o.Pairing == nil {
		return nil
	}
	return s.o.Pairing()
}

// Paired reports whether enrolments go to a server.
func (s *Staff) Paired() bool {
	p := s.pairing()
	return p != nil && len(p.TemplateKey) > 0
}

func (s *Staff) today() time.Time {
	y, mo, d := s.o.Clock().In(s.o.Location).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, s.o.Location)
}

// TodayCount is the number of check-ins recorded on this kiosk today.
func (s *Staff) TodayCount(ctx context.Context) (int, error) {
	return s.o.DB.CountCheckIns(ctx, s.today())
}

// StaffPerson is a search hit for manual check-in.
type StaffPerson struct {
	ID        string
	Name      string
	Info      string
	CheckedIn bool // already checked in today
}

// Search returns up to 20 attendees whose name contains q (names starting
// with it first), each with whether they checked in today.
func (s *Staff) Search(ctx context.Context, q string) ([]StaffPerson, error) {
	as, err := s.o.DB.SearchAttendees(ctx, q, 20)
	if err != nil {
		return nil, err
	}
	since := s.today()
	out := make([]StaffPerson, 0, len(as))
	for _, a := range as {
		done, err := s.o.DB.HasCheckedIn(ctx, a.ID, since)
		if err != nil {
			return nil, err
		}
		out = append(out, StaffPerson{ID: a.ID, Name: a.Name, Info: a.Info, CheckedIn: done})
	}
	return out, nil
}

// ManualCheckIn checks attendeeID in by hand (method manual), noting actor
// in the audit log. Someone already checked in today gets OutcomeRepeat and
// nothing is recorded. An unknown id returns storage.ErrNotFound.
func (s *Staff) ManualCheckIn(ctx context.Context, attendeeID, actor string) (Result, error) {
	if actor == "" {
		actor = "staff"
	}
	at, err := s.o.DB.FindAttendee(ctx, attendeeID)
	if err != nil {
		return Result{}, fmt.Errorf("kiosk: manual check-in: %w", err)
	}
	r := Result{Outcome: OutcomeCheckedIn, AttendeeID: at.ID, Name: at.Name, Info: at.Info, Method: api.MethodManual}
	repeat, err := s.o.DB.HasCheckedIn(ctx, at.ID, s.today())
	if err != nil {
		return Result{}, fmt.Errorf("kiosk: manual check-in: %w", err)
	}
	if repeat {
		r.Outcome = OutcomeRepeat
		return r, nil
	}
	r.CheckInID = uuid.NewString()
	if _, err := s.o.DB.RecordCheckIn(ctx, api.CheckIn{ID: r.CheckInID, AttendeeID: at.ID, Method: api.MethodManual,
		At: s.o.Clock()}); err != nil {
		return Result{}, fmt.Errorf("kiosk: manual check-in: %w", err)
	}
	if err := s.o.DB.Audit(ctx, actor, "checkin.manual", fmt.Sprintf("check-in %s of attendee %s (%s) by hand", r.CheckInID, at.ID, at.Name)); err != nil {
		return r, fmt.Errorf("kiosk: manual check-in recorded, audit failed: %w", err)
	}
	return r, nil
}
