package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/facecheck/facecheck/server/mail"
	"github.com/facecheck/facecheck/server/store"
)

// mailPayload is what the outbox keeps for one registration e-mail,
// sealed with the server key (store.IssueLinks): the address, the
// language and the links' tokens. The short code and the event's name are
// read when the e-mail is written, so a restart sends what is current.
type mailPayload struct {
	To             string    `json:"to"`
	Lang           string    `json:"lang"`
	ManageToken    string    `json:"manage"`
	ConfirmToken   string    `json:"confirm,omitempty"`
	ConfirmExpires time.Time `json:"expires,omitzero"`
}

// mailOn reports whether the server sends e-mail (--smtp).
func (s *Server) mailOn() bool { return s.mailer != nil }

// queueRegistrationMail gives the attendee new links (a confirmation link
// when they are pending) and queues their e-mail in lang; the mail loop
// sends it. It returns the links for the page shown next.
func (s *Server) queueRegistrationMail(ctx context.Context, a *store.Attendee, to, lang string) (store.Links, error) {
	l, err := s.store.IssueLinks(ctx, a.ID, s.cfg.ConfirmTTL, func(l store.Links) ([]byte, error) {
		return json.Marshal(mailPayload{To: to, Lang: lang, ManageToken: l.ManageToken,
			ConfirmToken: l.ConfirmToken, ConfirmExpires: l.ConfirmExpires})
	})
	if err != nil {
		return l, err
	}
	s.metrics.inc("facecheck_mail_queued_total")
	select {
	case s.mailWake <- struct{}{}:
	default:
	}
	return l, nil
}

// mailLoop sends the outbox: at start (mail a previous run left), when
// woken by a new e-mail, and every MailPoll for retries that fell due.
func (s *Server) mailLoop() {
	defer s.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	tick := time.NewTicker(s.cfg.MailPoll)
	defer tick.Stop()
	for {
		s.sendDueMail(ctx)
		select {
		case <-s.done:
			return
		case <-s.mailWake:
		case <-tick.C:
		}
	}
}

// sendDueMail sends the e-mails that are due, at most one per MailEvery,
// until none is left or the server stops.
func (s *Server) sendDueMail(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := s.store.DueMail(ctx, 20)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Error("mail outbox", "err", err)
			}
			return
		}
		if len(due) == 0 {
			return
		}
		for _, m := range due {
			if ctx.Err() != nil {
				return
			}
			s.sendOne(ctx, m)
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.MailEvery):
			}
		}
	}
}

// sendOne tries one e-mail and records the outcome. Logs name the
// attendee's id, never the address or the code.
func (s *Server) sendOne(ctx context.Context, m store.OutboxMail) {
	log := s.logger.With("mail", m.ID, "attendee", m.AttendeeID)
	drop := func(why string) {
		if err := s.store.DropMail(ctx, m.ID); err != nil {
			log.Error("mail outbox: drop", "err", err)
		}
		log.Warn("mail dropped", "why", why)
		s.metrics.inc("facecheck_mail_dropped_total")
	}
	if m.OpenErr != nil {
		drop("sealed with another server key")
		return
	}
	var p mailPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		drop("unreadable payload")
		return
	}
	msg, err := s.composeRegistration(ctx, m, p)
	if errors.Is(err, store.ErrNotFound) {
		drop("attendee or event gone")
		return
	}
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = s.mailer.Send(sendCtx, msg)
		cancel()
	}
	if err == nil {
		if err := s.store.MailSent(ctx, m.ID); err != nil {
			log.Error("mail outbox: sent", "err", err)
		}
		log.Info("mail sent", "attempts", m.Attempts+1)
		s.metrics.inc("facecheck_mail_sent_total")
		return
	}
	if ctx.Err() != nil {
		return // stopping: the e-mail stays due for the next start
	}
	text := strings.ReplaceAll(err.Error(), p.To, mail.Redact(p.To))
	if mail.Permanent(err) || m.Attempts+1 >= s.cfg.MailRetries {
		log.Error("mail failed for good", "attempts", m.Attempts+1, "err", text)
		drop("refused or out of retries")
		return
	}
	next := s.now().Add(mailBackoff(s.cfg.MailBackoff, m.Attempts))
	if err := s.store.MailFailed(ctx, m.ID, next, text); err != nil {
		log.Error("mail outbox: record failure", "err", err)
	}
	log.Warn("mail not sent, will retry", "attempts", m.Attempts+1, "next", next, "err", text)
	s.metrics.inc("facecheck_mail_retries_total")
}

// mailBackoff is the wait after the n-th failed attempt (0-based): base,
// doubled each time, at most an hour.
func mailBackoff(base time.Duration, n int) time.Duration {
	d := base
	for range n {
		if d >= time.Hour/2 {
			return time.Hour
		}
		d *= 2
	}
	return min(d, time.Hour)
}

// composeRegistration writes the e-mail of an outbox entry: the links from
// the public URL, the short code and event name as they are now.
// ErrNotFound when the attendee or event no longer exists.
func (s *Server) composeRegistration(ctx context.Context, m store.OutboxMail, p mailPayload) (*mail.Message, error) {
	ev, err := s.store.FindEventByID(ctx, m.EventID)
	if err != nil {
		return nil, err
	}
	a, err := s.store.FindAttendeeByID(ctx, m.AttendeeID)
	if err != nil {
		return nil, err
	}
	if a.DeletedAt != nil || a.EventID != ev.ID {
		return nil, store.ErrNotFound
	}
	code, err := s.store.ShortCode(ctx, ev, a.ID)
	if err != nil {
		return nil, err
	}
	base := s.PublicURL()
	r := mail.Registration{
		To: p.To, Lang: p.Lang, Name: a.Name, EventName: ev.Name, ShortCode: code,
		WithdrawURL: base + registeredPath(ev.ID, a.ID, p.ManageToken) + "&lang=" + url.QueryEscape(p.Lang),
		ResendURL:   base + resendPath(ev.ID) + "?lang=" + url.QueryEscape(p.Lang),
	}
	if p.ConfirmToken != "" {
		r.ConfirmURL = base + confirmPath(ev.ID, p.ConfirmToken) + "&lang=" + url.QueryEscape(p.Lang)
		r.ConfirmExpires = p.ConfirmExpires
	}
	msg, err := mail.Compose(r)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return msg, nil
}
