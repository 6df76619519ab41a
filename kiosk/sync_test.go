package kiosk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/server"
	"github.com/facecheck/facecheck/server/store"
	"github.com/facecheck/facecheck/storage"
)

// --- a real server on 127.0.0.1 -------------------------------------------

type realServer struct {
	path string
	key  []byte
	addr string
	DB   *store.DB
	S    *server.Server
	// Event is the bootstrap event (kept across restarts).
	Event *store.Event
}

// startServer opens (or reopens) the server store at path and serves on
// addr ("127.0.0.1:0" for any port).
func startServer(t *testing.T, path string, key []byte, addr string) *realServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.RunBootstrap(ctx, db, "admin", "correct horse battery", "DevDay")
	if err != nil {
		t.Fatal(err)
	}
	ev := b.Event
	if ev == nil {
		evs, err := db.ListEvents(ctx)
		if err != nil || len(evs) == 0 {
			t.Fatalf("no event after restart: %v", err)
		}
		ev = evs[0]
	}
	cfg := server.DefaultConfig()
	cfg.Addr = addr
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	s, err := server.NewServer(cfg, db, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		db.Close()
		t.Fatal(err)
	}
	u, _ := url.Parse(s.URL())
	rs := &realServer{path: path, key: key, addr: u.Host, DB: db, S: s, Event: ev}
	t.Cleanup(rs.stop)
	return rs
}

func (rs *realServer) stop() {
	if rs.S != nil {
		rs.S.Close()
		rs.S = nil
	}
	if rs.DB != nil {
		rs.DB.Close()
		rs.DB = nil
	}
}

func (rs *realServer) URL() string { return "http://" + rs.addr }

// randomTemplate is engine.Quantize of a random unit vector.
func randomTemplate(t *testing.T, rng *rand.Rand) api.Template {
	t.Helper()
	return testenv.RandomTemplate(t, rng)
}

func (rs *realServer) addAttendee(t *testing.T, name string, tpl api.Template) string {
	t.Helper()
	reg, err := rs.DB.CreateAttendee(context.Background(), store.AttendeeCreate{
		EventID: rs.Event.ID, Name: name, Consent: true, Templates: []api.Template{tpl}})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Attendee.ID
}

