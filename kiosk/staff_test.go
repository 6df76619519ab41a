package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/storage"
)

type staffEnv struct {
	eng   *engine.Engine
	db    *storage.DB
	g     *engine.Gallery
	faces string
	key   []byte
}

func newStaffEnv(t *testing.T) *staffEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("real engine")
	}
	faces := testenv.Faces(t)
	eng, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	db := openTestDB(t)
	tk := make([]byte, 32)
	for i := range tk {
		tk[i] = byte(i + 7)
	}
	return &staffEnv{eng: eng, db: db, g: engine.NewGallery(3), faces: faces, key: tk}
}

func (e *staffEnv) staff(t *testing.T, paired bool) *Staff {
	t.Helper()
	o := StaffOptions{DB: e.db, Engine: e.eng, Gallery: e.g}
	if paired {
		o.Pairing = func() *Pairing { return &Pairing{ServerURL: "http://x", Token: "t", TemplateKey: e.key} }
	}
	s, err := NewStaff(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *staffEnv) photo(t *testing.T, rel string) engine.Image {
	t.Helper()
	im, err := engine.LoadImage(filepath.Join(e.faces, rel))
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// firstPhotos returns two photos of one identity from the dev faces.
func (e *staffEnv) twoPhotos(t *testing.T) (string, string) {
	t.Helper()
	people, err := enrol.ReadPeople(filepath.Join(e.faces, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		if len(p.Paths) >= 2 {
			return filepath.Join("images", p.Paths[0]), filepath.Join("images", p.Paths[1])
		}
	}
	t.Skip("no identity with two photos")
	return "", ""
}

func TestStaffEnrolPairedFindable(t *testing.T) {
	e := newStaffEnv(t)
	s := e.staff(t, true)
	ctx := context.Background()
	first, second := e.twoPhotos(t)

	res, err := s.Enrol(ctx, e.photo(t, first).RGBA(false), "  Walk Up  ", "walk.up@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Queued || res.Name != "Walk Up" || res.AttendeeID == "" {
		t.Fatalf("result %+v", res)
	}
	// Stored locally and in the gallery: the person's other photo finds them.
	at, err := e.db.FindAttendee(ctx, res.AttendeeID)
	if err != nil || at.Name != "Walk Up" {
		t.Fatalf("local attendee %+v: %v", at, err)
	}
	enc, err := e.eng.Encode(e.photo(t, second))
	if err != nil {
		t.Fatal(err)
	}
	probe, err := engine.Quantize(enc.Embedding)
	if err != nil {
		t.Fatal(err)
	}
	m := e.g.Search(&probe)
	if m.ID != res.AttendeeID || m.Score < DefaultConfig().Confirm {
		t.Fatalf("gallery search %+v, want %s above %.2f", m, res.AttendeeID, DefaultConfig().Confirm)
	}
	// Found again after a restart (LoadGallery from the database).
	g2, err := LoadGallery(ctx, e.db, 3)
	if err != nil || g2.Len() != 1 {
		t.Fatalf("reloaded gallery %d: %v", g2.Len(), err)
	}
	// Queued for the server, sealed under the event key with the same id.
	items, err := e.db.PendingOutbox(ctx, 10, time.Now().Add(time.Hour))
	if err != nil || len(items) != 1 || items[0].Kind != storage.OutboxEnrol {
		t.Fatalf("outbox %+v: %v", items, err)
	}
	var req api.EnrolRequest
	if err := json.Unmarshal(items[0].Payload, &req); err != nil {
		t.Fatal(err)
	}
	if req.ID != res.AttendeeID || req.Email != "walk.up@example.com" || !req.Consent {
		t.Fatalf("queued %+v", req)
	}
	tpl, err := api.OpenTemplate(e.key, req.ID, req.Template)
	if err != nil || len(tpl.Data) != storage.TemplateBytes {
		t.Fatalf("open sealed template: %v", err)
	}
}

func TestStaffEnrolNotPairedKeptLocal(t *testing.T) {
	e := newStaffEnv(t)
	s := e.staff(t, false)
	ctx := context.Background()
	first, _ := e.twoPhotos(t)
	res, err := s.Enrol(ctx, e.photo(t, first).RGBA(false), "Local Only", "local@example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued || res.Note != NoteNotPaired {
		t.Fatalf("result %+v, want kept local with the not-paired note", res)
	}
	if n, _ := e.db.OutboxLen(ctx); n != 0 {
		t.Errorf("outbox has %d items, want 0", n)
	}
	if e.g.Len() != 1 {
		t.Errorf("gallery %d, want 1", e.g.Len())
	}
}

func TestStaffEnrolRejects(t *testing.T) {
	e := newStaffEnv(t)
	s := e.staff(t, true)
	ctx := context.Background()
	first, _ := e.twoPhotos(t)
	good := e.photo(t, first).RGBA(false)

	// A group photo: many_faces, named so the UI can say why.
	_, err := s.Enrol(ctx, e.photo(t, "groups/face_recognition__two_people.jpg").RGBA(false), "Two", "two@example.com", true)
	var rej *engine.RejectedError
	if !errors.As(err, &rej) || !hasIssue(rej.Issues, engine.ReasonManyFaces) {
		t.Fatalf("group photo: %v, want rejection many_faces", err)
	}

	inputs := []struct {
		name, email string
		consent     bool
		want        error
	}{
		{"No Consent", "nc@example.com", false, ErrConsentRequired},
		{"  ", "x@example.com", true, ErrNameRequired},
		{"Bad Mail", "not-an-email", true, ErrEmailInvalid},
		{"Bad Mail", "a@b", true, ErrEmailInvalid},
	}
	for _, in := range inputs {
		if _, err := s.Enrol(ctx, good, in.name, in.email, in.consent); !errors.Is(err, in.want) {
			t.Errorf("%q %q consent=%v: %v, want %v", in.name, in.email, in.consent, err, in.want)
		}
	}
	if _, err := s.Enrol(ctx, nil, "X", "x@example.com", true); !errors.Is(err, ErrNoPhoto) {
		t.Errorf("empty frame: %v", err)
	}
	// Nothing was stored or queued by any rejection.
	if n, _ := e.db.CountAttendees(ctx); n != 0 {
		t.Errorf("%d attendees stored after rejections", n)
	}
	if n, _ := e.db.OutboxLen(ctx); n != 0 {
		t.Errorf("%d outbox items after rejections", n)
	}
	if e.g.Len() != 0 {
		t.Errorf("gallery %d after rejections", e.g.Len())
	}
}

func hasIssue(is []engine.Issue, r engine.Reason) bool {
	for _, i := range is {
		if i.Reason == r {
			return true
		}
	}
	return false
}

// Manual check-in needs no engine: plain storage.
func TestStaffManualCheckIn(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	tpl := api.Template{Model: engine.ModelID, Version: engine.TemplateVersion, Data: make([]byte, storage.TemplateBytes)}
	for _, a := range []storage.Attendee{{ID: "a1", Name: "Kim Min-jun", Info: "Seat B12"}, {ID: "a2", Name: "Sato Hana"}} {
		if err := db.UpsertAttendee(ctx, a, []api.Template{tpl}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewStaff(StaffOptions{DB: db, Engine: nopEnroller{}, Gallery: engine.NewGallery(3)})
	if err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, "kim")
	if err != nil || len(hits) != 1 || hits[0].ID != "a1" || hits[0].CheckedIn {
		t.Fatalf("search kim: %+v %v", hits, err)
	}
	if n, _ := s.TodayCount(ctx); n != 0 {
		t.Fatalf("today %d, want 0", n)
	}
	r, err := s.ManualCheckIn(ctx, "a1", "desk")
	if err != nil || r.Outcome != OutcomeCheckedIn || r.Method != api.MethodManual || r.CheckInID == "" || r.Info != "Seat B12" {
		t.Fatalf("manual check-in %+v: %v", r, err)
	}
	r2, err := s.ManualCheckIn(ctx, "a1", "desk")
	if err != nil || r2.Outcome != OutcomeRepeat || r2.CheckInID != "" {
		t.Fatalf("second manual check-in %+v: %v, want repeat", r2, err)
	}
	if n, _ := s.TodayCount(ctx); n != 1 {
		t.Fatalf("today %d, want 1 (recorded once)", n)
	}
	if n, _ := db.CountCheckIns(ctx, time.Time{}); n != 1 {
		t.Fatalf("stored check-ins %d, want 1", n)
	}
	c, err := db.FindCheckIn(ctx, r.CheckInID)
	if err != nil || c.Method != api.MethodManual || c.AttendeeID != "a1" {
		t.Fatalf("stored %+v: %v", c, err)
	}
	hits, _ = s.Search(ctx, "kim")
	if len(hits) != 1 || !hits[0].CheckedIn {
		t.Errorf("search after check-in: %+v, want checked in", hits)
	}
	audit, err := db.ListAudit(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range audit {
		if a.Action == "checkin.manual" && a.Actor == "desk" {
			found = true
		}
	}
	if !found {
		t.Errorf("no checkin.manual audit entry by desk in %+v", audit)
	}
	if _, err := s.ManualCheckIn(ctx, "nobody", "desk"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown attendee: %v, want ErrNotFound", err)
	}
}

type nopEnroller struct{}

func (nopEnroller) EnrolPhoto(engine.Image) (engine.Encoded, error) {
	return engine.Encoded{}, errors.New("not used")
}
