package kiosk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/erasuretest"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// Revoking a kiosk rotates the event key (real server, real kiosk
// storage): the other kiosk learns of it on its next round, fetches the
// new key, seals its queued walk-up enrolment again under it, pulls the
// whole gallery and delivers everything it had queued (nothing lost); its
// short-code hashes are the new key's, so the codes people hold still
// check in; the revoked kiosk's key opens none of the templates the
// server now sends, and checks none of the codes.
func TestKeyRotationOnRevoke(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{5}, api.KeySize), "127.0.0.1:0")
	rng := rand.New(rand.NewPCG(17, 1))
	names := []string{"Ana Lima", "Bo Chen", "Cy Dutta"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = rs.addAttendee(t, n, randomTemplate(t, rng))
	}
	revoked, door := newKiosk(t), newKiosk(t)
	for _, k := range []*kioskSide{revoked, door} {
		if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "kiosk"); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Sync.SyncOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old := door.Sync.Pairing()
	if old.KeyVersion != 1 {
		t.Fatalf("paired at key version %d, want 1", old.KeyVersion)
	}
	// Queued on the door before it hears of the rotation: two check-ins
	// and a walk-up enrolment sealed under the old key.
	checkIns := []string{door.record(t, ids["Ana Lima"]), door.record(t, ids["Bo Chen"])}
	walkUp := uuid.NewString()
	sealed, err := api.SealTemplate(old.TemplateKey, walkUp, randomTemplate(t, rng))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := door.DB.QueueEnrolment(ctx, api.EnrolRequest{ID: walkUp, Name: "Walk Up", Consent: true, Template: sealed}); err != nil {
		t.Fatal(err)
	}

	kid := revoked.Sync.Pairing().KioskID
	if err := rs.DB.RevokeKiosk(ctx, kid); err != nil {
		t.Fatal(err)
	}
	newKey, version, err := rs.DB.EventKey(ctx, rs.Event.ID)
	if err != nil || version != 2 {
		t.Fatalf("server key version %d, %v", version, err)
	}

	rr, err := door.Sync.SyncOnce(ctx)
	if err != nil {
		t.Fatalf("the door's round after the rotation: %v", err)
	}
	p := door.Sync.Pairing()
	if p.KeyVersion != 2 || !bytes.Equal(p.TemplateKey, newKey) {
		t.Fatalf("the door holds key version %d (new key: %v)", p.KeyVersion, bytes.Equal(p.TemplateKey, newKey))
	}
	if onDisk, err := kiosk.LoadPairing(kiosk.PairingPathFor(filepath.Join(door.dir, "kiosk.key"))); err != nil || onDisk.KeyVersion != 2 || !bytes.Equal(onDisk.TemplateKey, newKey) {
		t.Fatalf("the pairing file was not updated: %+v, %v", onDisk, err)
	}
	if !rr.Gallery.Full || rr.Gallery.Upserts != 3 || door.Gallery.Len() != 3 {
		t.Errorf("after the rotation the door pulled %+v and recognises %d people; want the whole gallery of 3", rr.Gallery, door.Gallery.Len())
	}
	if rr.Push.Sent != 3 || rr.Push.Rejected != 0 || door.queued(t) != 0 {
		t.Errorf("push after the rotation: %+v, %d left; want the 2 check-ins and the enrolment delivered", rr.Push, door.queued(t))
	}
	got := rs.serverCheckIns(t)
	for _, id := range checkIns {
		if !slices.Contains(got, id) {
			t.Errorf("check-in %s lost", id)
		}
	}
	if a, err := rs.DB.FindAttendeeByID(ctx, walkUp); err != nil || a.Templates != 1 {
		t.Errorf("the walk-up enrolment sealed under the old key did not arrive: %+v, %v", a, err)
	}

	// Short codes: what people hold checks in on the door, with its key;
	// the revoked kiosk's key checks none.
	ev, err := rs.DB.FindEventByID(ctx, rs.Event.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		code, err := rs.DB.ShortCode(ctx, ev, ids[n])
		if err != nil {
			t.Fatal(err)
		}
		a, err := door.DB.FindAttendee(ctx, ids[n])
		if err != nil {
			t.Fatal(err)
		}
		if a.CodeHash != api.HashShortCode(p.TemplateKey, code) {
			t.Errorf("%s: the door cannot check their short code after the rotation", n)
		}
		if a.CodeHash == api.HashShortCode(old.TemplateKey, code) {
			t.Errorf("%s: the old key still checks their short code", n)
		}
	}

	// The whole feed as the server now sends it: the old key opens nothing.
	feed := rawGallery(t, rs.URL(), p.Token)
	if len(feed) != 4 {
		t.Fatalf("feed has %d records", len(feed))
	}
	for _, r := range feed {
		for _, st := range r.Templates {
			if _, err := api.OpenTemplate(old.TemplateKey, r.AttendeeID, st); !errors.Is(err, api.ErrSealed) {
				t.Errorf("%s: the revoked kiosk's key opens a template the server sends now (%v)", r.Name, err)
			}
			if _, err := api.OpenTemplate(newKey, r.AttendeeID, st); err != nil {
				t.Errorf("%s: the new key does not open it: %v", r.Name, err)
			}
		}
	}
}

