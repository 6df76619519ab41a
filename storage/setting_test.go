package storage_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/facecheck/facecheck/storage"
)

// values returns the settings as key -> "value/source".
func values(t *testing.T, db *storage.DB) map[string]string {
	t.Helper()
	s, err := db.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range s {
		if k != v.Key {
			t.Fatalf("setting under %q has key %q", k, v.Key)
		}
		out[k] = v.Value + "/" + v.Source
	}
	return out
}

func TestSettings(t *testing.T) {
	ctx := context.Background()

	t.Run("LocalOverridesWin", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.SetServerDefaults(ctx, map[string]string{"face.accept": "0.45", "net.sync_interval": "10s"}); err != nil {
			t.Fatal(err)
		}
		tdb.Clock.Advance(time.Minute)
		if err := tdb.SetSetting(ctx, "face.accept", "0.50", "admin"); err != nil {
			t.Fatal(err)
		}
		if err := tdb.SetServerDefaults(ctx, map[string]string{"face.accept": "0.40", "net.sync_interval": "20s", "process.lang": "ko"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"face.accept": "0.50/local", "net.sync_interval": "20s/server", "process.lang": "ko/server"}
		if got := values(t, tdb.DB); !reflect.DeepEqual(got, want) {
			t.Fatalf("settings = %v, want %v", got, want)
		}
		s, err := tdb.GetSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !s["face.accept"].UpdatedAt.Equal(tdb.Clock.Now()) {
			t.Fatalf("UpdatedAt = %v, want %v", s["face.accept"].UpdatedAt, tdb.Clock.Now())
		}

		// A default the server no longer sends goes; the local override stays.
		if err := tdb.SetServerDefaults(ctx, map[string]string{"process.lang": "ko"}); err != nil {
			t.Fatal(err)
		}
		want = map[string]string{"face.accept": "0.50/local", "process.lang": "ko/server"}
		if got := values(t, tdb.DB); !reflect.DeepEqual(got, want) {
			t.Fatalf("settings = %v, want %v", got, want)
		}

		// Resetting the override drops it; the next server defaults bring the event value back.
		if err := tdb.ResetSetting(ctx, "face.accept", "admin"); err != nil {
			t.Fatal(err)
		}
		if err := tdb.SetServerDefaults(ctx, map[string]string{"process.lang": "ko", "face.accept": "0.41"}); err != nil {
			t.Fatal(err)
		}
		want = map[string]string{"face.accept": "0.41/server", "process.lang": "ko/server"}
		if got := values(t, tdb.DB); !reflect.DeepEqual(got, want) {
			t.Fatalf("settings = %v, want %v", got, want)
		}
	})

	t.Run("Audited", func(t *testing.T) {
		tdb := MustOpenDB(t)
		steps := []func() error{
			func() error { return tdb.SetServerDefaults(ctx, map[string]string{"b": "1"}) },
			func() error { return tdb.SetServerDefaults(ctx, map[string]string{"b": "1"}) }, // no change, no entry
			func() error { return tdb.SetSetting(ctx, "a", "x", "admin") },
			func() error { return tdb.SetSetting(ctx, "a", "x", "admin") }, // no change, no entry
			func() error { return tdb.SetSetting(ctx, "a", "y", "admin") },
			func() error { return tdb.SetSetting(ctx, "b", "2", "staff") },
			func() error { return tdb.ResetSetting(ctx, "a", "admin") },
			func() error { return tdb.ResetSetting(ctx, "a", "admin") }, // nothing to reset, no entry
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		entries, err := tdb.ListAudit(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Actor+" "+e.Action+" "+e.Detail)
		}
		want := []string{
			"admin setting.reset a: y -> (default)",
			"staff setting.set b: 1 (server) -> 2",
			"admin setting.set a: x -> y",
			"admin setting.set a: (default) -> x",
			"server settings.server b",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("audit =\n%q\nwant\n%q", got, want)
		}
	})

	// The audit entry is written in the same transaction as the change: if
	// the audit insert fails, the setting is not changed.
	t.Run("AuditFailureRollsBack", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if _, err := rawDB(t, tdb.Path).Exec(`CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
			BEGIN SELECT RAISE(ABORT, 'audit broken by test'); END`); err != nil {
			t.Fatal(err)
		}
		if err := tdb.SetSetting(ctx, "a", "x", "admin"); err == nil {
			t.Fatal("SetSetting succeeded without its audit entry")
		}
		if got := values(t, tdb.DB); len(got) != 0 {
			t.Fatalf("settings = %v, want none", got)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		tdb := MustOpenDB(t)
		for name, err := range map[string]error{
			"SetNoKey":       tdb.SetSetting(ctx, "", "x", "admin"),
			"SetNoActor":     tdb.SetSetting(ctx, "a", "x", ""),
			"ResetNoKey":     tdb.ResetSetting(ctx, "", "admin"),
			"ServerEmptyKey": tdb.SetServerDefaults(ctx, map[string]string{"": "x"}),
			"AuditNoAction":  tdb.Audit(ctx, "admin", "", "x"),
		} {
			if !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("%s = %v, want ErrInvalid", name, err)
			}
		}
	})
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	tdb := MustOpenDB(t)
	for i, action := range []string{"checkin.manual", "pin.failed", "camera.changed"} {
		if err := tdb.Audit(ctx, "staff", action, "detail"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			tdb.Clock.Advance(time.Second)
		}
	}
	got, err := tdb.ListAudit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "camera.changed" || got[1].Action != "pin.failed" {
		t.Fatalf("ListAudit(2) = %+v, want the two newest, newest first", got)
	}
	if !got[0].At.Equal(tdb.Clock.Now()) || got[0].Actor != "staff" || got[0].Detail != "detail" || got[0].ID <= got[1].ID {
		t.Fatalf("entry = %+v", got[0])
	}
}