func (rs *realServer) pairingCode(t *testing.T) string {
	t.Helper()
	code, _, err := rs.DB.CreatePairingCode(context.Background(), rs.Event.ID, "test", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// serverCheckIns returns the ids of the event's check-ins on the server.
func (rs *realServer) serverCheckIns(t *testing.T) []string {
	t.Helper()
	cs, err := rs.DB.ListCheckIns(context.Background(), rs.Event.ID, 100000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	sort.Strings(ids)
	return ids
}

// --- the kiosk side -------------------------------------------------------------

type kioskSide struct {
	dir     string
	DB      *storage.DB
	Gallery *engine.Gallery
	Sync    *kiosk.Syncer
	events  chan kiosk.Event
}

func fastConfig() kiosk.SyncConfig {
	return kiosk.SyncConfig{
		Timeout: 300 * time.Millisecond, GalleryTimeout: 5 * time.Second,
		RetryMax: 2, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond,
		Batch: 4, OutboxBackoffMin: 20 * time.Millisecond, OutboxBackoffMax: 100 * time.Millisecond,
		AppVersion: "test",
	}
}

func newKiosk(t *testing.T, edit ...func(*kiosk.SyncConfig)) *kioskSide {
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
	g, err := kiosk.LoadGallery(context.Background(), db, 3)
	if err != nil {
		t.Fatal(err)
	}
	k := &kioskSide{dir: dir, DB: db, Gallery: g, events: make(chan kiosk.Event, 1000)}
	k.Sync = k.newSyncer(t, edit...)
	return k
}

func (k *kioskSide) newSyncer(t *testing.T, edit ...func(*kiosk.SyncConfig)) *kiosk.Syncer {
	t.Helper()
	cfg := fastConfig()
	cfg.PairingPath = kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key"))
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg.OnEvent = func(e kiosk.Event) {
		select {
		case k.events <- e:
		default:
		}
	}
	for _, e := range edit {
		e(&cfg)
	}
	s, err := kiosk.NewSyncer(k.DB, k.Gallery, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *kioskSide) record(t *testing.T, attendeeID string) string {
	t.Helper()
	id := uuid.NewString()
	if _, err := k.DB.RecordCheckIn(context.Background(), api.CheckIn{ID: id, AttendeeID: attendeeID, Method: api.MethodFace, Score: 0.8, Margin: 0.2}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (k *kioskSide) queued(t *testing.T) int {
	t.Helper()
	n, err := k.DB.OutboxLen(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --- tests -----------------------------------------------------------------------

// TestSyncPairGalleryTombstone pairs with a real server, pulls a gallery of
// three, deletes one on the server and sees the tombstone remove it from
// storage and memory; settings and walk-up enrolment go through too.
func TestSyncPairGalleryTombstone(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rng := rand.New(rand.NewPCG(1, 2))
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{7}, api.KeySize), "127.0.0.1:0")
	tpls := map[string]api.Template{}
	var ids []string
	for _, name := range []string{"Ada", "Grace", "Linus"} {
		tp := randomTemplate(t, rng)
		id := rs.addAttendee(t, name, tp)
		tpls[id] = tp
		ids = append(ids, id)
	}
	k := newKiosk(t)
	if k.Sync.Paired() {
		t.Fatal("paired before pairing")
	}
	if _, err := k.Sync.PullGallery(ctx); !errors.Is(err, kiosk.ErrNotPaired) {
		t.Fatalf("pull before pairing: %v, want ErrNotPaired", err)
	}

	code := rs.pairingCode(t)
	p, err := k.Sync.Pair(ctx, rs.URL(), code, "door-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.EventID != rs.Event.ID || p.EventName != "DevDay" || len(p.TemplateKey) != api.KeySize || p.Token == "" {
		t.Fatalf("pairing %+v", p)
	}
	pp := kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key"))
	fi, err := os.Stat(pp)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("pairing file mode %v, want 0600", fi.Mode().Perm())
	}
	// A used code is refused; the server is still online.
	if _, err := k.Sync.Pair(ctx, rs.URL(), code, "door-1"); !errors.Is(err, kiosk.ErrUnauthorized) {
		t.Fatalf("re-used code: %v, want ErrUnauthorized", err)
	}
	// Paired, the gallery not pulled yet: starting, neither online nor
	// offline or degraded.
	if st := k.Sync.Status(); st.Online || st.State != api.SyncStarting {
		t.Fatalf("status after a refused code: %+v, want starting", st)
	}

	es, err := k.Sync.PullSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if es.EventID != rs.Event.ID || es.Thresholds.Accept == 0 {
		t.Fatalf("settings %+v", es)
	}
	// The event's thresholds land as server defaults of the kiosk's
	// threshold settings; a local override still wins.
	if err := k.DB.SetSetting(ctx, "face.margin", "0.08", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.PullSettings(ctx); err != nil {
		t.Fatal(err)
	}
	vals, _, err := kiosk.Load(ctx, k.DB)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%.4f", es.Thresholds.Accept); vals["face.accept"] != want || vals["face.margin"] != "0.08" {
		t.Fatalf("local settings accept %q (want %s from the event), margin %q (want the local 0.08)", vals["face.accept"], want, vals["face.margin"])
	}

	gs, err := k.Sync.PullGallery(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Upserts != 3 || gs.Deletes != 0 || !gs.Full || gs.Cursor == 0 {
		t.Fatalf("first pull %+v", gs)
	}
	if n, _ := k.DB.CountAttendees(ctx); n != 3 || k.Gallery.Len() != 3 {
		t.Fatalf("after first pull: %d stored, %d in memory, want 3", n, k.Gallery.Len())
	}
	for id, tp := range tpls {
		et, err := engine.TemplateFromBytes(tp.Model, tp.Version, tp.Data)
		if err != nil {
			t.Fatal(err)
		}
		if m := k.Gallery.Search(&et); m.ID != id || m.Score < 0.99 {
			t.Fatalf("search for %s: %+v", id, m)
		}
	}
	// A reloaded gallery (the kiosk restarting) is the same.
	if g2, err := kiosk.LoadGallery(ctx, k.DB, 3); err != nil || g2.Len() != 3 {
		t.Fatalf("reloaded gallery: %v, %v", g2, err)
	}
	// The template key is in the pairing file, not in the database.
	for _, f := range []string{"kiosk.db", "kiosk.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(k.dir, f))
		if bytes.Contains(b, p.TemplateKey) || bytes.Contains(b, []byte(p.Token)) {
			t.Fatalf("%s holds the template key or token", f)
		}
	}

	// Nothing new: an empty delta.
	if gs, err := k.Sync.PullGallery(ctx); err != nil || gs.Upserts+gs.Deletes != 0 || gs.Full {
		t.Fatalf("empty delta %+v, %v", gs, err)
	}

	// Delete one on the server: the tombstone removes it everywhere.
	gone := ids[1]
	if err := rs.DB.DeleteAttendee(ctx, gone); err != nil {
		t.Fatal(err)
	}
	gs, err = k.Sync.PullGallery(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Deletes != 1 || gs.Upserts != 0 {
		t.Fatalf("tombstone pull %+v", gs)
	}
	if _, err := k.DB.FindAttendee(ctx, gone); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted attendee still stored: %v", err)
	}
	all, err := k.DB.AllTemplates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, gt := range all {
		if gt.AttendeeID == gone {
			t.Fatal("deleted attendee's template still stored")
		}
	}
	if len(all) != 2 || k.Gallery.Len() != 2 {
		t.Fatalf("%d templates stored, %d people in memory, want 2", len(all), k.Gallery.Len())
	}
	for _, id := range k.Gallery.IDs() {
		if id == gone {
			t.Fatal("deleted attendee still in the in-memory gallery")
		}
	}

	// A walk-up enrolment queued at the kiosk reaches the server and comes
	// back in the gallery.
	enrolID := uuid.NewString()
	sealed, err := api.SealTemplate(p.TemplateKey, enrolID, randomTemplate(t, rng))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.DB.QueueEnrolment(ctx, api.EnrolRequest{ID: enrolID, Name: "Walk Up", Consent: true, Template: sealed}); err != nil {
		t.Fatal(err)
	}
	ps, err := k.Sync.PushCheckIns(ctx)
	if err != nil || ps.Sent != 1 || ps.Remaining != 0 {
		t.Fatalf("enrolment push %+v, %v", ps, err)
	}
	if a, err := rs.DB.FindAttendeeByID(ctx, enrolID); err != nil || a.Name != "Walk Up" {
		t.Fatalf("enrolment on the server: %v, %v", a, err)
	}
	rr, err := k.Sync.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Gallery.Upserts != 1 || k.Gallery.Len() != 3 || rr.Settings == nil {
		t.Fatalf("round after enrolment %+v, gallery %d", rr, k.Gallery.Len())
	}
	st := k.Sync.Status()
	if !st.Online || st.Queued != 0 || st.Gallery != 3 || st.LastSync.IsZero() || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
	select {
	case e := <-k.events:
		if e.Kind != kiosk.EventSync || e.Sync == nil {
			t.Fatalf("event %+v", e)
		}
	default:
		t.Fatal("no sync event emitted")
	}
}

// TestSyncGalleryCaptureConsent: each attendee's capture consent travels
// with the gallery feed from the real server into the kiosk's database, on
// the full first pull, and a deletion removes the attendee with it.
func TestSyncGalleryCaptureConsent(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rng := rand.New(rand.NewPCG(3, 4))
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{7}, api.KeySize), "127.0.0.1:0")
	tests := []struct {
		name    string
		consent bool
	}{{"Yoko", true}, {"Noah", false}, {"Mei", true}}
	want := map[string]bool{}
	var yoko string
	for _, tc := range tests {
		reg, err := rs.DB.CreateAttendee(ctx, store.AttendeeCreate{EventID: rs.Event.ID, Name: tc.name, Consent: true,
			CaptureConsent: tc.consent, Templates: []api.Template{randomTemplate(t, rng)}})
		if err != nil {
			t.Fatal(err)
		}
		want[reg.Attendee.ID] = tc.consent
		if tc.name == "Yoko" {
			yoko = reg.Attendee.ID
		}
	}
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "door-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.PullGallery(ctx); err != nil {
		t.Fatal(err)
	}
	as, err := k.DB.ListAttendees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != len(tests) {
		t.Fatalf("kiosk holds %d attendees, want %d", len(as), len(tests))
	}
	for _, a := range as {
		if w, ok := want[a.ID]; !ok || a.CaptureConsent != w {
			t.Errorf("%s: capture consent %v on the kiosk, want %v (known: %v)", a.Name, a.CaptureConsent, w, ok)
		}
	}
	if err := rs.DB.DeleteAttendee(ctx, yoko); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.PullGallery(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := k.DB.FindAttendee(ctx, yoko); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted attendee still on the kiosk: %v", err)
	}
}

// TestSyncOfflineRestart records check-ins while the server is down and
// restarts the server on the same database file and address: the Run loop
// delivers every queued check-in exactly once; a lost acknowledgement and a
// full replay add no duplicates; a rejected check-in leaves the outbox.
func TestSyncOfflineRestart(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	rng := rand.New(rand.NewPCG(3, 4))
	srvPath := filepath.Join(t.TempDir(), "server.db")
	srvKey := bytes.Repeat([]byte{9}, api.KeySize)
	rs := startServer(t, srvPath, srvKey, "127.0.0.1:0")
	a1 := rs.addAttendee(t, "Ada", randomTemplate(t, rng))
	a2 := rs.addAttendee(t, "Grace", randomTemplate(t, rng))
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "door-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}

	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- k.Sync.Run(runCtx, 50*time.Millisecond, nil) }()
	defer func() {
		stopRun()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not stop")
		}
	}()

	// Server down: the kiosk keeps recording.
	addr := rs.addr
	rs.stop()
	var want []string
	for i := range 10 {
		want = append(want, k.record(t, []string{a1, a2}[i%2]))
	}
	k.Sync.Kick()
	waitFor(t, 20*time.Second, "status offline with 10 queued", func() bool {
		st := k.Sync.Status()
		return !st.Online && !st.OfflineSince.IsZero() && st.Queued == 10 && st.LastError != ""
	})
	// The loop's next attempt tells OnEvent too.
	sawOffline := false
	waitFor(t, 20*time.Second, "an offline sync event with the queue length", func() bool {
		for len(k.events) > 0 {
			if e := <-k.events; e.Sync != nil && e.Sync.State == api.SyncOffline && !e.Sync.Online && e.Sync.Queued == 10 {
				sawOffline = true
			}
		}
		return sawOffline
	})

	// Same database file, same address.
	rs = startServer(t, srvPath, srvKey, addr)
	waitFor(t, 30*time.Second, "the outbox to drain", func() bool {
		st := k.Sync.Status()
		return st.Online && st.Queued == 0
	})
	sort.Strings(want)
	if got := rs.serverCheckIns(t); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("server has %d check-ins %v, want the %d recorded %v", len(got), got, len(want), want)
	}
	for _, id := range want {
		c, err := k.DB.FindCheckIn(ctx, id)
		if err != nil || c.SyncedAt.IsZero() {
			t.Fatalf("check-in %s not marked synced: %+v %v", id, c, err)
		}
	}
	stopRun()
	<-runDone
	runDone <- nil // for the deferred check

	// Lost acknowledgement: a proxy forwards the first POST /v1/checkins to
	// the server and then answers 502 instead of the result. The retry is
	// answered "duplicate" and nothing is counted twice.
	target, _ := url.Parse(rs.URL())
	var dropped atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.URL.Path == "/v1/checkins" && dropped.CompareAndSwap(false, true) {
			return errors.New("ack lost")
		}
		return nil
	}
	proxy.ErrorLog = nil
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	p := k.Sync.Pairing()
	p.ServerURL = ps.URL
	if err := kiosk.SavePairing(kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key")), p); err != nil {
		t.Fatal(err)
	}
	viaProxy := k.newSyncer(t)
	var more []string
	for range 3 {
		more = append(more, k.record(t, a1))
	}
	st, err := viaProxy.PushCheckIns(ctx)
	if err != nil || st.Sent != 3 || st.Remaining != 0 || !dropped.Load() {
		t.Fatalf("push through the lossy proxy %+v, %v (ack dropped %v)", st, err, dropped.Load())
	}
	want = append(want, more...)
	sort.Strings(want)
	if got := rs.serverCheckIns(t); len(got) != len(want) {
		t.Fatalf("server has %d check-ins after a lost ack, want %d", len(got), len(want))
	}

	// Full replay of every check-in: all duplicates.
	var batch api.CheckInBatch
	for _, id := range want {
		c, err := k.DB.FindCheckIn(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		batch.CheckIns = append(batch.CheckIns, c.CheckIn)
	}
	body, _ := json.Marshal(batch)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rs.URL()+"/v1/checkins", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res api.CheckInBatchResult
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || len(res.Results) != len(want) {
		t.Fatalf("replay: %v, %+v", err, res)
	}
	for _, r := range res.Results {
		if r.Status != api.StatusDuplicate {
			t.Fatalf("replayed check-in %s: %s", r.ID, r.Status)
		}
	}
	if got := rs.serverCheckIns(t); len(got) != len(want) {
		t.Fatalf("server has %d check-ins after a replay, want %d", len(got), len(want))
	}

	// A check-in the server rejects (unknown attendee) leaves the outbox
	// and is written to the audit log.
	k.record(t, "not-an-attendee")
	if st, err := k.Sync.PushCheckIns(ctx); err != nil || st.Rejected != 1 || st.Remaining != 0 {
		t.Fatalf("rejected push %+v, %v", st, err)
	}
	audit, err := k.DB.ListAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		found = found || e.Action == "checkin.rejected"
	}
	if !found {
		t.Fatal("no checkin.rejected audit entry")
	}
}

