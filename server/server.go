// Package server is the central facecheck server: the kiosk REST API under
// /v1 (pairing, gallery delta feed, check-in ingestion, identify, enrol,
// settings, heartbeat), the admin API and dashboard, and the attendees'
// registration page. Storage is server/store; face processing comes in
// through the FaceEncoder interface.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/facecheck/facecheck/server/mail"
	"github.com/facecheck/facecheck/server/store"
)

// Config is the server's configuration. Start from DefaultConfig.
type Config struct {
	// Addr is the listen address, e.g. "127.0.0.1:8080" or ":0".
	Addr string
	// MetricsAddr, when set, serves GET /metrics without a log-in on its
	// own listener (plain HTTP, for a scraper on a private address); on
	// Addr, /metrics needs an admin session either way.
	MetricsAddr string
	// TLSCert and TLSKey are PEM files; both set means HTTPS.
	TLSCert, TLSKey string
	// ACMEHost, instead of TLSCert, gets and renews a certificate for this
	// public host name from an ACME CA (Let's Encrypt) over TLS-ALPN-01 on
	// Addr (which must be reachable as ACMEHost:443), kept in ACMECacheDir.
	// ACMEDirectory overrides the CA's directory URL (a staging CA).
	ACMEHost, ACMECacheDir, ACMEDirectory string
	// SecureCookies marks cookies Secure even without TLS here (TLS ends at
	// a proxy in front). Always on with TLSCert.
	SecureCookies bool
	// InsecureHTTP allows plain HTTP on an address other than loopback
	// (TLS ends at a proxy on a private network). Without it, Validate
	// refuses: the pairing answer carries the event key and a token.
	InsecureHTTP bool
	// PublicURL is the server's address as attendees and kiosks reach it
	// (https://checkin.example.org): every link the server builds starts
	// with it, never with a request's Host header. Empty: URL().
	PublicURL string

	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64
	// MaxUploadBytes bounds a registration photo.
	MaxUploadBytes int64
	// MaxBatch bounds the check-ins of one POST /v1/checkins.
	MaxBatch int

	PairingCodeTTL time.Duration
	SessionTTL     time.Duration

	// LoginBurst failed log-ins per IP, refilled one per LoginEvery; the
	// same limit guards POST /v1/pair against code guessing. LoginGlobal
	// bounds the failures of all addresses together. Every attempt is
	// charged before the password or code is checked and refunded when it
	// succeeds (ratelimit.go).
	LoginBurst  int
	LoginEvery  time.Duration
	LoginGlobal Rate
	// Register and RegisterGlobal bound registration form posts per IP and
	// in all; Enrol and EnrolGlobal the kiosks' walk-up enrolments. They are
	// charged before the upload is read, and never refunded.
	Register, RegisterGlobal Rate
	Enrol, EnrolGlobal       Rate
	// PasswordChecks is how many argon2id password checks (19 MiB each) run
	// at once; more wait for a slot.
	PasswordChecks int

	// KioskOfflineAfter is how long without a heartbeat before the
	// dashboard shows a kiosk as offline.
	KioskOfflineAfter time.Duration

	// CalibrateEvery is the least time between two recalibrations of one
	// event's thresholds after its gallery changed (debounce; 0: on every
	// change). CalibrationMaxPairs caps the impostor pairs sampled from a
	// large gallery (0: all pairs). See calibration.go.
	CalibrateEvery      time.Duration
	CalibrationMaxPairs int

	// Mail, when Mail.URL is set (--smtp), sends attendees their
	// registration e-mail, and events can make new registrations wait for
	// the confirmation of the address (mail_outbox.go, confirm_handlers.go).
	Mail mail.Config
	// ConfirmTTL is how long a confirmation link works.
	ConfirmTTL time.Duration
	// MailRetries bounds the attempts of one e-mail; MailBackoff is the
	// wait after the first failure, doubled after each next one (at most
	// an hour); MailEvery is the least time between two e-mails; MailPoll
	// how often the outbox is checked for retries that fell due.
	MailRetries                      int
	MailBackoff, MailEvery, MailPoll time.Duration
	// Resend bounds "send the e-mail again" per IP and in all;
	// ResendAddress per address.
	Resend, ResendGlobal, ResendAddress Rate
	// PurgeEvery is how often the server looks for events past their end
	// and retention and purges them (event_lifecycle.go); also at start.
	PurgeEvery time.Duration
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		MaxBodyBytes:      1 << 20,
		MaxUploadBytes:    8 << 20,
		MaxBatch:          500,
		PairingCodeTTL:    15 * time.Minute,
		SessionTTL:        12 * time.Hour,
		LoginBurst:        5,
		LoginEvery:        12 * time.Second,
		LoginGlobal:       Rate{Burst: 30, Every: 2 * time.Second},
		Register:          Rate{Burst: 20, Every: 10 * time.Second},
		RegisterGlobal:    Rate{Burst: 60, Every: 250 * time.Millisecond},
		Enrol:             Rate{Burst: 120, Every: 500 * time.Millisecond},
		EnrolGlobal:       Rate{Burst: 300, Every: 100 * time.Millisecond},
		PasswordChecks:    2,
		KioskOfflineAfter: 2 * time.Minute,

		CalibrateEvery:      10 * time.Second,
		CalibrationMaxPairs: 200_000,

		ConfirmTTL:    72 * time.Hour,
		MailRetries:   10,
		MailBackoff:   time.Minute,
		MailEvery:     200 * time.Millisecond,
		MailPoll:      15 * time.Second,
		Resend:        Rate{Burst: 5, Every: time.Minute},
		ResendGlobal:  Rate{Burst: 60, Every: time.Second},
		ResendAddress: Rate{Burst: 3, Every: 10 * time.Minute},
		PurgeEvery:    time.Hour,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("config: --tls-cert and --tls-key go together")
	case c.ACMEHost != "" && c.TLSCert != "":
		return errors.New("config: --acme-host gets its own certificate: leave out --tls-cert and --tls-key")
	case c.ACMEHost != "" && c.ACMECacheDir == "":
		return errors.New("config: --acme-host needs a cache directory for the certificates")
	case c.TLSCert == "" && c.ACMEHost == "" && !c.InsecureHTTP && !loopback(c.Addr):
		return fmt.Errorf("config: %s is reachable from other machines and there is no TLS: give --tls-cert/--tls-key or --acme-host, listen on 127.0.0.1, or say --insecure-http (TLS ends at a proxy)", c.Addr)
	case c.PublicURL != "" && !validPublicURL(c.PublicURL):
		return fmt.Errorf("config: --public-url %q must be an http:// or https:// URL with a host and no path, query or fragment", c.PublicURL)
	case c.MaxBodyBytes < 1024:
		return errors.New("config: max body bytes must be at least 1024")
	case c.MaxUploadBytes < 64<<10:
		return errors.New("config: max upload bytes must be at least 64 KiB")
	case c.MaxBatch < 1:
		return errors.New("config: max batch must be at least 1")
	case c.PairingCodeTTL <= 0 || c.SessionTTL <= 0:
		return errors.New("config: pairing code and session lifetimes must be positive")
	case c.LoginBurst < 1 || c.LoginEvery <= 0:
		return errors.New("config: login burst must be at least 1 and login refill positive")
	case !c.LoginGlobal.valid() || !c.Register.valid() || !c.RegisterGlobal.valid() || !c.Enrol.valid() || !c.EnrolGlobal.valid():
		return errors.New("config: every rate limit needs a burst of at least 1 and a positive refill")
	case c.PasswordChecks < 1:
		return errors.New("config: at least one password check must be allowed at once")
	case c.CalibrateEvery < 0 || c.CalibrationMaxPairs < 0:
		return errors.New("config: calibration interval and pair cap must not be negative")
	case c.ConfirmTTL <= 0 || c.MailRetries < 1 || c.MailBackoff <= 0 || c.MailEvery < 0 || c.MailPoll <= 0:
		return errors.New("config: mail retries must be at least 1 and the confirmation lifetime, backoff and poll interval positive")
	case !c.Resend.valid() || !c.ResendGlobal.valid() || !c.ResendAddress.valid():
		return errors.New("config: every rate limit needs a burst of at least 1 and a positive refill")
	case c.PurgeEvery <= 0:
		return errors.New("config: the purge interval must be positive")
	}
	return nil
}

