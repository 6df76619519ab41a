package kiosk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	files "github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
)

// TestEndToEndServerKiosk is the whole product on loopback with the real
// engine: a staff kiosk enrolls two people by photo (walk-up enrolment through
// the server API, both agreeing to check-in captures), a second kiosk pairs,
// pulls the gallery, watches a video of those two and of someone not
// enrolled walking up, and pushes its check-ins: the server ends with
// exactly the two enrolled people checked in, once each, and, the event
// keeping captures, with each one's check-in capture as a second template,
// which the kiosk then pulls.
func TestEndToEndServerKiosk(t *testing.T) {
	if testing.Short() {
		t.Skip("real engine")
	}
	faces := testenv.Faces(t)
	eng, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := ctxFor(t, 3*time.Minute)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{9}, api.KeySize), "127.0.0.1:0")
	if _, err := rs.DB.UpdateEventSettings(ctx, rs.Event.ID, nil, map[string]string{api.SettingCaptureTemplates: "true"}); err != nil {
		t.Fatal(err)
	}

	people, err := files.ReadPeople(filepath.Join(faces, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var pool []files.Person
	for _, p := range people {
		if len(p.Paths) >= 3 {
			pool = append(pool, p)
		}
	}
	picks := []files.Person{pool[1], pool[len(pool)/2], pool[len(pool)-2]}
	root := filepath.Join(faces, "images")
	load := func(rel string) (engine.Image, engine.Encoded) {
		t.Helper()
		im, err := engine.LoadImage(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		enc, err := eng.Encode(im)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		return im, enc
	}

	// Staff kiosk: walk-up enrolment of the first two people.
	staff := newKiosk(t)
	p, err := staff.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "staff desk")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // server attendee id -> identity
	for _, person := range picks[:2] {
		_, enc := load(person.Paths[0])
		q, err := engine.Quantize(enc.Embedding)
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.NewString()
		sealed, err := api.SealTemplate(p.TemplateKey, id, api.Template{Model: q.Model, Version: q.Version, Data: q.Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := staff.DB.QueueEnrolment(ctx, api.EnrolRequest{ID: id, Name: person.ID, Consent: true, CaptureConsent: true, Template: sealed}); err != nil {
			t.Fatal(err)
		}
		want[id] = person.ID
	}
	if _, err := staff.Sync.PushCheckIns(ctx); err != nil {
		t.Fatal(err)
	}

	// Door kiosk: pair, pull, watch the video, push.
	door := newKiosk(t)
	doorPairing, err := door.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "door")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := door.Sync.PullGallery(ctx); err != nil {
		t.Fatal(err)
	}
	if door.Gallery.Len() != 2 {
		t.Fatalf("door gallery has %d people, want 2", door.Gallery.Len())
	}
	// Their capture consent came with the feed: without it the door sends
	// no capture of them.
	for id, name := range want {
		a, err := door.DB.FindAttendee(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !a.CaptureConsent {
			t.Errorf("%s (%s) reached the door kiosk without their capture consent", name, id)
		}
	}
	var scenes []fixture.Scene
	for _, person := range picks {
		im, enc := load(person.Paths[1])
		scenes = append(scenes, fixture.Scene{Photo: im, Landmarks: &enc.Landmarks, Label: person.ID})
	}
	video := filepath.Join(t.TempDir(), "door.avi")
	if _, err := fixture.Write(video, scenes, fixture.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	cfg := kiosk.DefaultConfig()
	cfg.CodeKey, cfg.CaptureTemplates = doorPairing.TemplateKey, true
	k, err := kiosk.New(cfg, eng, door.Gallery, door.DB, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cam, err := kiosk.OpenVideo(video, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	var out bytes.Buffer
	if _, err := kiosk.RunHeadless(ctx, cam, k, kiosk.HeadlessOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if _, err := door.Sync.PushCheckIns(ctx); err != nil {
		t.Fatal(err)
	}
	if n := door.queued(t); n != 0 {
		t.Errorf("%d check-ins still queued after the push", n)
	}

	cs, err := rs.DB.ListCheckIns(context.Background(), rs.Event.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range cs {
		got[c.AttendeeID]++
	}
	for id, name := range want {
		if got[id] != 1 {
			t.Errorf("%s (%s) checked in %d times on the server, want 1", name, id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("server check-ins %v, want only the two enrolled people", got)
	}

	// Captures: sent with the confident check-ins, kept by the server,
	// pulled by the kiosk.
	captured := map[string]bool{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l kiosk.Line
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		if l.Event == "checkin" && l.Captured {
			captured[l.AttendeeID] = true
		}
	}
	if len(captured) == 0 {
		t.Fatal("no check-in carried a capture")
	}
	for id, name := range want {
		a, err := rs.DB.FindAttendeeByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		wantN := 1
		if captured[id] {
			wantN = 2
		}
		if a.Templates != wantN {
			t.Errorf("%s has %d templates on the server, want %d (captured: %v)", name, a.Templates, wantN, captured[id])
		}
	}
	if _, err := door.Sync.PullGallery(ctx); err != nil {
		t.Fatal(err)
	}
	if n := door.Gallery.Templates(); door.Gallery.Len() != 2 || n != 2+len(captured) {
		t.Errorf("door gallery after the captures: %d people, %d templates; want 2 and %d", door.Gallery.Len(), n, 2+len(captured))
	}
}
