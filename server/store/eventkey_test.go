package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/server/store"
)

// Revoking a kiosk rotates its event's key in the same transaction: the
// version counts up, every template and short code of the event is sealed
// again under the new key (same plaintext), the short-code hashes the
// kiosks check are computed again, and the old key (the revoked kiosk's)
// opens nothing the feed sends. A second revoke changes nothing; the other
// kiosk's token still works; a capture sealed under the old key after the
// rotation is not kept, one sealed under the new key is.
func TestRevokeRotatesEventKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		ev, err := db.CreateEvent(ctx, "Rotating")
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateEvent(ctx, "Untouched")
		if err != nil {
			t.Fatal(err)
		}
		oldKey, v, err := db.EventKey(ctx, ev.ID)
		if err != nil || v != 1 || !bytes.Equal(oldKey, ev.TemplateKey) {
			t.Fatalf("before: version %d, key matches %v, %v", v, bytes.Equal(oldKey, ev.TemplateKey), err)
		}
		codes := map[string]string{}
		plain := map[string]api.Template{}
		for i, name := range []string{"Ana Lima", "Bo Chen", "Gone Person"} {
			reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: name, Consent: true, CaptureConsent: true,
				Templates: []api.Template{tpl(byte(i + 2))}})
			if err != nil {
				t.Fatal(err)
			}
			codes[reg.Attendee.ID] = reg.ShortCode
			plain[reg.Attendee.ID] = tpl(byte(i + 2))
			if name == "Gone Person" {
				if err := db.DeleteAttendee(ctx, reg.Attendee.ID); err != nil {
					t.Fatal(err)
				}
				delete(codes, reg.Attendee.ID)
			}
		}
		if _, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: other.ID, Name: "Elsewhere", Consent: true,
			Templates: []api.Template{tpl(9)}}); err != nil {
			t.Fatal(err)
		}
		var tokens [2]string
		var kiosks [2]*store.Kiosk
		for i := range tokens {
			code, _, err := db.CreatePairingCode(ctx, ev.ID, "admin", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if kiosks[i], tokens[i], err = db.Pair(ctx, code, "k", "1"); err != nil {
				t.Fatal(err)
			}
		}

		if err := db.RevokeKiosk(ctx, kiosks[0].ID); err != nil {
			t.Fatal(err)
		}
		newKey, v, err := db.EventKey(ctx, ev.ID)
		if err != nil || v != 2 || bytes.Equal(newKey, oldKey) || len(newKey) != api.KeySize {
			t.Fatalf("after the revoke: version %d, key changed %v, %v", v, !bytes.Equal(newKey, oldKey), err)
		}
		if ev2, err := db.FindEventByID(ctx, ev.ID); err != nil || !bytes.Equal(ev2.TemplateKey, newKey) {
			t.Fatalf("FindEventByID does not give the new key (%v)", err)
		}
		var recs []api.GalleryRecord
		if _, _, err := db.StreamGallery(ctx, ev.ID, 0, func(r api.GalleryRecord) error { recs = append(recs, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("the feed has %d records, want the 2 attendees left", len(recs))
		}
		for _, r := range recs {
			if len(r.Templates) != 1 {
				t.Fatalf("%s: %d templates", r.Name, len(r.Templates))
			}
			if _, err := api.OpenTemplate(oldKey, r.AttendeeID, r.Templates[0]); !errors.Is(err, api.ErrSealed) {
				t.Errorf("%s: the revoked kiosk's key opens the re-sealed template (%v)", r.Name, err)
			}
			got, err := api.OpenTemplate(newKey, r.AttendeeID, r.Templates[0])
			if err != nil || !bytes.Equal(got.Data, plain[r.AttendeeID].Data) {
				t.Errorf("%s: the new key opens %v, same template %v", r.Name, err, bytes.Equal(got.Data, plain[r.AttendeeID].Data))
			}
			if want := api.HashShortCode(newKey, codes[r.AttendeeID]); r.CodeHash != want {
				t.Errorf("%s: code hash not recomputed under the new key", r.Name)
			}
			if r.CodeHash == api.HashShortCode(oldKey, codes[r.AttendeeID]) {
				t.Errorf("%s: the old key still checks the short code", r.Name)
			}
			ev2, err := db.FindEventByID(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if code, err := db.ShortCode(ctx, ev2, r.AttendeeID); err != nil || code != codes[r.AttendeeID] {
				t.Errorf("%s: short code after the rotation %q, %v; want %q", r.Name, code, err, codes[r.AttendeeID])
			}
		}
		if k, v2, err := db.EventKey(ctx, other.ID); err != nil || v2 != 1 || !bytes.Equal(k, other.TemplateKey) {
			t.Errorf("the other event's key changed: version %d, %v", v2, err)
		}

		// Revoking again rotates nothing; the other kiosk keeps working.
		if err := db.RevokeKiosk(ctx, kiosks[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, v, err := db.EventKey(ctx, ev.ID); err != nil || v != 2 {
			t.Fatalf("a second revoke: version %d, %v", v, err)
		}
		if _, err := db.FindKioskByToken(ctx, tokens[0]); !errors.Is(err, store.ErrRevoked) {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := db.FindKioskByToken(ctx, tokens[1]); err != nil {
			t.Errorf("the other kiosk's token: %v", err)
		}
		if err := db.RevokeKiosk(ctx, "no-such-kiosk"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown kiosk: %v", err)
		}

		// Captures: one sealed under the old key is not kept (no kiosk
		// could open it), one under the new key is.
		aid := recs[0].AttendeeID
		for _, c := range []struct {
			name string
			key  []byte
			want bool
		}{{"old key", oldKey, false}, {"new key", newKey, true}} {
			sealed, err := api.SealTemplate(c.key, aid, tpl(40))
			if err != nil {
				t.Fatal(err)
			}
			res, err := db.RecordCheckIns(ctx, ev.ID, kiosks[1].ID, []api.CheckIn{{ID: uuid.NewString(), AttendeeID: aid,
				Method: api.MethodFace, At: time.Now(), Capture: &sealed}})
			if err != nil || res[0].Status != api.StatusAccepted || res[0].Captured != c.want {
				t.Errorf("capture under the %s: %+v, %v; want accepted, captured %v", c.name, res, err, c.want)
			}
		}
	})
}

// BenchmarkRevokeRotatesEventKey times a revoke of a kiosk of an event of
// 2,000 attendees with a template each: the rotation seals 2,000
// templates and short codes again in one transaction.
func BenchmarkRevokeRotatesEventKey(b *testing.B) {
	ctx := context.Background()
	db := openSQLite(b)
	ev, err := db.CreateEvent(ctx, "Big")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 2000 {
		if _, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "P", Consent: true,
			Templates: []api.Template{tpl(byte(i))}}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		b.StopTimer()
		code, _, err := db.CreatePairingCode(ctx, ev.ID, "admin", time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		k, _, err := db.Pair(ctx, code, "k", "1")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := db.RevokeKiosk(ctx, k.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// Registrations racing revokes: each one is sealed under the key in force
// when it is stored (a registration sealed under a key rotated meanwhile is
// sealed again), so after the race every template and short-code hash of
// the feed is the final key's.
func TestRotationRacesRegistrations(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		db := open(t)
		ctx := context.Background()
		ev, err := db.CreateEvent(ctx, "Race")
		if err != nil {
			t.Fatal(err)
		}
		var kiosks []string
		for range 5 {
			code, _, err := db.CreatePairingCode(ctx, ev.ID, "admin", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			k, _, err := db.Pair(ctx, code, "k", "1")
			if err != nil {
				t.Fatal(err)
			}
			kiosks = append(kiosks, k.ID)
		}
		codes := make(chan [2]string, 60)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 15 {
					reg, err := db.CreateAttendee(ctx, store.AttendeeCreate{EventID: ev.ID, Name: "Racer", Consent: true,
						Templates: []api.Template{tpl(byte(w*15 + i))}})
					if err != nil {
						t.Error(err)
						return
					}
					codes <- [2]string{reg.Attendee.ID, reg.ShortCode}
				}
			})
		}
		wg.Go(func() {
			for _, id := range kiosks {
				if err := db.RevokeKiosk(ctx, id); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		close(codes)
		key, v, err := db.EventKey(ctx, ev.ID)
		if err != nil || v != 6 {
			t.Fatalf("key version %d after 5 revokes, %v", v, err)
		}
		byID := map[string]string{}
		for c := range codes {
			byID[c[0]] = c[1]
		}
		n := 0
		if _, _, err := db.StreamGallery(ctx, ev.ID, 0, func(r api.GalleryRecord) error {
			n++
			if _, err := api.OpenTemplate(key, r.AttendeeID, r.Templates[0]); err != nil {
				t.Errorf("attendee %s: template not under the final key: %v", r.AttendeeID, err)
			}
			if r.CodeHash != api.HashShortCode(key, byID[r.AttendeeID]) {
				t.Errorf("attendee %s: short-code hash not under the final key", r.AttendeeID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != 60 {
			t.Errorf("%d attendees in the feed, want 60", n)
		}
	})
}
