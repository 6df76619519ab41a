// Package mail sends the server's e-mail and writes the one e-mail it
// sends: an attendee's registration (the link that confirms their address,
// their QR code and short code, the withdraw link) in the language they
// registered in, as text and HTML with the QR code inline. Sending goes
// through go-mail: STARTTLS (smtp://, port 587 or 25) or implicit TLS
// (smtps://, port 465), SMTP AUTH when the URL carries a user. Queueing
// and retries are the server's (its outbox); this package sends one
// message when asked.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config says how to reach the SMTP server.
type Config struct {
	// URL is smtp://[user:password@]host[:port] (STARTTLS, port 587 by
	// default; required except to a loopback host) or smtps://… (TLS from
	// the first byte, port 465 by default).
	URL string
	// From is the sender, "Name <address>" or an address; empty takes the
	// URL's user when it is an address.
	From string
	// CAFile is a PEM file of CA certificates to trust besides the
	// system's (an SMTP server with a private CA).
	CAFile string
	// Timeout bounds one connection (dial, TLS, AUTH, data); 0: 30 s.
	Timeout time.Duration
}

// Sender sends messages over SMTP. It is safe for concurrent use; each
// Send is one connection.
type Sender struct {
	host     string
	port     int
	implicit bool
	policy   gomail.TLSPolicy
	user     string
	password string
	from     *netmail.Address
	tls      *tls.Config
	timeout  time.Duration
}

// New checks cfg and returns its Sender; it does not connect.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("smtp: %q is not an smtp://host[:port] or smtps://host[:port] URL", redactURL(cfg.URL))
	}
	s := &Sender{host: u.Hostname(), timeout: cfg.Timeout}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	switch u.Scheme {
	case "smtp":
		s.port, s.policy = 587, gomail.TLSMandatory
		if loopback(s.host) {
			// A relay on this machine: nothing to eavesdrop on the way.
			s.policy = gomail.TLSOpportunistic
		}
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("smtp: scheme %q: want smtp:// (STARTTLS) or smtps:// (implicit TLS)", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("smtp: bad port %q", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}
	from := cfg.From
	if from == "" && strings.Contains(s.user, "@") {
		from = s.user
	}
	if from == "" {
		return nil, errors.New("smtp: no sender: give --smtp-from (e.g. \"DevDay <checkin@example.org>\")")
	}
	if s.from, err = netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", from, err)
	}
	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		s.tls.RootCAs = pool
	}
	return s, nil
}

// Addr is the SMTP server's host:port and how the connection is secured,
// for the start-up line (no credentials).
func (s *Sender) Addr() string {
	mode := "STARTTLS"
	switch {
	case s.implicit:
		mode = "TLS"
	case s.policy == gomail.TLSOpportunistic:
		mode = "STARTTLS if offered"
	}
	return net.JoinHostPort(s.host, strconv.Itoa(s.port)) + " (" + mode + ")"
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL drops the password from an SMTP URL for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Inline is an image the HTML part refers to as cid:CID.
type Inline struct {
	CID, Name, ContentType string
	Data                   []byte
}

// Message is one e-mail: a text part, an HTML alternative and inline
// images.
type Message struct {
	To         string
	Subject    string
	Text, HTML string
	Inline     []Inline
}

// Send delivers m in one SMTP session.
func (s *Sender) Send(ctx context.Context, m *Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(s.timeout), gomail.WithTLSConfig(s.tls),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.policy))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr(), err)
	}
	return nil
}

// build turns m into a go-mail message: multipart/related (HTML and its
// images) inside multipart/alternative with the text first.
func (s *Sender) build(m *Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return nil, fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageID()
	msg.SetDate()
	// RFC 3834: replies from vacation responders are not wanted.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	for _, in := range m.Inline {
		if err := msg.EmbedReader(in.Name, strings.NewReader(string(in.Data)),
			gomail.WithFileContentID("<"+in.CID+">"), gomail.WithFileContentType(gomail.ContentType(in.ContentType))); err != nil {
			return nil, fmt.Errorf("mail inline %s: %w", in.Name, err)
		}
	}
	return msg, nil
}

// Permanent reports whether err is the SMTP server refusing this
// recipient or this message for good (a 5xx to RCPT TO or DATA: no such
// mailbox, message refused). Anything else — no connection, TLS, a wrong
// password, a 4xx — may pass on a later try.
func Permanent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.IsTemp() || se.ErrorCode() < 500 {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		return true
	}
	return false
}

// Redact shortens an address for logs and error texts: "a…@example.org".
func Redact(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "…"
	}
	r := []rune(addr[:at])
	return string(r[0]) + "…" + addr[at:]
}