// tls reports whether the server itself speaks HTTPS.
func (c Config) tls() bool { return c.TLSCert != "" || c.ACMEHost != "" }

// acmeTLSConfig gets certificates for ACMEHost alone: a handshake naming
// any other host fails, so the CA is never asked for names an attacker
// chooses.
func (s *Server) acmeTLSConfig() *tls.Config {
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(s.cfg.ACMEHost),
		Cache:      autocert.DirCache(s.cfg.ACMECacheDir),
	}
	if s.cfg.ACMEDirectory != "" {
		m.Client = &acme.Client{DirectoryURL: s.cfg.ACMEDirectory}
	}
	c := m.TLSConfig()
	c.MinVersion = tls.VersionTLS12
	return c
}

// loopback reports whether a listen address only accepts connections from
// this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validPublicURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		(u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == ""
}

// PublicURL is the base of every link the server builds: Config.PublicURL,
// or the listen URL when it is not set.
func (s *Server) PublicURL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	return s.URL()
}

// Server serves facecheck over HTTP(S). Create it with NewServer, start it
// with Open, stop it with Close.
type Server struct {
	cfg     Config
	store   *store.DB
	encoder FaceEncoder
	logger  *slog.Logger

	ln  net.Listener
	srv *http.Server
	// metricsLn and metricsSrv serve MetricsAddr.
	metricsLn  net.Listener
	metricsSrv *http.Server
	handler    http.Handler
	// done is closed by Close so long-lived streams (SSE) end.
	done chan struct{}

	metrics      *metrics
	hub          *hub
	galleries    *galleries
	loginRate    *limiter
	pairRate     *limiter
	registerRate *limiter
	enrolRate    *limiter
	// mailer sends the outbox (nil without --smtp); mailWake nudges the
	// mail loop when an e-mail is queued. resendRate and resendAddrRate
	// bound "send the e-mail again" per client and per address.
	mailer         *mail.Sender
	mailWake       chan struct{}
	resendRate     *limiter
	resendAddrRate *rateLimiter
	// passwordSlots bounds concurrent argon2id checks.
	passwordSlots chan struct{}
	pages         *pages
	calib         *calibrator
	// bg counts background goroutines (the calibration and purge loops)
	// Close waits for.
	bg sync.WaitGroup
	// purgeKick asks the purge loop for a pass now (PurgeNow).
	purgeKick chan chan purgeResult
	// openAPIJSON is openapi.yaml as JSON.
	openAPIJSON []byte

	// Now is the clock, replaceable in tests.
	Now func() time.Time
}

