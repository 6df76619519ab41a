package enrol_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/storage"
)

// The kiosk's bulk enrolment and the server's registration apply one rule
// to a photo: over the first photo of every person of the dev faces, the
// people enrol.First enrols are exactly those whose photo the server's path
// (the uploaded bytes decoded, then engine.EnrolPhoto) accepts, with the
// same template; every refused person is skipped with a line giving the
// server's reason, and the enrolment goes on past them.
func TestEnrolFirstAppliesTheServersRegistrationRule(t *testing.T) {
	if testing.Short() {
		t.Skip("real engine on every dev face")
	}
	faces := testenv.Faces(t)
	root := filepath.Join(faces, "images")
	people, err := enrol.ReadPeople(filepath.Join(faces, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(testenv.Models(t), engine.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	// The server's registration: the upload's bytes, decoded and run
	// through EnrolPhoto (cmd/facecheck-server's engine encoder).
	server := map[string][]byte{}  // accepted: id → quantized template
	refused := map[string]string{} // refused: id → first reason
	for _, p := range people {
		b, err := os.ReadFile(filepath.Join(root, p.Paths[0]))
		if err != nil {
			t.Fatal(err)
		}
		im, err := engine.DecodeImage(b)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := eng.EnrolPhoto(im)
		if issues, ok := enrol.Refused(err); ok {
			refused[p.ID] = string(issues[0].Reason)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		q, err := engine.Quantize(enc.Embedding)
		if err != nil {
			t.Fatal(err)
		}
		server[p.ID] = q.Bytes()
	}
	// The photos that made the two rules differ: a second face the kiosk's
	// plain Encode ignored.
	for _, id := range []string{"andre_agassi", "hans_blix", "igor_ivanov", "junichiro_koizumi", "megawati_sukarnoputri", "tony_blair"} {
		if refused[id] != string(engine.ReasonManyFaces) {
			t.Errorf("server: %s refused for %q, want %s", id, refused[id], engine.ReasonManyFaces)
		}
	}
	if len(server) < len(people)/2 {
		t.Fatalf("server accepted %d of %d photos: the dev faces are mostly good photos", len(server), len(people))
	}

	db := openDB(t)
	var log bytes.Buffer
	done, err := enrol.First(context.Background(), eng, db, people, root, len(people), &log)
	if err != nil {
		t.Fatalf("enrol.First stopped after %d people: %v", len(done), err)
	}
	kiosk := map[string]bool{}
	for _, p := range done {
		kiosk[p.ID] = true
	}
	stored := map[string][]byte{}
	ts, err := db.AllTemplates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range ts {
		stored[tm.AttendeeID] = tm.Data
	}
	for _, p := range people {
		want, accepted := server[p.ID]
		switch {
		case accepted && !kiosk[p.ID]:
			t.Errorf("%s: the server accepts %s, the kiosk refused it", p.ID, p.Paths[0])
		case !accepted && kiosk[p.ID]:
			t.Errorf("%s: the server refuses %s (%s), the kiosk enrolled it", p.ID, p.Paths[0], refused[p.ID])
		case accepted && !bytes.Equal(stored[p.ID], want):
			t.Errorf("%s: the kiosk stored another template than the server would", p.ID)
		case !accepted:
			line := "enrol: skipped " + p.ID + ": " + p.Paths[0] + " refused: " + refused[p.ID]
			if !strings.Contains(log.String(), line) {
				t.Errorf("no line %q in the enrolment's log:\n%s", line, log.String())
			}
		}
	}
	if len(stored) != len(server) {
		t.Errorf("%d people stored, the server accepts %d", len(stored), len(server))
	}
	t.Logf("%d of %d first photos accepted by both, %d refused by both", len(server), len(people), len(refused))
}

func openDB(t *testing.T) *storage.DB {
	t.Helper()
	dir := t.TempDir()
	key, err := storage.LoadOrCreateKey(filepath.Join(dir, "kiosk.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(dir, "kiosk.db"), storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
