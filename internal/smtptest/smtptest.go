// Package smtptest is an SMTP server for tests: go-smtp on 127.0.0.1 with a
// certificate made for the test, STARTTLS or implicit TLS, AUTH PLAIN only
// over TLS, keeping what it receives; and a MIME reader that takes a
// received e-mail apart as a mail client would. Only tests import it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/base64"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// User and Password are the credentials the server accepts (AUTH PLAIN).
const (
	User     = "mailer"
	Password = "s3cret pass"
)

// Received is one e-mail as the SMTP server got it.
type Received struct {
	From string
	To   []string
	Data []byte
	// TLS and Authed say how the session that delivered it was secured.
	TLS, Authed bool
}

// Server is a running SMTP server; CAFile is the PEM file of its
// certificate, for the client to trust.
type Server struct {
	srv    *smtp.Server
	addr   string
	CAFile string
	mu     sync.Mutex
	mail   []Received
	got    chan struct{}
}

// Start starts an SMTP server on 127.0.0.1: with implicit TLS, or
// plain with STARTTLS offered. It stops with the test.
func Start(t testing.TB, implicit bool) *Server {
	t.Helper()
	cert, caFile := cert(t)
	s := &Server{CAFile: caFile, got: make(chan struct{}, 100)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, c: c}, nil
	}))
	s.srv.Domain = "mail.test"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	if implicit {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		s.srv.Close()
		<-done
	})
	return s
}

// URL is the --smtp URL of the server with the test credentials.
func (s *Server) URL(scheme string) string {
	return fmt.Sprintf("%s://%s:%s@%s", scheme, User, strings.ReplaceAll(Password, " ", "%20"), s.addr)
}

// Wait returns the first n e-mails the server received, failing the test
// when they do not come within a bound far above a normal delivery.
func (s *Server) Wait(t testing.TB, n int) []Received {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		if len(s.mail) >= n {
			out := append([]Received(nil), s.mail[:n]...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("SMTP server got %d e-mails, want %d", s.Count(), n)
		}
	}
}

func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mail)
}

type smtpSession struct {
	s      *Server
	c      *smtp.Conn
	authed bool
	cur    Received
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != User || password != Password {
			return errors.New("invalid username or password")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.cur = Received{From: from}
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, tlsOn := ss.c.TLSConnectionState()
	ss.cur.Data, ss.cur.TLS, ss.cur.Authed = b, tlsOn, ss.authed
	ss.s.mu.Lock()
	ss.s.mail = append(ss.s.mail, ss.cur)
	ss.s.mu.Unlock()
	ss.s.got <- struct{}{}
	return nil
}

func (ss *smtpSession) Reset()        { ss.cur = Received{} }
func (ss *smtpSession) Logout() error { return nil }

// cert makes a self-signed certificate for 127.0.0.1 and writes it as
// the CA file the server is told to trust (--smtp-ca).
func cert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "facecheck test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, caFile
}

// Message is a received e-mail parsed: headers, subject decoded, and its
// leaf parts with their bodies decoded.
type Message struct {
	Header  netmail.Header
	Subject string
	Parts   []Part
}

type Part struct {
	Type   string // media type, e.g. text/plain
	Params map[string]string
	Header map[string][]string
	Body   []byte
	// Parents are the multipart types around the part, outermost first.
	Parents []string
}

// Parse parses a raw message as a mail client would.
func Parse(t testing.TB, raw []byte) Message {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, raw)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	out := Message{Header: m.Header, Subject: subject}
	walkPart(t, map[string][]string(m.Header), m.Body, nil, &out.Parts)
	return out
}

func walkPart(t testing.TB, h map[string][]string, body io.Reader, parents []string, out *[]Part) {
	t.Helper()
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			walkPart(t, p.Header, p, append(append([]string(nil), parents...), mt), out)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // ignores line breaks
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("part %s: %v", mt, err)
	}
	*out = append(*out, Part{Type: mt, Params: params, Header: h, Body: b, Parents: parents})
}

// Part returns the first part of media type mt.
func (m Message) Part(t testing.TB, mt string) Part {
	t.Helper()
	for _, p := range m.Parts {
		if p.Type == mt {
			return p
		}
	}
	var types []string
	for _, p := range m.Parts {
		types = append(types, p.Type)
	}
	t.Fatalf("no %s part; parts: %v", mt, types)
	return Part{}
}