// rawGallery reads GET /v1/gallery?since=0 as a kiosk with token would.
func rawGallery(t *testing.T, base, token string) []api.GalleryRecord {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+api.Version+"/gallery?since=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("gallery: HTTP %d", resp.StatusCode)
	}
	var recs []api.GalleryRecord
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r api.GalleryRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.AttendeeID != "" {
			recs = append(recs, r)
		}
	}
	return recs
}

// When the server ends the kiosk's part in its event, the kiosk wipes what
// it holds of it, and nothing of it can be read back from its files:
// revoked (401 token_revoked), the gallery, check-ins, outbox, pairing
// file, token and event key; the event closed or purged (410
// event_closed), the gallery, check-ins and outbox, the pairing kept. The check-ins not yet
// sent could never be accepted; they are counted in the audit entry. An
// unknown token (a server restored from a backup) wipes nothing.
func TestWipeWhenServerEndsTheKiosk(t *testing.T) {
	for _, tc := range []struct {
		name      string
		end       func(t *testing.T, rs *realServer, k *kioskSide)
		state     string
		wiped     bool
		keepsPair bool
	}{
		{"revoked", func(t *testing.T, rs *realServer, k *kioskSide) {
			if err := rs.DB.RevokeKiosk(context.Background(), k.Sync.Pairing().KioskID); err != nil {
				t.Fatal(err)
			}
		}, kiosk.SyncRevoked, true, false},
		{"event closed", func(t *testing.T, rs *realServer, _ *kioskSide) {
			if _, err := rs.DB.CloseEvent(context.Background(), rs.Event.ID); err != nil {
				t.Fatal(err)
			}
		}, kiosk.SyncEventClosed, true, true},
		{"event purged", func(t *testing.T, rs *realServer, _ *kioskSide) {
			if _, err := rs.DB.PurgeEvent(context.Background(), rs.Event.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}, kiosk.SyncEventClosed, true, true},
		{"unknown token", func(t *testing.T, rs *realServer, k *kioskSide) {
			// The server forgot every kiosk (restored from an older copy).
			if err := rs.DB.DeleteEvent(context.Background(), rs.Event.ID); err != nil {
				t.Fatal(err)
			}
		}, api.SyncDegraded, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, time.Minute)
			rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{6}, api.KeySize), "127.0.0.1:0")
			base := rs.URL()
			rng := rand.New(rand.NewPCG(3, 4))
			const name = "Erasable Eventperson"
			aid := rs.addAttendee(t, name, randomTemplate(t, rng))
			rs.addAttendee(t, "Second Person", randomTemplate(t, rng))
			var pairings atomic.Int32
			k := newKiosk(t, func(c *kiosk.SyncConfig) {
				c.OnPairing = func(p *kiosk.Pairing) {
					if p == nil {
						pairings.Add(1)
					}
				}
			})
			p, err := k.Sync.Pair(ctx, base, rs.pairingCode(t), "door")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Sync.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			sent := k.record(t, aid)
			if _, err := k.Sync.PushCheckIns(ctx); err != nil {
				t.Fatal(err)
			}
			unsent := []string{k.record(t, aid), k.record(t, aid)}
			walkUp := "Walkup Unsentperson"
			ts, err := api.SealTemplate(p.TemplateKey, uuid.NewString(), randomTemplate(t, rng))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.DB.QueueEnrolment(ctx, api.EnrolRequest{ID: uuid.NewString(), Name: walkUp, Email: "walkup.unsent@example.org",
				Consent: true, Template: ts}); err != nil {
				t.Fatal(err)
			}
			pairingPath := kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key"))
			needles := map[string][]byte{
				"name": []byte(name), "walk-up name": []byte(walkUp), "walk-up e-mail": []byte("walkup.unsent@example.org"),
				"sent check-in": []byte(sent), "unsent check-in": []byte(unsent[0]),
			}
			pairNeedles := map[string][]byte{"token": []byte(p.Token), "event key (base64)": []byte(base64.StdEncoding.EncodeToString(p.TemplateKey))}
			if found := erasuretest.Traces(t, k.dir, mergeNeedles(needles, pairNeedles)); len(found) < len(needles)+len(pairNeedles) {
				t.Fatalf("before: only %v found: the scan cannot see the data", found)
			}

			tc.end(t, rs, k)
			_, err = k.Sync.SyncOnce(ctx)
			if err == nil {
				t.Fatal("the round after the end succeeded")
			}
			st := k.Sync.Status()
			if st.State != tc.state {
				t.Errorf("state %q, want %q (last error %q)", st.State, tc.state, st.LastError)
			}
			n, cerr := k.DB.CountAttendees(ctx)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if !tc.wiped {
				if n != 2 || k.queued(t) != 3 || !k.Sync.Paired() {
					t.Errorf("an unknown token wiped: %d people, %d queued, paired %v", n, k.queued(t), k.Sync.Paired())
				}
				return
			}
			if n != 0 || k.Gallery.Len() != 0 || k.queued(t) != 0 {
				t.Errorf("after the wipe: %d people stored, %d in memory, %d queued", n, k.Gallery.Len(), k.queued(t))
			}
			log, err := k.DB.ListAudit(ctx, 10)
			if err != nil || len(log) != 1 || !strings.Contains(log[0].Detail, "3 check-ins (2 never sent to the server), 1 walk-up enrolments never sent") {
				t.Errorf("audit after the wipe: %+v, %v", log, err)
			}
			check := needles
			if !tc.keepsPair {
				check = mergeNeedles(needles, pairNeedles)
				if _, err := os.Stat(pairingPath); !os.IsNotExist(err) {
					t.Errorf("pairing file still there: %v", err)
				}
				if k.Sync.Paired() || pairings.Load() != 1 {
					t.Errorf("still paired %v; OnPairing(nil) called %d times", k.Sync.Paired(), pairings.Load())
				}
			} else if !k.Sync.Paired() {
				t.Error("a closed event took the pairing")
			}
			if found := erasuretest.Traces(t, k.dir, check); len(found) > 0 {
				t.Errorf("after the wipe: %v", found)
			}
			// Nothing reached the server but the one pushed before.
			if got := rs.serverCheckIns(t); !slices.Equal(got, []string{sent}) && tc.name == "revoked" {
				t.Errorf("server check-ins %v, want only %s", got, sent)
			}
			// A second round wipes nothing more and says the same.
			if _, err := k.Sync.SyncOnce(ctx); tc.keepsPair && err == nil {
				t.Error("a round against a closed event succeeded")
			}
			if st := k.Sync.Status(); st.State != tc.state {
				t.Errorf("state after another round %q, want %q", st.State, tc.state)
			}
			if log, _ := k.DB.ListAudit(ctx, 10); len(log) != 1 {
				t.Errorf("another round wrote %d audit entries", len(log)-1)
			}
		})
	}
}

