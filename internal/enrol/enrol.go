// Package enrol enrols people into a kiosk database from labelled photos
// (a labels CSV with columns path and identity), for the demo, the
// headless kiosk's --enrol-labels and the kiosk's tests. The kiosk itself
// enrols walk-ups through kiosk.Staff; this is the bulk way in from files.
package enrol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/measure"
	"github.com/facecheck/facecheck/storage"
)

// Encoder is what enrolment needs from the engine: the registration-photo
// rule the server applies (engine.EnrolPhoto), so the kiosk never enrols
// from a photo the server would refuse.
type Encoder interface {
	EnrolPhoto(engine.Image) (engine.Encoded, error)
}

// Person is one identity of a labels CSV.
type Person struct {
	ID    string
	Paths []string // relative to the image root, in CSV order
}

// ReadPeople reads a labels CSV (measure.ReadLabelsFile: columns path and
// identity) and returns its identities sorted by id.
func ReadPeople(labels string) ([]Person, error) {
	samples, err := measure.ReadLabelsFile(labels)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	by := map[string]*Person{}
	for _, s := range samples {
		p := by[s.Identity]
		if p == nil {
			p = &Person{ID: s.Identity}
			by[s.Identity] = p
		}
		p.Paths = append(p.Paths, s.Path)
	}
	out := make([]Person, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Photo encodes the photo at path by the registration rule and stores
// attendee id/name with its template. A photo the rule refuses returns an
// error wrapping *engine.RejectedError (Refused tells it apart).
func Photo(ctx context.Context, e Encoder, db *storage.DB, id, name, path string) error {
	im, err := engine.LoadImage(path)
	if err != nil {
		return err
	}
	enc, err := e.EnrolPhoto(im)
	if err != nil {
		return fmt.Errorf("enrol %s: %w", id, err)
	}
	t, err := engine.Quantize(enc.Embedding)
	if err != nil {
		return err
	}
	return db.UpsertAttendee(ctx, storage.Attendee{ID: id, Name: name},
		[]api.Template{{Model: t.Model, Version: t.Version, Data: t.Bytes()}})
}

// DisplayName is the person's name for an identity key of a labels CSV:
// "alejandro_toledo" → "Alejandro Toledo". Keys with capitals or other
// scripts are names already; only their underscores become spaces.
func DisplayName(id string) string {
	words := strings.FieldsFunc(id, func(r rune) bool { return r == '_' || r == ' ' })
	lower := id == strings.ToLower(id)
	for i, w := range words {
		if lower {
			r, n := utf8.DecodeRuneInString(w)
			words[i] = string(unicode.ToUpper(r)) + w[n:]
		}
	}
	if len(words) == 0 {
		return id
	}
	return strings.Join(words, " ")
}

// Refused reports whether err is the registration rule refusing a photo
// (rather than a photo that cannot be read or a database that fails), and
// why, most important reason first.
func Refused(err error) ([]engine.Issue, bool) {
	var r *engine.RejectedError
	if !errors.As(err, &r) {
		return nil, false
	}
	return r.Issues, true
}

// First enrols the first photo of people, in order, into db until n are
// enrolled and returns who was. A person whose first photo the
// registration rule refuses is skipped with a line on log naming the
// reason: one bad photo does not stop a bulk enrolment. Any other error
// (an unreadable file, the database) does.
func First(ctx context.Context, e Encoder, db *storage.DB, people []Person, root string, n int, log io.Writer) ([]Person, error) {
	var done []Person
	for _, p := range people {
		if len(done) >= n {
			break
		}
		if len(p.Paths) == 0 {
			continue
		}
		err := Photo(ctx, e, db, p.ID, DisplayName(p.ID), filepath.Join(root, p.Paths[0]))
		if issues, ok := Refused(err); ok {
			fmt.Fprintf(log, "enrol: skipped %s: %s refused: %s\n", p.ID, p.Paths[0], reasons(issues))
			continue
		}
		if err != nil {
			return done, err
		}
		done = append(done, p)
	}
	return done, nil
}

// reasons lists the issues' reasons ("many_faces, blur").
func reasons(issues []engine.Issue) string {
	rs := make([]string, len(issues))
	for i, is := range issues {
		rs[i] = string(is.Reason)
	}
	return strings.Join(rs, ", ")
}
