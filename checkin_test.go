package facecheck_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
)

func TestValidateCheckIn(t *testing.T) {
	ok := api.CheckIn{ID: uuid.NewString(), AttendeeID: "a1", Method: api.MethodFace, Score: 0.6, Margin: 0.3}
	if err := facecheck.ValidateCheckIn(ok); err != nil {
		t.Fatalf("valid check-in: %v", err)
	}
	for _, m := range []string{api.MethodFace, api.MethodConfirm, api.MethodQR, api.MethodCode, api.MethodManual} {
		c := ok
		c.Method = m
		if err := facecheck.ValidateCheckIn(c); err != nil {
			t.Errorf("method %s: %v", m, err)
		}
	}
	for _, tt := range []struct {
		name string
		edit func(c *api.CheckIn)
	}{
		{"ErrEmptyID", func(c *api.CheckIn) { c.ID = "" }},
		{"ErrIDNotUUID", func(c *api.CheckIn) { c.ID = "checkin-1" }},
		{"ErrIDUpperCase", func(c *api.CheckIn) { c.ID = strings.ToUpper(c.ID) }},
		{"ErrIDBraces", func(c *api.CheckIn) { c.ID = "{" + c.ID + "}" }},
		{"ErrNoAttendee", func(c *api.CheckIn) { c.AttendeeID = "" }},
		{"ErrBlankAttendee", func(c *api.CheckIn) { c.AttendeeID = " " }},
		{"ErrLongAttendee", func(c *api.CheckIn) { c.AttendeeID = strings.Repeat("a", 65) }},
		{"ErrUnknownMethod", func(c *api.CheckIn) { c.Method = "telepathy" }},
		{"ErrNaNScore", func(c *api.CheckIn) { c.Score = float32(math.NaN()) }},
		{"ErrInfMargin", func(c *api.CheckIn) { c.Margin = float32(math.Inf(1)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			var ce *facecheck.CheckInError
			if err := facecheck.ValidateCheckIn(c); !errors.As(err, &ce) || ce.Reason == "" {
				t.Fatalf("ValidateCheckIn = %v, want a *CheckInError", err)
			}
		})
	}
}

func TestCheckInTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"now", now, true},
		{"a month ago", now.AddDate(0, -1, 0), true},
		{"clock a little fast", now.Add(facecheck.MaxCheckInAhead), true},
		{"ErrZero", time.Time{}, false},
		{"ErrJustTooFar", now.Add(facecheck.MaxCheckInAhead + time.Second), false},
		{"ErrTomorrow", now.Add(23 * time.Hour), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := facecheck.CheckInTime(tt.at, now)
			var ce *facecheck.CheckInError
			if tt.ok && err != nil || !tt.ok && !errors.As(err, &ce) {
				t.Fatalf("CheckInTime(%v) = %v, want ok %v", tt.at, err, tt.ok)
			}
		})
	}
}
