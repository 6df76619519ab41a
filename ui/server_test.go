package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/kiosk"
)

// fakePair records the Pair calls and answers with the next error.
type fakePair struct {
	calls []string
	errs  []error
}

func (p *fakePair) pair(ctx context.Context, server, code string) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("no deadline on the pairing context")
	}
	p.calls = append(p.calls, server+"|"+code)
	if len(p.errs) == 0 {
		return nil
	}
	err := p.errs[0]
	p.errs = p.errs[1:]
	return err
}

// The settings pane's Server section pairs the kiosk through the injected
// Pair, says what went wrong in plain words and shows the sync status.
func TestServerPairing(t *testing.T) {
	fp := &fakePair{}
	h := newHarness(t, func(o *Options) { o.Pair = fp.pair })
	h.app.inline = true
	a := h.app
	unlockSettings(t, h)
	s := a.settings.server
	if got := s.status.Text; got != "Not paired with a server: check-ins stay on this kiosk." {
		t.Errorf("status = %q", got)
	}
	if !s.form.Visible() {
		t.Fatal("pairing fields hidden while not paired")
	}

	for _, c := range []struct {
		url, code string
		err       error
		want      string
	}{
		{"", "", nil, "Enter the server address and the pairing code."},
		{"checkin.example.org", "K7Q2", nil, "The server address must start with http:// or https://"},
		{"http://127.0.0.1:9", "K7Q2", fmt.Errorf("kiosk: pair: %w", &kiosk.HTTPError{Method: "POST", Path: "/v1/pair", Status: 401}),
			"The server did not accept this pairing code: it is wrong, already used or expired."},
		{"http://127.0.0.1:9", "K7Q2", fmt.Errorf("kiosk: pair: %w after 4 attempt(s): connection refused", kiosk.ErrOffline),
			"Cannot reach the server at http://127.0.0.1:9."},
		{"http://127.0.0.1:9", "K7Q2", fmt.Errorf("kiosk: pair: %w", &kiosk.HTTPError{Method: "POST", Path: "/v1/pair", Status: 404}),
			"Something answered at this address, but it is not a facecheck server."},
		// Anything else: the code in words, the raw text only in the log.
		{"http://127.0.0.1:9", "K7Q2", errors.New("disk full"), "Pairing failed: Something went wrong on this kiosk; the details are in its log (code: internal)"},
	} {
		s.url.SetText(c.url)
		s.code.SetText(c.code)
		if c.err != nil {
			fp.errs = []error{c.err}
		}
		test.Tap(s.pair)
		if !strings.HasPrefix(s.msg.Text, c.want) || !s.msg.Visible() {
			t.Errorf("%q %q: message %q, want %q…", c.url, c.code, s.msg.Text, c.want)
		}
		if s.pair.Disabled() {
			t.Errorf("%q: Pair stays disabled after the answer", c.url)
		}
	}
	if len(fp.calls) != 4 {
		t.Fatalf("Pair called %d times (%v), want 4: not for empty or malformed fields", len(fp.calls), fp.calls)
	}

	// Success, by Enter in the code field: "paired with", the fields go.
	s.url.SetText(" http://127.0.0.1:8443/ ")
	s.code.SetText("")
	test.Type(s.code, "K7Q3")
	s.code.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := fp.calls[len(fp.calls)-1]; got != "http://127.0.0.1:8443|K7Q3" {
		t.Fatalf("last call %q", got)
	}
	if got := s.msg.Text; got != "Paired with http://127.0.0.1:8443" {
		t.Errorf("message = %q", got)
	}
	if s.form.Visible() {
		t.Error("pairing fields still shown once paired")
	}

	// The sync worker's status follows.
	a.Handle(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &kiosk.SyncStatus{
		Online: true, Queued: 2, Gallery: 5, LastSync: time.Date(2025, 5, 1, 9, 30, 0, 0, time.Local)}})
	want := "Paired with http://127.0.0.1:8443\nOnline · 2 check-ins waiting to be sent · 5 people in the gallery\nLast sync at 09:30:00"
	if got := s.status.Text; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	a.Handle(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &kiosk.SyncStatus{
		Queued: 3, Gallery: 5, LastError: "kiosk: server unreachable"}})
	if got := s.status.Text; !strings.Contains(got, "Offline · 3 check-ins waiting") || !strings.Contains(got, "Last error: kiosk: server unreachable") {
		t.Errorf("offline status = %q", got)
	}

	a.Handle(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &kiosk.SyncStatus{
		State: api.SyncDegraded, Queued: 4, Gallery: 5, LastError: "kiosk: gallery answer refused"}})
	if got := s.status.Text; !strings.Contains(got, "Server answers wrongly · 4 check-ins waiting") {
		t.Errorf("degraded status = %q", got)
	}
	a.Handle(kiosk.Event{Kind: kiosk.EventSync, State: kiosk.StateIdle, Sync: &kiosk.SyncStatus{
		Queued: 3, Gallery: 5, LastError: "kiosk: server unreachable"}})

	// In another language the section keeps what it knows.
	a.settings.language.SetSelected("日本語")
	if got := a.settings.server.status.Text; !strings.HasPrefix(got, "http://127.0.0.1:8443 とペアリング済み\nオフライン") {
		t.Errorf("ja status = %q", got)
	}
}

// A kiosk paired at start shows its server; without Pair no fields show.
func TestServerPairedAtStart(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.PairedWith = "https://checkin.example.org" })
	unlockSettings(t, h)
	s := h.app.settings.server
	if got := s.status.Text; got != "Paired with https://checkin.example.org" {
		t.Errorf("status = %q", got)
	}
	if s.form.Visible() {
		t.Error("pairing fields shown on a paired kiosk")
	}
}