// fakePairing points a kiosk at a test server with a known template key.
func fakePairing(t *testing.T, k *kioskSide, serverURL string) *kiosk.Pairing {
	t.Helper()
	key := bytes.Repeat([]byte{5}, api.KeySize)
	p := &kiosk.Pairing{ServerURL: serverURL, KioskID: "k1", Token: "fck_test", EventID: "ev1", EventName: "Test", TemplateKey: key}
	if err := kiosk.SavePairing(kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key")), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSyncFaultyServer: a server answering 500s, garbage or nothing at all
// makes every call fail within the configured timeouts; the outbox keeps
// every check-in and the status says offline with the queue length.
func TestSyncFaultyServer(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<html>\x00\xff not json {{{\n")
		},
		"hang": func(w http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does net/http notice the client
			// hanging up and cancel r.Context().
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				h(w, r)
			}))
			defer ts.Close()
			k := newKiosk(t)
			fakePairing(t, k, ts.URL)
			k.Sync = k.newSyncer(t)
			for range 5 {
				k.record(t, "someone")
			}
			ctx := ctxFor(t, 30*time.Second)
			// Worst case per call: (RetryMax+1) × Timeout + waits ≈ 1 s.
			const bound = 5 * time.Second

			start := time.Now()
			_, err := k.Sync.PullGallery(ctx)
			if err == nil || time.Since(start) > bound {
				t.Fatalf("pull gallery: %v after %s", err, time.Since(start))
			}
			if !errors.Is(err, kiosk.ErrOffline) && !errors.Is(err, kiosk.ErrProtocol) {
				t.Fatalf("pull gallery error %v is neither offline nor protocol", err)
			}
			start = time.Now()
			ps, err := k.Sync.PushCheckIns(ctx)
			if err == nil || time.Since(start) > bound {
				t.Fatalf("push: %+v %v after %s", ps, err, time.Since(start))
			}
			if ps.Sent != 0 || ps.Remaining != 5 {
				t.Fatalf("push stats %+v", ps)
			}
			start = time.Now()
			if _, err := k.Sync.SyncOnce(ctx); err == nil || time.Since(start) > 3*bound {
				t.Fatalf("round: %v after %s", err, time.Since(start))
			}
			if k.queued(t) != 5 {
				t.Fatalf("outbox has %d, want 5", k.queued(t))
			}
			items, err := k.DB.PendingOutbox(ctx, 10, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			// The drain stops at the first failed batch (Batch is 4).
			failed := 0
			for _, it := range items {
				if it.Attempts > 0 && it.LastError != "" && it.NextAttemptAt.After(it.CreatedAt) {
					failed++
				}
			}
			if len(items) != 5 || failed < 4 {
				t.Fatalf("%d outbox items, %d marked failed; want 5 and at least 4", len(items), failed)
			}
			st := k.Sync.Status()
			if st.Online || st.OfflineSince.IsZero() || st.Queued != 5 || st.LastError == "" {
				t.Fatalf("status %+v", st)
			}
			if cur, _ := k.DB.GetCursor(ctx); cur != 0 {
				t.Fatalf("cursor moved to %d", cur)
			}
			if hits.Load() < 2 {
				t.Fatalf("%d requests: no retries", hits.Load())
			}
			t.Logf("%s: %d requests, last error %q", name, hits.Load(), st.LastError)
		})
	}
}

