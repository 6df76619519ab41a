package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/i18n"
	"github.com/facecheck/facecheck/internal/smtptest"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
)

// The registration e-mail against a real SMTP server on 127.0.0.1
// (smtp_test.go): the MIME message, its QR code and links, confirmation
// before the face reaches the kiosks, the languages, resending, and the
// outbox across a restart while the SMTP server is down.

// publicURL is the --public-url of the mail tests: every link in an
// e-mail must start with it, never with the listen address.
const publicURL = "https://checkin.example.test"

// lockedBuffer collects the server's log lines for the privacy checks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mailEnv is a server's data that outlives one server: its database, key,
// clock and logs, so a test can stop the server and start another on the
// same outbox.
type mailEnv struct {
	dsn   string
	key   []byte
	clk   *clock
	logs  *lockedBuffer
	event *store.Event
}

func newMailEnv(t testing.TB) *mailEnv {
	t.Helper()
	return &mailEnv{dsn: testDSN(t), key: bytes.Repeat([]byte{42}, api.KeySize),
		clk: &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, logs: &lockedBuffer{}}
}

// start opens the store and a server sending to smtpURL ("" for none)
// trusting caFile; stop closes both (also at the end of the test).
func (e *mailEnv) start(t testing.TB, smtpURL, caFile string, edit ...func(*server.Config)) (*testServer, func()) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, e.dsn, e.key)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = e.clk.Now
	b, err := server.RunBootstrap(ctx, db, testUser, testPassword, "DevDay")
	if err != nil {
		t.Fatal(err)
	}
	if b.Event != nil {
		e.event = b.Event
	}
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.PublicURL = publicURL
	cfg.Mail.URL, cfg.Mail.CAFile, cfg.Mail.From = smtpURL, caFile, "DevDay check-in <checkin@example.test>"
	cfg.MailEvery = 0
	for _, ed := range edit {
		ed(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.NewServer(cfg, db, testEncoder{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = e.clk.Now
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			if err := db.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return &testServer{Server: s, DB: db, Clock: e.clk, Event: e.event}, stop
}

// register posts the registration form in lang and returns the status and
// where it redirects.
func register(t *testing.T, s *testServer, name, email, lang string, seed byte) (int, string) {
	t.Helper()
	path := "/register/" + s.Event.ID
	if lang != "" {
		path += "?lang=" + lang
	}
	resp, body := postRegistration(t, s, path, map[string]string{"name": name, "email": email, "consent": "yes"}, "me.png", photo(t, 200, seed))
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusConflict {
		t.Fatalf("register %s: %d %s", email, resp.StatusCode, body)
	}
	return resp.StatusCode, resp.Header.Get("Location")
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// registrationMail is a received registration e-mail, checked for its
// structure and with its links and QR code read out.
type registrationMail struct {
	smtptest.Message
	Text, HTML        string
	Confirm, Withdraw string // links, "" when absent
	Resend            string
	QRText            string
}

// readRegistrationMail parses m and checks what every registration e-mail
// must be: from the configured sender to one address over TLS after AUTH,
// text and HTML alternatives, the HTML's QR code an inline PNG it refers to
// by cid, every link starting with the public URL.
func readRegistrationMail(t *testing.T, m smtptest.Received, to string) registrationMail {
	t.Helper()
	if !m.TLS || !m.Authed {
		t.Errorf("mail delivered with TLS %v, AUTH %v; want both", m.TLS, m.Authed)
	}
	if len(m.To) != 1 || m.To[0] != to || m.From != "checkin@example.test" {
		t.Errorf("envelope from %q to %q, want checkin@example.test to %q", m.From, m.To, to)
	}
	mm := smtptest.Parse(t, m.Data)
	r := registrationMail{Message: mm}
	if got := mm.Header.Get("To"); !strings.Contains(got, to) {
		t.Errorf("To: %q", got)
	}
	if got := mm.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted: %q", got)
	}
	text, html := mm.Part(t, "text/plain"), mm.Part(t, "text/html")
	if text.Params["charset"] != "UTF-8" || html.Params["charset"] != "UTF-8" {
		t.Errorf("charsets %q, %q", text.Params["charset"], html.Params["charset"])
	}
	if len(text.Parents) == 0 || text.Parents[0] != "multipart/alternative" && text.Parents[0] != "multipart/related" {
		t.Errorf("text part inside %v", text.Parents)
	}
	r.Text, r.HTML = string(text.Body), string(html.Body)
	qr := mm.Part(t, "image/png")
	if cid := strings.Trim(strings.Join(qr.Header["Content-Id"], ""), "<>"); cid != "qr@facecheck" {
		t.Errorf("QR Content-ID %q", cid)
	}
	if !strings.Contains(r.HTML, `src="cid:qr@facecheck"`) {
		t.Errorf("HTML does not show the inline QR code:\n%s", r.HTML)
	}
	r.QRText = decodeQR(t, qr.Body)
	for _, l := range linkRE.FindAllString(r.Text+r.HTML, -1) {
		if !strings.HasPrefix(l, publicURL+"/") {
			t.Errorf("link %q does not start with the public URL %s", l, publicURL)
		}
		switch u, _ := url.Parse(strings.ReplaceAll(l, "&amp;", "&")); {
		case strings.HasSuffix(u.Path, "/confirm"):
			r.Confirm = u.String()
		case strings.Contains(u.Path, "/me/"):
			r.Withdraw = u.String()
		case strings.HasSuffix(u.Path, "/resend"):
			r.Resend = u.String()
		}
	}
	if r.Withdraw == "" || r.Resend == "" {
		t.Errorf("no withdraw or resend link in:\n%s", r.Text)
	}
	return r
}

// decodeQR reads a QR code from a PNG as a phone's camera would (ZXing);
// it also checks the PNG is the one the short code makes.
func decodeQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("QR PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	want, err := qrcode.Encode(res.GetText(), qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, b) {
		t.Error("QR PNG differs from the one its text makes")
	}
	return res.GetText()
}

// local turns a public link into one on the test server.
func local(s *testServer, link string) string {
	return s.URL() + strings.TrimPrefix(link, publicURL)
}

// galleryIDs is the attendees of a kiosk's full gallery feed.
func galleryIDs(t testing.TB, k *kiosk) map[string]bool {
	t.Helper()
	recs, _ := readFeed(t, k, 0)
	ids := map[string]bool{}
	for _, r := range recs {
		if r.Op == api.OpUpsert {
			ids[r.AttendeeID] = true
		}
	}
	return ids
}

// confirmForm posts the confirmation page's form for the token in link.
func confirmForm(t testing.TB, s *testServer, link string) (*http.Response, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"t": {u.Query().Get("t")}}
	return do(t, httpc, "POST", s.URL()+u.Path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

func TestRegistrationMailConfirm(t *testing.T) {
	smtpd := smtptest.Start(t, false)
	env := newMailEnv(t)
	s, _ := env.start(t, smtpd.URL("smtp"), smtpd.CAFile)
	adm := login(t, s)
	k := pair(t, s, adm, s.Event.ID, "door")
	const email = "ada.lovelace@example.org"

	status, loc := register(t, s, "Ada Lovelace", "Ada.Lovelace@Example.org", "en", 1)
	if status != http.StatusSeeOther || loc != "/register/"+s.Event.ID+"/sent" {
		t.Fatalf("registration answered %d → %q, want 303 to the check-your-e-mail page", status, loc)
	}
	a, err := s.DB.FindAttendeeByEmail(context.Background(), s.Event.ID, email)
	if err != nil {
		t.Fatal(err)
	}
	if galleryIDs(t, k)[a.ID] {
		t.Fatal("a pending attendee is in the kiosks' gallery")
	}
	_, page := do(t, adm.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	if !strings.Contains(page, `Ada Lovelace <span class="pending">(waiting for the e-mail confirmation)</span>`) || !strings.Contains(page, `id="confirm-email-toggle" checked`) {
		t.Errorf("event page does not mark the pending attendee or the confirmation setting:\n%s", page)
	}
	resp, body := do(t, httpc, "GET", s.URL()+loc, nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "We have sent an e-mail to confirm your registration for DevDay") {
		t.Errorf("sent page: %d %s", resp.StatusCode, body)
	}

	m := readRegistrationMail(t, smtpd.Wait(t, 1)[0], email)
	code, err := s.DB.ShortCode(context.Background(), s.Event, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Confirm your registration for DevDay" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.QRText != code || !strings.Contains(m.Text, code) || !strings.Contains(m.HTML, code) {
		t.Errorf("QR %q; text and HTML must show the short code %s too:\n%s", m.QRText, code, m.Text)
	}
	for _, want := range []string{"Hello Ada Lovelace,", "Thank you for registering for DevDay", "works once, until"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("text or HTML lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Confirm == "" {
		t.Fatalf("no confirmation link:\n%s", m.Text)
	}

	// The withdraw link works while pending, and says what is missing.
	resp, body = do(t, httpc, "GET", local(s, m.Withdraw), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="pending"`) {
		t.Errorf("attendee page while pending: %d %s", resp.StatusCode, body)
	}
	// Opening the link (a mail scanner does too) changes nothing.
	resp, body = do(t, httpc, "GET", local(s, m.Confirm), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="confirm-button"`) {
		t.Fatalf("confirmation page: %d %s", resp.StatusCode, body)
	}
	if galleryIDs(t, k)[a.ID] {
		t.Fatal("opening the confirmation page confirmed")
	}
	before, _ := readFeed(t, k, 0)
	_, end := readFeed(t, k, 0)
	resp, body = confirmForm(t, s, m.Confirm)
	if resp.StatusCode != 200 || !strings.Contains(body, "your registration for DevDay is confirmed") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	if !galleryIDs(t, k)[a.ID] {
		t.Fatal("a confirmed attendee is not in the kiosks' gallery")
	}
	delta, _ := readFeed(t, k, end.Cursor)
	if len(delta) != 1 || delta[0].AttendeeID != a.ID || len(delta[0].Templates) != 1 {
		t.Errorf("delta feed after the confirmation: %+v (full feed before: %d records)", delta, len(before))
	}
	// The link works once.
	resp, body = confirmForm(t, s, m.Confirm)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not valid, or it has been used already") {
		t.Errorf("second confirmation: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, httpc, "GET", local(s, m.Confirm), nil, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("used link's page: %d", resp.StatusCode)
	}
	// The withdraw link opens the attendee's page with the same code.
	resp, body = do(t, httpc, "GET", local(s, m.Withdraw), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, code) || strings.Contains(body, `id="pending"`) {
		t.Errorf("withdraw link: %d %s", resp.StatusCode, body)
	}
	if n, err := s.DB.MailQueue(context.Background()); err != nil || len(n) != 0 {
		t.Errorf("outbox after sending: %v %v", n, err)
	}
	// The logs name the attendee, never the address or the code.
	logs := env.logs.String()
	if !strings.Contains(logs, "mail sent") {
		t.Errorf("no log line for the sent mail:\n%s", logs)
	}
	for _, secret := range []string{email, "Ada.Lovelace", code, strings.ReplaceAll(code, "-", "")} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows %q:\n%s", secret, logs)
		}
	}
}

func TestRegistrationMailLanguages(t *testing.T) {
	smtpd := smtptest.Start(t, true) // implicit TLS (smtps://, port 465 in real life)
	env := newMailEnv(t)
	s, _ := env.start(t, smtpd.URL("smtps"), smtpd.CAFile)
	for i, lang := range []string{"ja", "ko"} {
		email := lang + "@example.org"
		register(t, s, map[string]string{"ja": "山田 花子", "ko": "김민지"}[lang], email, lang, byte(10+i))
		m := readRegistrationMail(t, smtpd.Wait(t, i+1)[i], email)
		p := i18n.MustNew(lang)
		if want := p.T("mail.subject.confirm", "DevDay"); m.Subject != want {
			t.Errorf("%s subject %q, want %q", lang, m.Subject, want)
		}
		for _, key := range []string{"mail.code.intro", "mail.withdraw.intro", "mail.confirm.action"} {
			if want := p.T(key); !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("%s mail lacks %s %q:\n%s", lang, key, want, m.Text)
			}
		}
		if !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
			t.Errorf("%s HTML not marked as %s", lang, lang)
		}
		if en := i18n.MustNew("en").T("mail.code.intro"); strings.Contains(m.Text, en) {
			t.Errorf("%s mail has the English %q", lang, en)
		}
		// The link opens the confirmation page in the same language.
		resp, body := do(t, httpc, "GET", local(s, m.Confirm), nil, "")
		if resp.StatusCode != 200 || !strings.Contains(body, p.T("web.confirm.button")) || !strings.Contains(body, `lang="`+lang+`"`) {
			t.Errorf("%s confirmation page: %d %s", lang, resp.StatusCode, body)
		}
	}
}

func TestRegistrationMailResend(t *testing.T) {
	smtpd := smtptest.Start(t, false)
	env := newMailEnv(t)
	s, _ := env.start(t, smtpd.URL("smtp"), smtpd.CAFile, func(c *server.Config) {
		c.Resend = server.Rate{Burst: 5, Every: time.Hour}
		c.ResendAddress = server.Rate{Burst: 2, Every: time.Hour}
	})
	const email = "grace@example.org"
	register(t, s, "Grace Hopper", email, "en", 3)
	first := readRegistrationMail(t, smtpd.Wait(t, 1)[0], email)

	resend := func(addr string) (int, string) {
		form := url.Values{"email": {addr}}
		resp, body := do(t, httpc, "POST", s.URL()+"/register/"+s.Event.ID+"/resend", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		return resp.StatusCode, body
	}
	resp, body := do(t, httpc, "GET", local(s, first.Resend), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="resend"`) {
		t.Fatalf("resend page: %d %s", resp.StatusCode, body)
	}
	// Registered or not, the answer is the same.
	stKnown, known := resend(email)
	stUnknown, unknown := resend("nobody@example.org")
	if stKnown != 200 || stKnown != stUnknown || known != unknown {
		t.Errorf("resend answers differ: %d vs %d\n%s\n---\n%s", stKnown, stUnknown, known, unknown)
	}
	second := readRegistrationMail(t, smtpd.Wait(t, 2)[1], email)
	if second.Confirm == "" || second.Confirm == first.Confirm || second.Withdraw == first.Withdraw {
		t.Fatalf("resent links: confirm %q (was %q), withdraw %q (was %q)", second.Confirm, first.Confirm, second.Withdraw, first.Withdraw)
	}
	if second.QRText != first.QRText {
		t.Errorf("resent short code %q, was %q", second.QRText, first.QRText)
	}
	// The first e-mail's links stopped working; the new ones work.
	if resp, _ := confirmForm(t, s, first.Confirm); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old confirmation link: %d", resp.StatusCode)
	}
	if resp, _ := do(t, httpc, "GET", local(s, first.Withdraw), nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old withdraw link: %d", resp.StatusCode)
	}
	if resp, body := confirmForm(t, s, second.Confirm); resp.StatusCode != 200 {
		t.Fatalf("new confirmation link: %d %s", resp.StatusCode, body)
	}
	// A confirmed attendee's e-mail again: no confirmation link.
	if st, _ := resend(email); st != 200 {
		t.Fatalf("second resend: %d", st)
	}
	third := readRegistrationMail(t, smtpd.Wait(t, 3)[2], email)
	if third.Confirm != "" || third.Subject != "Your registration for DevDay" || third.QRText != first.QRText {
		t.Errorf("resend after confirming: subject %q, confirm link %q, code %q", third.Subject, third.Confirm, third.QRText)
	}
	// Per address: the third request for the same address is refused.
	if st, body := resend(email); st != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests for this address") {
		t.Errorf("third resend for one address: %d", st)
	}
	// Per client: four requests so far; the fifth passes, the sixth not.
	for i, want := range []int{200, http.StatusTooManyRequests} {
		if st, _ := resend(fmt.Sprintf("other%d@example.org", i)); st != want {
			t.Errorf("resend %d from one client: %d, want %d", i, st, want)
		}
	}
	// Only the e-mails to the registered address went out.
	if n := smtpd.Count(); n != 3 {
		t.Errorf("%d e-mails sent, want 3", n)
	}
}

func TestRegistrationMailOutboxRestart(t *testing.T) {
	// An SMTP address where nothing listens: every attempt fails.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "smtp://" + smtptest.User + ":pw@" + ln.Addr().String()
	ln.Close()
	env := newMailEnv(t)
	s, stop := env.start(t, down, "", func(c *server.Config) { c.MailBackoff = time.Minute })
	const email = "katherine@example.org"
	register(t, s, "Katherine Johnson", email, "en", 4)
	ctx := context.Background()
	for deadline := time.Now().Add(60 * time.Second); ; {
		q, err := s.DB.MailQueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) == 1 && q[0].Attempts >= 1 {
			if strings.Contains(q[0].LastError, email) {
				t.Errorf("outbox error shows the address: %q", q[0].LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %+v", q)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()

	// The SMTP server is back; a new server process on the same data
	// sends the e-mail once its retry is due.
	smtpd := smtptest.Start(t, false)
	s, _ = env.start(t, smtpd.URL("smtp"), smtpd.CAFile, func(c *server.Config) { c.MailPoll = 20 * time.Millisecond })
	if smtpd.Count() != 0 {
		t.Error("the retry went out before it was due")
	}
	env.clk.Add(time.Hour)
	m := readRegistrationMail(t, smtpd.Wait(t, 1)[0], email)
	if m.Confirm == "" {
		t.Error("the e-mail sent after the restart has no confirmation link")
	}
	if resp, body := confirmForm(t, s, m.Confirm); resp.StatusCode != 200 {
		t.Errorf("confirmation after restart: %d %s", resp.StatusCode, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if q, _ := s.DB.MailQueue(ctx); len(q) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("outbox not emptied after sending")
		}
	}
}

func TestRegistrationMailExpiredAndOff(t *testing.T) {
	smtpd := smtptest.Start(t, false)
	env := newMailEnv(t)
	s, _ := env.start(t, smtpd.URL("smtp"), smtpd.CAFile)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "door")

	t.Run("ExpiredLinkFreesTheAddress", func(t *testing.T) {
		const email = "someone@example.org"
		register(t, s, "Not Me", email, "en", 5)
		m := readRegistrationMail(t, smtpd.Wait(t, 1)[0], email)
		resp, body := postRegistration(t, s, "/register/"+s.Event.ID, map[string]string{"name": "Me", "email": email, "consent": "yes"}, "me.png", photo(t, 200, 6))
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "you can have it sent again") ||
			!strings.Contains(body, `<a id="resend" href="/register/`+s.Event.ID+`/resend">`) {
			t.Fatalf("second registration while the first is pending: %d, want 409 with the resend link:\n%s", resp.StatusCode, body)
		}
		env.clk.Add(server.DefaultConfig().ConfirmTTL + time.Minute)
		resp, body = do(t, httpc, "GET", local(s, m.Confirm), nil, "")
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "has expired") || !strings.Contains(body, `id="link"`) {
			t.Errorf("expired link: %d %s", resp.StatusCode, body)
		}
		if st, loc := register(t, s, "Me", email, "en", 6); st != http.StatusSeeOther || !strings.HasSuffix(loc, "/sent") {
			t.Fatalf("registration after the first expired: %d %q", st, loc)
		}
		m2 := readRegistrationMail(t, smtpd.Wait(t, 2)[1], email)
		if !strings.Contains(m2.Text, "Hello Me,") {
			t.Errorf("second registration's mail:\n%s", m2.Text)
		}
	})

	t.Run("ConfirmationOff", func(t *testing.T) {
		a := login(t, s) // the clock moved past the first session's lifetime
		form := url.Values{"csrf_token": {a.csrf}}
		resp, body := do(t, a.c, "POST", s.URL()+"/admin/events/"+s.Event.ID+"/confirm-email", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		if resp.StatusCode != 200 || strings.Contains(body, `id="confirm-email-toggle" checked`) {
			t.Fatalf("turning confirmation off: %d", resp.StatusCode)
		}
		const email = "direct@example.org"
		st, loc := register(t, s, "Direct", email, "en", 7)
		if st != http.StatusSeeOther || !strings.Contains(loc, "/me/") {
			t.Fatalf("registration without confirmation: %d %q", st, loc)
		}
		at, err := s.DB.FindAttendeeByEmail(context.Background(), s.Event.ID, email)
		if err != nil {
			t.Fatal(err)
		}
		if !galleryIDs(t, k)[at.ID] {
			t.Error("without confirmation the attendee is not in the gallery at once")
		}
		m := readRegistrationMail(t, smtpd.Wait(t, 3)[2], email)
		if m.Confirm != "" || m.Subject != "Your registration for DevDay" {
			t.Errorf("mail without confirmation: subject %q, confirm link %q", m.Subject, m.Confirm)
		}
		// The page after registering and the e-mail's withdraw link are
		// the same attendee page: the page's token is the e-mail's.
		if !strings.HasSuffix(m.Withdraw, strings.TrimPrefix(loc, "/register/"+s.Event.ID+"/me/"+at.ID)+"&lang=en") {
			t.Errorf("withdraw link %q, page %q", m.Withdraw, loc)
		}
	})
}

func TestRegistrationWithoutMail(t *testing.T) {
	env := newMailEnv(t)
	s, _ := env.start(t, "", "")
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "door")
	st, loc := register(t, s, "Offline", "offline@example.org", "en", 8)
	if st != http.StatusSeeOther || !strings.Contains(loc, "/me/") {
		t.Fatalf("registration without --smtp: %d %q, want the page with the code", st, loc)
	}
	at, err := s.DB.FindAttendeeByEmail(context.Background(), s.Event.ID, "offline@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !galleryIDs(t, k)[at.ID] {
		t.Error("without --smtp the attendee is not active at once")
	}
	resp, body := do(t, httpc, "GET", s.URL()+loc, nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="short-code"`) {
		t.Errorf("result page: %d", resp.StatusCode)
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/", nil, "")
	if !strings.Contains(body, `id="mail-off"`) || !strings.Contains(body, "No e-mail goes out") {
		t.Errorf("dashboard does not say that no mail goes out:\n%s", body)
	}
	_, body = do(t, a.c, "GET", s.URL()+"/admin/events/"+s.Event.ID, nil, "")
	if !strings.Contains(body, `id="mail-off"`) {
		t.Error("event page does not say that no mail goes out")
	}
	if resp, _ := do(t, httpc, "GET", s.URL()+"/register/"+s.Event.ID+"/resend", nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("resend page without mail: %d", resp.StatusCode)
	}
}

// TestMailConfigRefused: a bad --smtp stops the start with a message
// that shows no password.
func TestMailConfigRefused(t *testing.T) {
	env := newMailEnv(t)
	db, err := store.Open(context.Background(), env.dsn, env.key)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct{ url, from, want string }{
		{"http://u:hunter2@host", "a@b.c", "scheme"},
		{"smtp://u:hunter2@host:0", "a@b.c", "port"},
		{"smtp://u:hunter2@host", "", "--smtp-from"},
		{"smtps://u:hunter2@host", "not an address", "sender"},
	} {
		cfg := server.DefaultConfig()
		cfg.Mail.URL, cfg.Mail.From = c.url, c.from
		_, err := server.NewServer(cfg, db, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s from %q: %v, want an error about %s without the password", c.url, c.from, err, c.want)
		}
	}
}

// TestConfirmClosedEvent: a closed event takes no confirmation; its
// pending attendee stays out of the gallery.
func TestConfirmClosedEvent(t *testing.T) {
	smtpd := smtptest.Start(t, false)
	env := newMailEnv(t)
	s, _ := env.start(t, smtpd.URL("smtp"), smtpd.CAFile)
	const email = "late@example.org"
	register(t, s, "Late", email, "en", 9)
	m := readRegistrationMail(t, smtpd.Wait(t, 1)[0], email)
	a := login(t, s)
	var ev api.Event
	a.json(t, "POST", "/v1/admin/events/"+s.Event.ID+"/close", nil, 200, &ev)
	resp, body := confirmForm(t, s, m.Confirm)
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, i18n.MustNew("en").T("web.register.closed", "DevDay")) {
		t.Errorf("confirming for a closed event: %d %s", resp.StatusCode, body)
	}
	if p, err := s.DB.PendingAttendees(context.Background(), s.Event.ID); err != nil || len(p) != 1 {
		t.Errorf("pending after the refused confirmation: %v %v", p, err)
	}
}