// NewServer returns a server on db. enc may be nil: registration then
// answers that enrolment is unavailable. logger may be nil.
func NewServer(cfg Config, db *store.DB, enc FaceEncoder, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.tls() {
		cfg.SecureCookies = true
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	oa, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, store: db, encoder: enc, logger: logger,
		openAPIJSON: oa,
		done:        make(chan struct{}),
		metrics:     newMetrics(),
		hub:         newHub(),
		galleries:   newGalleries(),
		calib:       newCalibrator(),
		pages:       p,
		purgeKick:   make(chan chan purgeResult),
		Now:         time.Now,
	}
	login := Rate{Burst: cfg.LoginBurst, Every: cfg.LoginEvery}
	s.loginRate = newLimiter(login, cfg.LoginGlobal, s.now)
	s.pairRate = newLimiter(login, cfg.LoginGlobal, s.now)
	s.registerRate = newLimiter(cfg.Register, cfg.RegisterGlobal, s.now)
	s.enrolRate = newLimiter(cfg.Enrol, cfg.EnrolGlobal, s.now)
	s.passwordSlots = make(chan struct{}, cfg.PasswordChecks)
	s.resendRate = newLimiter(cfg.Resend, cfg.ResendGlobal, s.now)
	s.resendAddrRate = newRateLimiter(cfg.ResendAddress.Burst, cfg.ResendAddress.Every, s.now)
	s.mailWake = make(chan struct{}, 1)
	if cfg.Mail.URL != "" {
		if s.mailer, err = mail.New(cfg.Mail); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Server) now() time.Time { return s.Now() }

// Handler returns the server's HTTP handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on Config.Addr and serves in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	switch {
	case s.cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	case s.cfg.ACMEHost != "":
		s.srv.TLSConfig = s.acmeTLSConfig()
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.ln = ln
	if s.cfg.MetricsAddr != "" {
		if err := s.openMetrics(); err != nil {
			ln.Close()
			return err
		}
	}
	s.bg.Add(2)
	go s.calibrationLoop()
	if s.mailer != nil {
		s.bg.Add(1)
		go s.mailLoop()
	}
	go s.purgeLoop()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	scheme := "http"
	if s.cfg.tls() {
		scheme = "https"
	}
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Close ends live streams and shuts the server down, giving requests in
// flight a few seconds. It does not close the store.
func (s *Server) Close() error {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.bg.Wait()
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if s.metricsSrv != nil {
		errs = append(errs, s.metricsSrv.Shutdown(ctx))
	}
	return errors.Join(append(errs, s.srv.Shutdown(ctx))...)
}

// openMetrics serves GET /metrics alone on MetricsAddr.
func (s *Server) openMetrics() error {
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.metricsLn = ln
	s.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := s.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("serve metrics", "err", err)
		}
	}()
	return nil
}

