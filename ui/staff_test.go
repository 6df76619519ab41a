package ui

import (
	"context"
	"errors"
	"image"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/facecheck/facecheck/kiosk"
)

// fakeStaff records staff calls and answers from its fields.
type fakeStaff struct {
	enrols   []string // name|email|consent
	frames   []image.Image
	enrolErr error
	queued   bool
	people   []kiosk.StaffPerson
	checked  map[string]bool
	today    int
}

func (f *fakeStaff) Enrol(_ context.Context, frame image.Image, name, email string, consent bool) (kiosk.EnrolResult, error) {
	c := "no"
	if consent {
		c = "yes"
	}
	f.enrols = append(f.enrols, name+"|"+email+"|"+c)
	f.frames = append(f.frames, frame)
	if f.enrolErr != nil {
		return kiosk.EnrolResult{}, f.enrolErr
	}
	return kiosk.EnrolResult{Name: name, Queued: f.queued}, nil
}
func (f *fakeStaff) TodayCount(context.Context) (int, error) { return f.today, nil }
func (f *fakeStaff) Search(_ context.Context, q string) ([]kiosk.StaffPerson, error) {
	var out []kiosk.StaffPerson
	for _, p := range f.people {
		if q != "" && strings.Contains(strings.ToLower(p.Name), strings.ToLower(q)) {
			p.CheckedIn = f.checked[p.ID]
			out = append(out, p)
		}
	}
	return out, nil
}
func (f *fakeStaff) ManualCheckIn(_ context.Context, id, _ string) (kiosk.Result, error) {
	for _, p := range f.people {
		if p.ID == id {
			if f.checked[id] {
				return kiosk.Result{Outcome: kiosk.OutcomeRepeat, Name: p.Name}, nil
			}
			f.checked[id] = true
			f.today++
			return kiosk.Result{Outcome: kiosk.OutcomeCheckedIn, Name: p.Name}, nil
		}
	}
	return kiosk.Result{}, kiosk.Errorf(kiosk.ENOTFOUND, "no attendee %s", id)
}

func newStaffHarness(t *testing.T, st *fakeStaff) *harness {
	t.Helper()
	frame := image.NewRGBA(image.Rect(0, 0, 64, 48))
	h := newHarness(t, func(o *Options) {
		o.Staff = st
		o.Frames = func() image.Image { return frame }
	})
	h.app.inline = true
	return h
}

// unlockStaff goes through the PIN (first use sets it) into staff mode
// from the main screen's Staff button.
func unlockStaff(t *testing.T, h *harness) {
	t.Helper()
	tapButtonLabelled(t, h.app.main.root, "Staff")
	h.wantScreen(ScreenPIN)
	test.Type(h.app.pin.pin, "2468")
	test.Type(h.app.pin.repeat, "2468")
	test.Tap(h.app.pin.submit)
	h.wantScreen(ScreenStaff)
}

