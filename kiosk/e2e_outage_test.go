package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/storage"
)

// fullDisk is the kiosk's real database with an injected full disk: after
// okBefore check-ins, RecordCheckIn and Probe fail with storage.ErrDiskFull
// (as SQLite's SQLITE_FULL does, the write rolled back) until freeAfter
// probes have failed; then space is back.
type fullDisk struct {
	*storage.DB
	mu                  sync.Mutex
	okBefore, freeAfter int
	recorded, probes    int
	failed              int // check-ins refused
}

func (f *fullDisk) full() bool { return f.recorded >= f.okBefore && f.probes < f.freeAfter }

func (f *fullDisk) RecordCheckIn(ctx context.Context, c api.CheckIn) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full() {
		f.failed++
		return false, fmt.Errorf("storage: record check-in %s: %w: injected", c.ID, storage.ErrDiskFull)
	}
	dup, err := f.DB.RecordCheckIn(ctx, c)
	if err == nil {
		f.recorded++
	}
	return dup, err
}

func (f *fullDisk) Probe(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full() {
		f.probes++
		return fmt.Errorf("storage: probe free space: %w: injected", storage.ErrDiskFull)
	}
	return f.DB.Probe(ctx)
}

// pacedCamera reads a video in real time, as a camera delivers it, so the
// out-of-order screen lasts as long in frames as it does on a desk.
type pacedCamera struct {
	Camera
	every time.Duration
	next  time.Time
}

func (p *pacedCamera) Read() (engine.Image, error) {
	if d := time.Until(p.next); d > 0 {
		time.Sleep(d)
	}
	p.next = time.Now().Add(p.every)
	return p.Camera.Read()
}

// TestHeadlessDiskFullDegrades: the disk fills up after the first
// check-in. The headless kiosk does not stop: it writes an out_of_order
// line that tells the person to ask staff, drops frames while it probes
// the storage, writes a resumed line once space is back and checks the
// others in; every check-in it printed is stored, once.
func TestHeadlessDiskFullDegrades(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	fo := fixture.DefaultOptions()
	// Everyone twice: the person the full disk refused walks up again.
	w.scenes = append(w.scenes, w.scenes...)
	video := w.video(t, "kiosk.avi", fo)
	db := openTestDB(t)
	if enrolled, err := enrol.First(ctx, w.eng, db, w.picks, w.root, len(w.picks), t.Output()); err != nil || len(enrolled) != len(w.picks) {
		t.Fatalf("enrolled %d: %v", len(enrolled), err)
	}
	g, err := LoadGallery(ctx, db, 3)
	if err != nil {
		t.Fatal(err)
	}
	store := &fullDisk{DB: db, okBefore: 1, freeAfter: 2}
	k, err := New(DefaultConfig(), w.eng, g, store, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cam, err := OpenVideo(video, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	var out bytes.Buffer
	if _, err := RunHeadless(ctx, &pacedCamera{Camera: cam, every: time.Duration(float64(time.Second) / fo.FPS)}, k,
		HeadlessOptions{AutoConfirm: true}, &out); err != nil {
		t.Fatalf("RunHeadless stopped: %v", err)
	}

	var order []string
	printed := map[string]string{} // check-in id → attendee
	var outOfOrder Line
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch l.Event {
		case "checkin", string(EventOutOfOrder), string(EventResumed):
			order = append(order, l.Event)
			t.Logf("frame %d: %s %s %s", l.Frame, l.Event, l.AttendeeID, l.Err)
		}
		switch l.Event {
		case "checkin":
			if _, dup := printed[l.CheckInID]; dup {
				t.Errorf("check-in %s printed twice", l.CheckInID)
			}
			printed[l.CheckInID] = l.AttendeeID
		case string(EventOutOfOrder):
			outOfOrder = l
		}
	}
	got := strings.Join(order, " ")
	if !strings.HasPrefix(got, "checkin out_of_order resumed checkin") {
		t.Fatalf("events %q, want a check-in, out_of_order, resumed, then check-ins again", got)
	}
	if outOfOrder.State != StateError || outOfOrder.Code != EDISKFULL || !strings.Contains(outOfOrder.Err, "disk is full") || !strings.Contains(outOfOrder.Err, "ask a member of staff") {
		t.Errorf("out_of_order line %+v, want the error state, the full disk and what to do", outOfOrder)
	}
	if store.failed != 1 {
		t.Errorf("%d check-ins met the full disk, want 1 (then out of order)", store.failed)
	}
	n, err := db.CountCheckIns(ctx, time.Time{})
	if err != nil || n != len(printed) {
		t.Fatalf("%d check-ins stored (%v), %d printed", n, err, len(printed))
	}
	for id := range printed {
		if _, err := db.FindCheckIn(ctx, id); err != nil {
			t.Errorf("printed check-in %s: %v", id, err)
		}
	}
	if q, _ := db.OutboxLen(ctx); q != n {
		t.Errorf("outbox %d, want every stored check-in (%d) queued", q, n)
	}
}