// MetricsURL is the URL of the metrics listener, "" without MetricsAddr.
func (s *Server) MetricsURL() string {
	if s.metricsLn == nil {
		return ""
	}
	return "http://" + s.metricsLn.Addr().String() + "/metrics"
}

// routes maps every route; middleware wraps the whole mux.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.Handle("GET /metrics", s.adminAPI(s.handleMetrics))

	mux.HandleFunc("GET /v1/openapi.yaml", s.handleOpenAPIYAML)
	mux.HandleFunc("GET /v1/openapi.json", s.handleOpenAPIJSON)

	// Kiosk API: pairing is public (rate-limited), the rest needs a token.
	mux.HandleFunc("POST /v1/pair", s.handlePair)
	mux.Handle("GET /v1/gallery", s.kioskAuth(s.handleGallery))
	mux.Handle("POST /v1/checkins", s.kioskAuth(s.handleCheckIns))
	mux.Handle("POST /v1/identify", s.kioskAuth(s.handleIdentify))
	mux.Handle("POST /v1/enrol", s.kioskAuth(s.handleEnrol))
	mux.Handle("GET /v1/settings", s.kioskAuth(s.handleSettings))
	mux.Handle("POST /v1/heartbeat", s.kioskAuth(s.handleHeartbeat))

	// Admin API: session cookie + X-CSRF-Token.
	mux.Handle("GET /v1/admin/session", s.adminAPI(s.handleAdminSession))
	mux.Handle("GET /v1/admin/events", s.adminAPI(s.handleListEvents))
	mux.Handle("POST /v1/admin/events", s.adminAPI(s.handleCreateEvent))
	mux.Handle("GET /v1/admin/events/{id}", s.adminAPI(s.handleGetEvent))
	mux.Handle("PUT /v1/admin/events/{id}/settings", s.adminAPI(s.handleUpdateEventSettings))
	mux.Handle("DELETE /v1/admin/events/{id}", s.adminAPI(s.handleDeleteEvent))
	mux.Handle("POST /v1/admin/events/{id}/close", s.adminAPI(s.handleCloseEvent))
	mux.Handle("GET /v1/admin/events/{id}/attendees", s.adminAPI(s.handleListAttendees))
	mux.Handle("GET /v1/admin/events/{id}/kiosks", s.adminAPI(s.handleListKiosks))
	mux.Handle("GET /v1/admin/events/{id}/stats", s.adminAPI(s.handleEventStats))
	mux.Handle("DELETE /v1/admin/attendees/{id}", s.adminAPI(s.handleDeleteAttendee))
	mux.Handle("POST /v1/admin/pairing-codes", s.adminAPI(s.handleCreatePairingCode))
	mux.Handle("POST /v1/admin/kiosks/{id}/revoke", s.adminAPI(s.handleRevokeKiosk))

	// Admin dashboard (HTML).
	mux.HandleFunc("GET /admin/login", s.handleLoginPage)
	mux.HandleFunc("POST /admin/login", s.handleLogin)
	mux.Handle("POST /admin/logout", s.adminPage(s.handleLogout))
	mux.Handle("GET /admin/password", s.adminPage(s.handlePasswordPage))
	mux.Handle("POST /admin/password", s.adminPage(s.handlePasswordChange))
	mux.Handle("GET /admin/{$}", s.adminPage(s.handleDashboard))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusSeeOther))
	mux.Handle("POST /admin/events", s.adminPage(s.handleDashboardCreateEvent))
	mux.Handle("GET /admin/events/{id}", s.adminPage(s.handleEventPage))
	mux.Handle("GET /admin/events/{id}/live", s.adminPage(s.handleLive))
	mux.Handle("GET /admin/events/{id}/activity", s.adminPage(s.handleActivity))
	mux.Handle("GET /admin/events/{id}/attendees.csv", s.adminPage(s.handleAttendeesCSV))
	mux.Handle("POST /admin/events/{id}/attendees.csv", s.adminPage(s.handleAttendeesImport))
	mux.Handle("POST /admin/events/{id}/pairing-codes", s.adminPage(s.handleEventPagePairingCode))
	mux.Handle("GET /admin/events/{id}/pairing-code", s.adminPage(s.handlePairingCodePage))
	mux.Handle("POST /admin/attendees/{id}/delete", s.adminPage(s.handleEventPageDeleteAttendee))
	mux.Handle("POST /admin/kiosks/{id}/revoke", s.adminPage(s.handleEventPageRevokeKiosk))
	mux.Handle("POST /admin/events/{id}/capture", s.adminPage(s.handleEventPageCapture))
	mux.Handle("POST /admin/events/{id}/language", s.adminPage(s.handleEventPageLanguage))
	mux.Handle("POST /admin/events/{id}/lifecycle", s.adminPage(s.handleEventPageLifecycle))
	mux.Handle("GET /admin/events/{id}/close", s.adminPage(s.handleConfirmClose))
	mux.Handle("POST /admin/events/{id}/close", s.adminPage(s.handleEventPageClose))
	mux.Handle("GET /admin/events/{id}/delete", s.adminPage(s.handleConfirmDelete))
	mux.Handle("POST /admin/events/{id}/delete", s.adminPage(s.handleEventPageDelete))
	mux.Handle("GET /admin/events/{id}/calibration", s.adminPage(s.handleCalibration))
	mux.Handle("POST /admin/events/{id}/calibration/target", s.adminPage(s.handleCalibrationTarget))
	mux.Handle("POST /admin/events/{id}/calibration/pin", s.adminPage(s.handleCalibrationPin))
	mux.Handle("POST /admin/events/{id}/calibration/unpin", s.adminPage(s.handleCalibrationUnpin))

	// Registration (HTML). /e/{event}/register is an alias.
	// A closed event's form is a page that says so (registrationOpen).
	mux.HandleFunc("GET /register/{event}", s.registrationOpen(s.handleRegisterPage))
	mux.HandleFunc("POST /register/{event}", s.registrationOpen(s.handleRegister))
	mux.HandleFunc("GET /e/{event}/register", s.registrationOpen(s.handleRegisterPage))
	mux.HandleFunc("POST /e/{event}/register", s.registrationOpen(s.handleRegister))
	mux.HandleFunc("GET /register/{event}/me/{attendee}", s.handleRegisteredPage)
	mux.HandleFunc("POST /register/{event}/me/{attendee}/delete", s.handleWithdraw)
	s.mailRoutes(mux)

	mux.Handle("GET /static/", noListing(http.FileServerFS(staticFS)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	})

	return s.recoverer(s.instrument(s.securityHeaders(s.notFound(mux))))
}
