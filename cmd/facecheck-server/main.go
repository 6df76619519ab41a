// Command facecheck-server is the central facecheck server: kiosk API,
// registration page and admin dashboard (see package server).
//
//	facecheck-server --addr 127.0.0.1:8080 --data DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/facecheck/facecheck/internal/version"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version" || os.Args[1] == "version") {
		fmt.Println("facecheck-server", version.Get())
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "models" {
		os.Exit(runModels(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "loadtest" {
		os.Exit(runLoadtest(ctx, os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		os.Exit(runAdmin(ctx, os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	m := NewMain()
	if err := m.ParseFlags(ctx, os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // asked for help and got it
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	<-ctx.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Main is the program: flags, wiring, nothing else.
type Main struct {
	Config server.Config
	// DataDir holds the SQLite database and the server key file.
	DataDir string
	// DSN is a postgres:// URL; empty means SQLite in DataDir.
	DSN string
	// KeyFile holds the server key; empty means server.key in DataDir.
	// Keep it elsewhere (another disk, a secrets mount) so a copy of the
	// data folder is not a copy of every template.
	KeyFile string
	// AdminUser and AdminPassword create the first admin on first start; an
	// empty password is generated and written to AdminPasswordFile in
	// DataDir (0600), never to the terminal or the command line.
	AdminUser, AdminPassword string
	// EventName names the event created on first start.
	EventName string

	// Encoder turns registration photos into templates. Set it before Run
	// (the engine-backed implementation); nil disables photo registration.
	Encoder server.FaceEncoder
	// ModelDir holds the ONNX models (default: facecheck's model cache);
	// Engines is how many registrations are encoded at once.
	ModelDir string
	Engines  int
	// NoEngine leaves Encoder nil instead of loading the models.
	NoEngine bool
	engines  *engineEncoder

	Stdout io.Writer
	Logger *slog.Logger

	DB     *store.DB
	Server *server.Server
}

// NewMain returns a Main with default settings.
func NewMain() *Main {
	return &Main{
		Config:    server.DefaultConfig(),
		DataDir:   defaultDataDir(),
		AdminUser: "admin",
		EventName: "My event",
		Engines:   2,
		Stdout:    os.Stdout,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "facecheck-server")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "facecheck-server")
	}
	return "facecheck-data"
}

const serverUsage = `facecheck-server — the central server: kiosk API, registration pages, admin dashboard

usage:
  facecheck-server --data DIR [--db postgres://…] [--addr :8443 --tls-cert F --tls-key F] [flags]
  facecheck-server models fetch|verify [--dir DIR]   get or check the face models (registration needs them)
  facecheck-server loadtest [flags]                  drive a running server with simulated kiosks (loadtest --help)
  facecheck-server admin reset-password              set a new admin password, read from standard input
  facecheck-server --version

flags:
`

// AdminPasswordFile is where a first start leaves the generated password.
const AdminPasswordFile = "admin-password.txt"

// ParseFlags reads the command line; FACECHECK_ADMIN_PASSWORD may supply the
// first admin's password (a flag would show in ps).
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("facecheck-server", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serverUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&m.Config.Addr, "addr", m.Config.Addr, "listen address")
	fs.StringVar(&m.Config.MetricsAddr, "metrics-addr", "", "also serve /metrics without log-in on this address (e.g. 127.0.0.1:9100); on --addr it needs an admin session")
	fs.StringVar(&m.DataDir, "data", m.DataDir, "data directory (SQLite database, server key)")
	fs.StringVar(&m.DSN, "db", "", "PostgreSQL URL (postgres://...); default SQLite in --data")
	fs.StringVar(&m.KeyFile, "key-file", os.Getenv("FACECHECK_SERVER_KEY_FILE"), "server key file, 0600 (or FACECHECK_SERVER_KEY_FILE; default server.key in --data)")
	fs.StringVar(&m.Config.PublicURL, "public-url", os.Getenv("FACECHECK_PUBLIC_URL"), "the address attendees and kiosks use, e.g. https://checkin.example.org: the base of every link the server builds, in e-mails too (or FACECHECK_PUBLIC_URL)")
	fs.StringVar(&m.Config.Mail.URL, "smtp", os.Getenv("FACECHECK_SMTP"), "send attendees their registration e-mail through this SMTP server: smtp://user:password@host:587 (STARTTLS) or smtps://…:465 (TLS); better in FACECHECK_SMTP, which ps does not show. Empty: no e-mail")
	fs.StringVar(&m.Config.Mail.From, "smtp-from", os.Getenv("FACECHECK_SMTP_FROM"), "the e-mails' sender, e.g. \"DevDay <checkin@example.org>\" (or FACECHECK_SMTP_FROM; default the SMTP user when it is an address)")
	fs.StringVar(&m.Config.Mail.CAFile, "smtp-ca", os.Getenv("FACECHECK_SMTP_CA"), "PEM file of CA certificates to trust for the SMTP server besides the system's (or FACECHECK_SMTP_CA)")
	fs.BoolVar(&m.Config.InsecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback --addr (TLS ends at a proxy)")
	fs.StringVar(&m.Config.ACMEHost, "acme-host", "", "get a certificate for this public host name from Let's Encrypt (TLS-ALPN-01 on --addr, which must be reachable on port 443)")
	fs.StringVar(&m.Config.ACMEDirectory, "acme-directory", "", "ACME directory URL (default Let's Encrypt production)")
	fs.StringVar(&m.Config.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&m.Config.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.BoolVar(&m.Config.SecureCookies, "secure-cookies", false, "mark cookies Secure (TLS ends at a proxy)")
	fs.StringVar(&m.AdminUser, "admin-user", m.AdminUser, "first admin's user name (first start only)")
	fs.StringVar(&m.EventName, "event", m.EventName, "name of the event created on first start")
	fs.StringVar(&m.ModelDir, "models", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	fs.IntVar(&m.Engines, "engines", m.Engines, "registration photos encoded in parallel")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if m.Config.ACMEHost != "" {
		m.Config.ACMECacheDir = filepath.Join(m.DataDir, "acme")
	}
	m.AdminPassword = os.Getenv("FACECHECK_ADMIN_PASSWORD")
	return m.Config.Validate()
}

// Run opens the store, bootstraps a first start and starts the server.
func (m *Main) Run(ctx context.Context) error {
	var err error
	if m.DB, err = m.openStore(ctx); err != nil {
		return err
	}
	b, err := server.RunBootstrap(ctx, m.DB, m.AdminUser, m.AdminPassword, m.EventName)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	passwordFile := ""
	if b.Password != "" {
		passwordFile = filepath.Join(m.DataDir, AdminPasswordFile)
		if err := writePrivate(passwordFile, b.Password+"\n"); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	if m.Encoder == nil && !m.NoEngine {
		if m.engines, err = newEngineEncoder(m.ModelDir, max(1, m.Engines)); err != nil {
			// The kiosk API works without models; registration cannot.
			m.Logger.Error("photo registration disabled: cannot load the face models", "err", err)
		} else {
			m.Encoder = m.engines
		}
	}
	if m.Server, err = server.NewServer(m.Config, m.DB, m.Encoder, m.Logger); err != nil {
		return err
	}
	if err := m.Server.Open(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "facecheck-server listening on %s (data %s, %s)\n", m.Server.URL(), m.DataDir, m.DB.Dialect())
	if m.Server.PublicURL() != m.Server.URL() {
		fmt.Fprintf(m.Stdout, "public address %s\n", m.Server.PublicURL())
	}
	if mail := m.Server.MailServer(); mail != "" {
		fmt.Fprintf(m.Stdout, "registration e-mails go out through %s\n", mail)
	} else {
		fmt.Fprintln(m.Stdout, "no --smtp: no e-mail goes out; attendees see their code only on the page after registering")
	}
	if b.AdminCreated {
		if passwordFile != "" {
			fmt.Fprintf(m.Stdout, "created admin %q; its password is in %s (readable by you only): log in, change it, delete the file\n", b.Username, passwordFile)
		} else {
			fmt.Fprintf(m.Stdout, "created admin %q\n", b.Username)
		}
	}
	if b.Event != nil {
		fmt.Fprintf(m.Stdout, "created event %q: registration page %s/register/%s\n", b.Event.Name, m.Server.PublicURL(), b.Event.ID)
	}
	if m.Encoder == nil {
		m.Logger.Warn("no face encoder wired: photo registration answers 503")
	}
	return nil
}

// openStore opens the database with the server key, creating the data
// directory (0700) and the key on first start.
func (m *Main) openStore(ctx context.Context) (*store.DB, error) {
	if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var key []byte
	var err error
	if v := os.Getenv("FACECHECK_SERVER_KEY"); v != "" {
		key, err = server.ParseKey(v)
	} else {
		path := m.KeyFile
		if path == "" {
			path = filepath.Join(m.DataDir, "server.key")
		}
		key, err = server.LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, err
	}
	dsn := m.DSN
	if dsn == "" {
		dsn = filepath.Join(m.DataDir, "facecheck.db")
	}
	return store.Open(ctx, dsn, key)
}

// writePrivate writes a file only its owner can read, whatever the umask
// and whatever mode an older file had.
func writePrivate(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Close stops the server and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil {
		errs = append(errs, m.Server.Close())
	}
	if m.engines != nil {
		m.engines.Close()
		m.engines = nil
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}