func TestStaffEnrolFlow(t *testing.T) {
	st := &fakeStaff{queued: true, today: 5}
	h := newStaffHarness(t, st)
	a := h.app
	unlockStaff(t, h)
	s := a.staff
	if got := s.count.Text; got != "Checked in today: 5" {
		t.Errorf("count = %q", got)
	}

	// No consent: the service says why, in words.
	st.enrolErr = &kiosk.EnrolRejected{Err: errors.New("rejected"), Reasons: []string{"consent"}}
	test.Tap(s.capture)
	if s.captured == nil || s.capture.Text != "Retake photo" {
		t.Fatalf("capture did not freeze a frame (%q)", s.capture.Text)
	}
	test.Type(s.name, "Walk Up")
	test.Type(s.email, "walk@example.com")
	test.Tap(s.enrol)
	if len(st.enrols) != 1 || st.enrols[0] != "Walk Up|walk@example.com|no" {
		t.Fatalf("enrols = %v", st.enrols)
	}
	if !strings.Contains(s.enrolMsg.Text, "must agree") {
		t.Errorf("no-consent message = %q", s.enrolMsg.Text)
	}
	if s.captured == nil {
		t.Error("a field error dropped the captured photo")
	}

	// A group photo: many faces, photo to retake.
	st.enrolErr = &kiosk.EnrolRejected{Err: errors.New("rejected"), Reasons: []string{"many_faces", "yaw"}}
	test.Tap(s.consent)
	test.Tap(s.enrol)
	if !strings.Contains(s.enrolMsg.Text, "More than one person") || !strings.Contains(s.enrolMsg.Text, "look straight") {
		t.Errorf("rejection message = %q", s.enrolMsg.Text)
	}
	if s.captured != nil || s.capture.Text != "Take photo" {
		t.Error("photo rejection did not ask for a new photo")
	}

	// Success: the frame given is the camera's (not mirrored), fields clear.
	st.enrolErr = nil
	test.Tap(s.enrol) // captures the current frame itself
	if n := len(st.enrols); n != 3 || st.enrols[2] != "Walk Up|walk@example.com|yes" || st.frames[2] == nil {
		t.Fatalf("enrols = %v", st.enrols)
	}
	if !strings.Contains(s.enrolMsg.Text, "Walk Up is registered") || !strings.Contains(s.enrolMsg.Text, "next sync") {
		t.Errorf("success message = %q", s.enrolMsg.Text)
	}
	if s.name.Text != "" || s.email.Text != "" || s.consent.Checked {
		t.Error("fields not cleared after a registration")
	}

	// Not paired: said clearly.
	st.queued = false
	test.Type(s.name, "Local")
	test.Type(s.email, "l@example.com")
	test.Tap(s.consent)
	test.Tap(s.enrol)
	if !strings.Contains(s.enrolMsg.Text, "not paired") {
		t.Errorf("not-paired message = %q", s.enrolMsg.Text)
	}

	// Close returns to the kiosk flow.
	test.Tap(s.close)
	h.wantScreen(ScreenMain)
}

func TestStaffManualCheckIn(t *testing.T) {
	st := &fakeStaff{checked: map[string]bool{}, people: []kiosk.StaffPerson{
		{ID: "a1", Name: "Kim Min-jun", Info: "Seat B12"}, {ID: "a2", Name: "Sato Hana"}}}
	h := newStaffHarness(t, st)
	a := h.app
	unlockStaff(t, h)
	s := a.staff
	test.Type(s.search, "kim")
	if len(s.hits) != 1 || len(s.results.Objects) != 1 {
		t.Fatalf("hits %v, rows %d", s.hits, len(s.results.Objects))
	}
	tapButtonLabelled(t, s.results, "Kim Min-jun · Seat B12")
	if !s.confirm.Visible() || s.confirmQ.Text != "Check in Kim Min-jun?" {
		t.Fatalf("confirm %v %q", s.confirm.Visible(), s.confirmQ.Text)
	}
	test.Tap(s.confirmOK)
	if !st.checked["a1"] || s.checkMsg.Text != "Kim Min-jun is checked in." {
		t.Fatalf("check-in: %v %q", st.checked, s.checkMsg.Text)
	}
	if s.confirm.Visible() {
		t.Error("confirm still shown")
	}
	if s.count.Text != "Checked in today: 1" {
		t.Errorf("count = %q", s.count.Text)
	}
	// The list shows the tick; a second check-in is a repeat.
	tapButtonLabelled(t, s.results, "Kim Min-jun · Seat B12  ✓ checked in")
	test.Tap(s.confirmOK)
	if !strings.Contains(s.checkMsg.Text, "already checked in") || st.today != 1 {
		t.Errorf("repeat: %q today %d", s.checkMsg.Text, st.today)
	}
	// Nobody found.
	s.search.SetText("zzz")
	if len(s.results.Objects) != 1 {
		t.Fatalf("rows %d", len(s.results.Objects))
	}
	if l, ok := s.results.Objects[0].(*widget.Label); !ok || l.Text != "Nobody found with that name." {
		t.Errorf("no-hit row %T", s.results.Objects[0])
	}
}

func TestStaffFromSettingsAndWithoutService(t *testing.T) {
	h := newHarness(t, nil) // no Staff
	a := h.app
	a.OpenSettings()
	test.Tap(a.settings.staff)
	h.wantScreen(ScreenStaff)
	if !a.staff.enrol.Disabled() || a.staff.enrolMsg.Text == "" {
		t.Error("staff mode without a service is not shown as unavailable")
	}
	test.Tap(a.staff.settings)
	h.wantScreen(ScreenSettings)
}