// galleryFeed serves crafted /v1/gallery answers.
func galleryFeed(t *testing.T, key []byte, write func(w http.ResponseWriter, rec func(id, name string, seed uint64) api.GalleryRecord)) *httptest.Server {
	rec := func(id, name string, seed uint64) api.GalleryRecord {
		tp := randomTemplate(t, rand.New(rand.NewPCG(seed, seed)))
		s, err := api.SealTemplate(key, id, tp)
		if err != nil {
			t.Error(err)
		}
		return api.GalleryRecord{Op: api.OpUpsert, Cursor: int64(seed), AttendeeID: id, Name: name, Templates: []api.SealedTemplate{s}}
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/gallery" || r.Header.Get("Authorization") != "Bearer fck_test" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		write(ctxWriter{w, r.Context()}, rec)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// ctxWriter lets a crafted feed see its request's context.
type ctxWriter struct {
	http.ResponseWriter
	ctx context.Context
}

func (c ctxWriter) Flush() { c.ResponseWriter.(http.Flusher).Flush() }

func ctxOf(w http.ResponseWriter) <-chan struct{} { return w.(ctxWriter).ctx.Done() }

func line(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	w.Write(append(b, '\n'))
}

// TestSyncGalleryStreamFaults: a cut stream, a garbage line, a bad seal, a
// wrong count or a stall apply nothing and keep the cursor; a good feed
// applies.
func TestSyncGalleryStreamFaults(t *testing.T) {
	key := bytes.Repeat([]byte{5}, api.KeySize)
	cases := []struct {
		name  string
		ok    bool
		write func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord)
	}{
		{"good", true, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			line(w, rec("a2", "Grace", 2))
			line(w, api.GalleryEnd{End: true, Cursor: 2, Count: 2})
		}},
		{"cut", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			line(w, rec("a2", "Grace", 2))
		}},
		{"cut mid-line", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			b, _ := json.Marshal(rec("a2", "Grace", 2))
			w.Header().Set("Content-Length", fmt.Sprint(len(b)*2))
			w.Write(b[:len(b)/2])
		}},
		{"garbage line", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			io.WriteString(w, "<html>oops</html>\n")
			line(w, api.GalleryEnd{End: true, Cursor: 1, Count: 1})
		}},
		{"bad seal", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			r := rec("a2", "Grace", 2)
			r.Templates[0].Sealed[20] ^= 1
			line(w, r)
			line(w, api.GalleryEnd{End: true, Cursor: 2, Count: 2})
		}},
		{"moved seal", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			r := rec("a1", "Ada", 1)
			r.AttendeeID = "a9" // a template sealed for a1 presented as a9's
			line(w, r)
			line(w, api.GalleryEnd{End: true, Cursor: 1, Count: 1})
		}},
		{"count mismatch", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			line(w, api.GalleryEnd{End: true, Cursor: 2, Count: 2})
		}},
		{"stall", false, func(w http.ResponseWriter, rec func(string, string, uint64) api.GalleryRecord) {
			line(w, rec("a1", "Ada", 1))
			w.(http.Flusher).Flush()
			select { // beyond the 300 ms stall timeout
			case <-time.After(3 * time.Second):
			case <-ctxOf(w):
			}
			line(w, api.GalleryEnd{End: true, Cursor: 1, Count: 1})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := galleryFeed(t, key, c.write)
			k := newKiosk(t)
			fakePairing(t, k, ts.URL)
			k.Sync = k.newSyncer(t)
			ctx := ctxFor(t, 30*time.Second)
			start := time.Now()
			gs, err := k.Sync.PullGallery(ctx)
			if time.Since(start) > 2500*time.Millisecond {
				t.Fatalf("pull took %s", time.Since(start))
			}
			n, _ := k.DB.CountAttendees(ctx)
			cur, _ := k.DB.GetCursor(ctx)
			if c.ok {
				if err != nil || gs.Upserts != 2 || n != 2 || k.Gallery.Len() != 2 || cur != 2 {
					t.Fatalf("good feed: %+v %v; %d stored, %d in memory, cursor %d", gs, err, n, k.Gallery.Len(), cur)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error (%+v)", gs)
			}
			if n != 0 || k.Gallery.Len() != 0 || cur != 0 {
				t.Fatalf("%v, yet %d stored, %d in memory, cursor %d", err, n, k.Gallery.Len(), cur)
			}
			if st := k.Sync.Status(); st.Online {
				t.Fatalf("status online after %v", err)
			}
			t.Log(err)
		})
	}
}

