package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

func TestOutbox(t *testing.T) {
	ctx := context.Background()

	t.Run("PendingMarkFailedMarkSent", func(t *testing.T) {
		tdb := MustOpenDB(t)
		var ids []string
		for range 5 {
			c := newCheckIn("a1", tdb.Clock.Now())
			ids = append(ids, c.ID)
			if _, err := tdb.RecordCheckIn(ctx, c); err != nil {
				t.Fatal(err)
			}
			tdb.Clock.Advance(time.Second)
		}
		now := tdb.Clock.Now()
		items, err := tdb.PendingOutbox(ctx, 3, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 3 {
			t.Fatalf("PendingOutbox(limit 3) returned %d items", len(items))
		}
		for i, it := range items {
			if it.Ref != ids[i] || it.Attempts != 0 || it.LastError != "" {
				t.Fatalf("item %d = %+v, want ref %s, fresh", i, it, ids[i])
			}
			if i > 0 && it.Seq <= items[i-1].Seq {
				t.Fatal("items not in seq order")
			}
		}

		// The first fails and is due again in a minute; it drops out until then.
		next := now.Add(time.Minute)
		if err := tdb.MarkFailed(ctx, items[0].Seq, errors.New("server said 503"), next); err != nil {
			t.Fatal(err)
		}
		if err := tdb.MarkFailed(ctx, items[0].Seq, errors.New("server said 502"), next); err != nil {
			t.Fatal(err)
		}
		due, err := tdb.PendingOutbox(ctx, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 4 || due[0].Ref != ids[1] {
			t.Fatalf("PendingOutbox after failure = %d items starting %s, want 4 starting %s", len(due), due[0].Ref, ids[1])
		}
		later, err := tdb.PendingOutbox(ctx, 0, next)
		if err != nil {
			t.Fatal(err)
		}
		if len(later) != 5 || later[0].Attempts != 2 || later[0].LastError != "server said 502" || !later[0].NextAttemptAt.Equal(next) {
			t.Fatalf("failed item = %+v, want 2 attempts, last error, next attempt %v", later[0], next)
		}

		// Two are sent (one twice): they leave the outbox, their check-ins are stamped.
		tdb.Clock.Advance(time.Minute)
		if err := tdb.MarkSent(ctx, due[0].Seq, due[1].Seq, due[1].Seq, 99999); err != nil {
			t.Fatal(err)
		}
		if err := tdb.MarkSent(ctx, due[0].Seq); err != nil {
			t.Fatal(err)
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 3 {
			t.Fatalf("OutboxLen = %d, %v; want 3", n, err)
		}
		c, err := tdb.FindCheckIn(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if !c.SyncedAt.Equal(tdb.Clock.Now()) {
			t.Fatalf("SyncedAt = %v, want %v", c.SyncedAt, tdb.Clock.Now())
		}
		if c, err := tdb.FindCheckIn(ctx, ids[0]); err != nil || !c.SyncedAt.IsZero() {
			t.Fatalf("unsent check-in SyncedAt = %v, %v; want zero", c.SyncedAt, err)
		}
	})

	t.Run("MarkFailedErrNotFound", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if err := tdb.MarkFailed(ctx, 12345, errors.New("x"), tdb.Clock.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("MarkFailed = %v, want ErrNotFound", err)
		}
	})

	t.Run("MarkFailedTruncatesError", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if _, err := tdb.RecordCheckIn(ctx, newCheckIn("a1", tdb.Clock.Now())); err != nil {
			t.Fatal(err)
		}
		items, err := tdb.PendingOutbox(ctx, 1, tdb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := tdb.MarkFailed(ctx, items[0].Seq, errors.New(strings.Repeat("<html>é", 10000)), tdb.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		items, err = tdb.PendingOutbox(ctx, 1, tdb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(items[0].LastError); n > 1100 {
			t.Fatalf("stored last error is %d bytes", n)
		}
	})
}

func TestQueueEnrolment(t *testing.T) {
	ctx := context.Background()
	req := api.EnrolRequest{
		ID: "enrol-1", Name: "Walk Up", Email: "w@example.org", Consent: true,
		Template: api.SealedTemplate{Model: "mfn-512", Version: 1, Sealed: []byte{1, 2, 3, 4}},
	}

	t.Run("OK", func(t *testing.T) {
		tdb := MustOpenDB(t)
		if dup, err := tdb.QueueEnrolment(ctx, req); err != nil || dup {
			t.Fatalf("QueueEnrolment = %v, %v; want false, nil", dup, err)
		}
		if dup, err := tdb.QueueEnrolment(ctx, req); err != nil || !dup {
			t.Fatalf("second QueueEnrolment = %v, %v; want true, nil", dup, err)
		}
		items, err := tdb.PendingOutbox(ctx, 10, tdb.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Kind != storage.OutboxEnrol || items[0].Ref != req.ID {
			t.Fatalf("PendingOutbox = %+v, want one enrolment", items)
		}
		var got api.EnrolRequest
		if err := json.Unmarshal(items[0].Payload, &got); err != nil {
			t.Fatal(err)
		}
		if got.Name != req.Name || got.Email != req.Email || string(got.Template.Sealed) != string(req.Template.Sealed) {
			t.Fatalf("payload = %+v, want %+v", got, req)
		}
		audit, err := tdb.ListAudit(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) != 1 || audit[0].Action != "enrol.queued" {
			t.Fatalf("audit = %+v, want one enrol.queued entry", audit)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		tdb := MustOpenDB(t)
		for _, tt := range []struct {
			name string
			edit func(r *api.EnrolRequest)
		}{
			{"NoID", func(r *api.EnrolRequest) { r.ID = "" }},
			{"NoName", func(r *api.EnrolRequest) { r.Name = "" }},
			{"NoConsent", func(r *api.EnrolRequest) { r.Consent = false }},
			{"NoTemplate", func(r *api.EnrolRequest) { r.Template.Sealed = nil }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := req
				tt.edit(&r)
				if _, err := tdb.QueueEnrolment(ctx, r); !errors.Is(err, storage.ErrInvalid) {
					t.Fatalf("QueueEnrolment = %v, want ErrInvalid", err)
				}
			})
		}
		if n, err := tdb.OutboxLen(ctx); err != nil || n != 0 {
			t.Fatalf("OutboxLen = %d, %v; want 0", n, err)
		}
	})
}