func mergeNeedles(a, b map[string][]byte) map[string][]byte {
	m := map[string][]byte{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// A walk-up enrolment pushed between rounds, sealed under a key the server
// rotated meanwhile, is refused as template_invalid: the kiosk fetches the
// new key, seals it again and sends it again in the same push, instead of
// dropping it.
func TestKeyRotationSeenByPush(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{8}, api.KeySize), "127.0.0.1:0")
	rng := rand.New(rand.NewPCG(5, 6))
	other, door := newKiosk(t), newKiosk(t)
	for _, k := range []*kioskSide{other, door} {
		if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "kiosk"); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.DB.RevokeKiosk(ctx, other.Sync.Pairing().KioskID); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	sealed, err := api.SealTemplate(door.Sync.Pairing().TemplateKey, id, randomTemplate(t, rng))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := door.DB.QueueEnrolment(ctx, api.EnrolRequest{ID: id, Name: "Between Rounds", Consent: true, Template: sealed}); err != nil {
		t.Fatal(err)
	}
	st, err := door.Sync.PushCheckIns(ctx)
	if err != nil || st.Sent != 1 || st.Rejected != 0 {
		t.Fatalf("push = %+v, %v; want the enrolment sent", st, err)
	}
	if a, err := rs.DB.FindAttendeeByID(ctx, id); err != nil || a.Templates != 1 {
		t.Fatalf("the enrolment did not arrive: %v", err)
	}
	if v := door.Sync.Pairing().KeyVersion; v != 2 {
		t.Errorf("door at key version %d, want 2", v)
	}
}

// A pairing file written before key versions (no key_version) holds the
// current key: the first answer's version makes the kiosk ask GET /v1/key,
// which finds the same key; it records the version and goes on with its
// delta, sealing nothing again and pulling no snapshot.
func TestKeyVersionAdoptedFromOldPairing(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{2}, api.KeySize), "127.0.0.1:0")
	rng := rand.New(rand.NewPCG(7, 8))
	rs.addAttendee(t, "Early Bird", randomTemplate(t, rng))
	k := newKiosk(t)
	p, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "door")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	path := kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key"))
	p.KeyVersion = 0
	if err := kiosk.SavePairing(path, p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || bytes.Contains(b, []byte("key_version")) {
		t.Fatalf("old-style pairing file: %s, %v", b, err)
	}
	k.Sync = k.newSyncer(t)
	rs.addAttendee(t, "Late Comer", randomTemplate(t, rng))
	rr, err := k.Sync.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Gallery.Full || rr.Gallery.Upserts != 1 || k.Gallery.Len() != 2 {
		t.Errorf("pull %+v, gallery %d; want the one new attendee as a delta", rr.Gallery, k.Gallery.Len())
	}
	if got := k.Sync.Pairing(); got.KeyVersion != 1 || !bytes.Equal(got.TemplateKey, p.TemplateKey) {
		t.Errorf("pairing after the round: version %d, same key %v", got.KeyVersion, bytes.Equal(got.TemplateKey, p.TemplateKey))
	}
	if log, err := k.DB.ListAudit(ctx, 10); err != nil || slices.ContainsFunc(log, func(e storage.AuditEntry) bool { return e.Action == "key.rotated" }) {
		t.Errorf("a key rotation was recorded for the same key (%v)", err)
	}
}