// TestPairingFile: the pairing file is 0600, survives a reload, and a
// world-readable one is refused.
func TestPairingFile(t *testing.T) {
	dir := t.TempDir()
	path := kiosk.PairingPathFor(filepath.Join(dir, "kiosk.key"))
	if filepath.Base(path) != "kiosk.pairing.json" {
		t.Fatalf("pairing path %s", path)
	}
	if _, err := kiosk.LoadPairing(path); !errors.Is(err, kiosk.ErrNotPaired) {
		t.Fatalf("missing file: %v", err)
	}
	p := &kiosk.Pairing{ServerURL: "https://x", Token: "t", EventID: "e", TemplateKey: make([]byte, api.KeySize)}
	if err := kiosk.SavePairing(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := kiosk.LoadPairing(path)
	if err != nil || got.Token != "t" {
		t.Fatalf("%+v %v", got, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := kiosk.LoadPairing(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable file: %v", err)
	}
}

// TestSyncConfigValidate: nonsense is refused with a message naming the
// setting; zero fields (defaults) and the defaults themselves pass, and
// NewSyncer refuses what Validate refuses.
func TestSyncConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*kiosk.SyncConfig)
		want string // "" = valid
	}{
		{"defaults", func(c *kiosk.SyncConfig) {}, ""},
		{"zero", func(c *kiosk.SyncConfig) { *c = kiosk.SyncConfig{} }, ""},
		{"no retries", func(c *kiosk.SyncConfig) { c.RetryMax = 0 }, ""},
		{"negative timeout", func(c *kiosk.SyncConfig) { c.Timeout = -time.Second }, "network timeout"},
		{"negative gallery timeout", func(c *kiosk.SyncConfig) { c.GalleryTimeout = -1 }, "gallery timeout"},
		{"negative retries", func(c *kiosk.SyncConfig) { c.RetryMax = -1 }, "retries -1"},
		{"too many retries", func(c *kiosk.SyncConfig) { c.RetryMax = 1000 }, "retries 1000"},
		{"negative batch", func(c *kiosk.SyncConfig) { c.Batch = -5 }, "batch -5"},
		{"retry range upside down", func(c *kiosk.SyncConfig) { c.RetryWaitMin, c.RetryWaitMax = time.Second, time.Millisecond }, "retry wait maximum"},
		{"outbox range upside down", func(c *kiosk.SyncConfig) { c.OutboxBackoffMin, c.OutboxBackoffMax = time.Minute, time.Second }, "outbox backoff maximum"},
		{"negative outbox backoff", func(c *kiosk.SyncConfig) { c.OutboxBackoffMin = -time.Second }, "outbox backoff minimum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kiosk.DefaultSyncConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error saying %q", err, tc.want)
			}
			k := newKiosk(t)
			if _, err := kiosk.NewSyncer(k.DB, k.Gallery, func() kiosk.SyncConfig { cfg.PairingPath = filepath.Join(k.dir, "p.json"); return cfg }()); err == nil {
				t.Fatal("NewSyncer accepted a configuration Validate refuses")
			}
		})
	}
}