func TestSecondVerificationWrongCode(t *testing.T) {
	h := newHarness(t, nil)
	a := h.app
	h.state(kiosk.StateSecondVerify)
	for _, k := range []string{"1", "2", "3", "4", "ok"} {
		test.Tap(a.second.keys[k])
	}
	// The runner answers a wrong code with an error event in second_verify.
	a.Handle(kiosk.Event{Kind: kiosk.EventError, State: kiosk.StateSecondVerify,
		Err: "That code does not match. Please try again (1 of 3).", Code: kiosk.ECODEWRONG, Args: []int{1, 3}})
	h.wantScreen(ScreenSecond)
	if !a.second.msg.Visible() || !strings.Contains(a.second.msg.Text, "That code did not work") ||
		!strings.Contains(a.second.msg.Text, "1 of 3") {
		t.Fatalf("wrong-code message %v %q", a.second.msg.Visible(), a.second.msg.Text)
	}
	if a.second.code.Text != "_" {
		t.Errorf("wrong code left in the box: %q", a.second.code.Text)
	}
	// Typing again clears the complaint.
	test.Tap(a.second.keys["5"])
	if a.second.msg.Visible() {
		t.Error("message still shown while typing")
	}
	// Third wrong code: OutcomeCodeRejected ends on not found with staff help.
	a.Handle(kiosk.Event{Kind: kiosk.EventState, State: kiosk.StateNotFound})
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound,
		Result: &kiosk.Result{Outcome: kiosk.OutcomeCodeRejected}})
	h.wantScreen(ScreenNotFound)
	if !strings.Contains(a.notFound.detail.Text, "code did not match") {
		t.Errorf("code-rejected help = %q", a.notFound.detail.Text)
	}
	// A plain not found afterwards shows the normal help.
	h.state(kiosk.StateIdle)
	h.clock.Advance(20e9)
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateNotFound, Result: &kiosk.Result{Outcome: kiosk.OutcomeNotFound}})
	if !strings.Contains(a.notFound.detail.Text, "walk-up") {
		t.Errorf("not-found help = %q", a.notFound.detail.Text)
	}
	// A right code: welcome.
	h.state(kiosk.StateSecondVerify)
	if a.second.msg.Visible() {
		t.Error("old message shown on a new second verification")
	}
	a.Handle(kiosk.Event{Kind: kiosk.EventResult, State: kiosk.StateWelcome,
		Result: &kiosk.Result{Outcome: kiosk.OutcomeCheckedIn, Name: "Ana", Method: "code"}})
	h.wantScreen(ScreenWelcome)
}

type fakeCamera struct {
	retries int
	used    []string
}

func (c *fakeCamera) Retry() { c.retries++ }
func (c *fakeCamera) UseCamera(spec string) error {
	if spec == "/nope" {
		return kiosk.Errorf(kiosk.EINVALID, "no camera, video or image folder at %s", spec)
	}
	c.used = append(c.used, spec)
	return nil
}

func TestCameraErrorActions(t *testing.T) {
	cam := &fakeCamera{}
	h := newHarness(t, func(o *Options) { o.Camera = cam })
	a := h.app
	a.Handle(kiosk.Event{Kind: kiosk.EventError, State: kiosk.StateError,
		Err: "The camera stopped working (camera: cannot open 0). Check its cable; the kiosk keeps retrying.", Code: kiosk.ECAMERA})
	h.wantScreen(ScreenError)
	p := a.camera
	if !p.root.Visible() {
		t.Fatal("camera actions hidden on a camera error")
	}
	test.Tap(p.retry)
	if cam.retries != 1 || !strings.Contains(p.status.Text, "again") {
		t.Errorf("retry: %d %q", cam.retries, p.status.Text)
	}
	test.Tap(p.choices["2"])
	if len(cam.used) != 1 || cam.used[0] != "2" {
		t.Errorf("used %v", cam.used)
	}
	test.Type(p.path, "/nope")
	test.Tap(p.usePath)
	// The kiosk's reason and the error code, not a raw error.
	if !strings.Contains(p.status.Text, "no camera, video or image folder at /nope") || !strings.Contains(p.status.Text, "code: invalid") {
		t.Errorf("bad path status %q", p.status.Text)
	}
	// Another kind of error: no camera actions.
	a.Handle(kiosk.Event{Kind: kiosk.EventError, State: kiosk.StateError, Err: "database is locked"})
	if p.root.Visible() {
		t.Error("camera actions shown for a database error")
	}
}

var _ fyne.CanvasObject = (*widget.Label)(nil)
