package kiosk

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
)

// ErrInsecureURL refuses a server address that would send the kiosk's
// token, the event key and the gallery in clear: plain http:// to another
// machine. Loopback (127.0.0.0/8, ::1, localhost) stays allowed, for a
// server on the same machine and for tests.
var ErrInsecureURL = errors.New("kiosk: the server address must start with https:// (plain http:// only to this machine): the pairing answer carries the kiosk's token and the event key")

// ErrCertificate: the server's TLS certificate is not trusted (a private
// CA the kiosk was not given with --ca, an expired or wrong-host
// certificate). Retrying does not help.
var ErrCertificate = errors.New("kiosk: the server's certificate is not trusted: give the kiosk the CA that signed it (--ca FILE) or fix the server's certificate")

// checkServerURL parses a server address and returns it without a
// trailing slash. It must be https://host[:port], or http:// to loopback.
func checkServerURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", Errorf(EINVALID, "server URL %q: want https://host[:port]", raw)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%w (%s)", ErrInsecureURL, u.Redacted())
	}
	return u.String(), nil
}

// loopbackHost reports whether host names this machine: localhost, or a
// loopback IP.
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxCAFile bounds the --ca file: a bundle of a few certificates.
const maxCAFile = 1 << 20

// LoadCA returns the system's trusted roots plus the PEM certificates in
// path (a private CA that signed the server's certificate). It fails when
// the file holds no certificate.
func LoadCA(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kiosk: --ca: %w", err)
	}
	defer f.Close()
	pem, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("kiosk: --ca %s: %w", path, err)
	}
	if len(pem) > maxCAFile {
		return nil, fmt.Errorf("kiosk: --ca %s: larger than %d bytes", path, maxCAFile)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kiosk: --ca %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// tlsConfig is the kiosk's TLS client configuration: TLS 1.2 or later,
// the roots of caFile when given (else the system's).
func tlsConfig(caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := LoadCA(caFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	return c, nil
}

// certError reports whether err is a failed verification of the server's
// certificate.
func certError(err error) bool {
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