// A stopping kiosk's last push (PushAll) sends the check-ins waiting out
// their backoff too; a plain push leaves them for a later round, which a
// stopping kiosk will not have.
func TestSyncPushAllIgnoresBackoff(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	rng := rand.New(rand.NewPCG(5, 6))
	rs := startServer(t, filepath.Join(t.TempDir(), "server.db"), bytes.Repeat([]byte{5}, api.KeySize), "127.0.0.1:0")
	a1 := rs.addAttendee(t, "Ada", randomTemplate(t, rng))
	k := newKiosk(t)
	if _, err := k.Sync.Pair(ctx, rs.URL(), rs.pairingCode(t), "door"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sync.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	hourBackoff := func(c *kiosk.SyncConfig) { c.OutboxBackoffMin, c.OutboxBackoffMax = time.Hour, 2*time.Hour }
	pairedWith := func(url string) *kiosk.Syncer {
		t.Helper()
		p := k.Sync.Pairing()
		p.ServerURL = url
		if err := kiosk.SavePairing(kiosk.PairingPathFor(filepath.Join(k.dir, "kiosk.key")), p); err != nil {
			t.Fatal(err)
		}
		return k.newSyncer(t, hourBackoff)
	}
	k.record(t, a1)
	if _, err := pairedWith("http://127.0.0.1:9").PushCheckIns(ctx); err == nil { // nothing listens there
		t.Fatal("push to a closed port succeeded")
	}
	up := pairedWith(rs.URL())
	if st, err := up.PushCheckIns(ctx); err != nil || st.Sent != 0 || k.queued(t) != 1 {
		t.Fatalf("push during the backoff: %+v, %v, %d queued; want nothing sent yet", st, err, k.queued(t))
	}
	if st, err := up.PushAll(ctx); err != nil || st.Sent != 1 || k.queued(t) != 0 {
		t.Fatalf("PushAll: %+v, %v, %d queued; want the check-in sent", st, err, k.queued(t))
	}
}
