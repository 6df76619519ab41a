package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
)

// Attendee sources.
const (
	SourceWeb   = "web"
	SourceKiosk = "kiosk"
	SourceAdmin = "admin"
)

// Attendee is a registered person. A deleted attendee is a tombstone: its
// personal data is blanked and its templates are gone, the row remains so
// kiosks learn of the deletion and old check-ins keep their reference.
type Attendee struct {
	ID      string
	EventID string
	Name    string
	Email   string
	Info    string
	Source  string
	Consent bool
	// CaptureConsent: the attendee lets the event keep the capture of a
	// confirmed check-in as an extra template (api.CheckIn.Capture).
	CaptureConsent bool
	CheckIns       int
	Templates      int
	Cursor         int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

// API returns the admin view of a.
func (a *Attendee) API() api.Attendee {
	return api.Attendee{ID: a.ID, EventID: a.EventID, Name: a.Name, Email: a.Email, Info: a.Info, Source: a.Source,
		CheckIns: a.CheckIns, Templates: a.Templates, CreatedAt: a.CreatedAt, Deleted: a.DeletedAt != nil}
}

// AttendeeCreate is a new attendee. Templates are sealed with the event key
// by CreateAttendee.
type AttendeeCreate struct {
	ID      string // optional: kiosk enrolments bring their own UUID
	EventID string
	Name    string
	Email   string
	Info    string
	Source  string
	Consent bool
	// CaptureConsent: see Attendee.CaptureConsent.
	CaptureConsent bool
	Templates      []api.Template
	// Pending keeps the attendee out of the gallery feed until
	// ConfirmAttendee (the confirmation e-mail, confirm.go).
	Pending bool
}

// Registration is what a new attendee is told once: the short code for
// second verification and the token of their withdraw link.
type Registration struct {
	Attendee    *Attendee
	ShortCode   string // two groups of 4, e.g. K7QF-2M9X
	ManageToken string
}

const shortCodeLen = 8

func formatShortCode(c string) string { return c[:4] + "-" + c[4:] }

func shortCodeAAD(attendeeID string) []byte { return []byte("facecheck-short-code\x00" + attendeeID) }

// rehashShortCodes moves the stored short-code hashes to the short-code
// subkey (api.HashShortCode since format v2): each code is opened from
// code_sealed and hashed again, and the attendee gets a new gallery cursor
// so kiosks receive the new hash on their next sync.
func (db *DB) rehashShortCodes(ctx context.Context, tx *sql.Tx) error {
	type row struct {
		id, eventID string
		sealed      []byte
	}
	var rs []row
	rows, err := tx.QueryContext(ctx, `SELECT id, event_id, code_sealed FROM attendees WHERE code_sealed IS NOT NULL AND deleted_at IS NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.eventID, &r.sealed); err != nil {
			rows.Close()
			return err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	keys := map[string][]byte{}
	for _, r := range rs {
		key, ok := keys[r.eventID]
		if !ok {
			var sealed []byte
			if err := tx.QueryRowContext(ctx, `SELECT template_key FROM events WHERE id = $1`, r.eventID).Scan(&sealed); err != nil {
				return err
			}
			if key, err = api.Open(db.key, sealed, eventKeyAAD(r.eventID)); err != nil {
				return fmt.Errorf("event %s: template key: %w (wrong server key?)", r.eventID, err)
			}
			keys[r.eventID] = key
		}
		code, err := api.OpenEventData(key, r.sealed, shortCodeAAD(r.id))
		if err != nil {
			return fmt.Errorf("attendee %s: short code: %w", r.id, err)
		}
		cur, err := nextCursor(ctx, tx, r.eventID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attendees SET code_hash = $1, gallery_cursor = $2 WHERE id = $3`,
			api.HashShortCode(key, string(code)), cur, r.id); err != nil {
			return err
		}
	}
	return nil
}

// NewID returns a new unique id (a UUIDv7).
func NewID() string { return newID() }

// CreateAttendee stores a new attendee with their templates and places it in
// the event's gallery feed. ErrNotFound if the event does not exist,
// ErrConflict if the id or the e-mail is taken.
func (db *DB) CreateAttendee(ctx context.Context, c AttendeeCreate) (*Registration, error) {
	if c.ID == "" {
		c.ID = newID()
	}
	if c.Source == "" {
		c.Source = SourceWeb
	}
	ev, err := db.FindEventByID(ctx, c.EventID)
	if err != nil {
		return nil, fmt.Errorf("create attendee: %w", err)
	}
	code := randomCode(shortCodeLen)
	codeSealed, err := api.SealEventData(ev.TemplateKey, []byte(code), shortCodeAAD(c.ID))
	if err != nil {
		return nil, fmt.Errorf("create attendee: %w", err)
	}
	sealed := make([]api.SealedTemplate, len(c.Templates))
	for i, t := range c.Templates {
		if sealed[i], err = api.SealTemplate(ev.TemplateKey, c.ID, t); err != nil {
			return nil, fmt.Errorf("create attendee: %w", err)
		}
	}
	manage := randomToken(24)
	now := db.Now().UTC().Truncate(time.Millisecond)
	a := &Attendee{ID: c.ID, EventID: c.EventID, Name: strings.TrimSpace(c.Name), Email: strings.ToLower(strings.TrimSpace(c.Email)),
		Info: c.Info, Source: c.Source, Consent: c.Consent, CaptureConsent: c.CaptureConsent && c.Consent,
		Templates: len(sealed), CreatedAt: now, UpdatedAt: now}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := nextCursor(ctx, tx, c.EventID)
		if err != nil {
			return err
		}
		a.Cursor = cur
		if _, err := tx.ExecContext(ctx, `INSERT INTO attendees (id, event_id, name, email, info, code_hash, code_sealed,
			manage_token_hash, consent, capture_consent, source, gallery_cursor, created_at, updated_at, pending)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
			a.ID, a.EventID, a.Name, nullString(a.Email), a.Info, api.HashShortCode(ev.TemplateKey, code), codeSealed,
			hashToken(manage), a.Consent, a.CaptureConsent, a.Source, cur, ms(now), c.Pending); err != nil {
			return err
		}
		for _, s := range sealed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO templates (id, attendee_id, model, version, data, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, newID(), a.ID, s.Model, s.Version, s.Sealed, ms(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("create attendee: %w", ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("create attendee: %w", err)
	}
	return &Registration{Attendee: a, ShortCode: formatShortCode(code), ManageToken: manage}, nil
}

const attendeeColumns = `a.id, a.event_id, a.name, a.email, a.info, a.source, a.consent, a.capture_consent, a.checkins,
	(SELECT COUNT(*) FROM templates t WHERE t.attendee_id = a.id), a.gallery_cursor, a.created_at, a.updated_at, a.deleted_at`

func scanAttendee(s interface{ Scan(...any) error }) (*Attendee, error) {
	var a Attendee
	var email sql.NullString
	var created, updated int64
	var deleted sql.NullInt64
	if err := s.Scan(&a.ID, &a.EventID, &a.Name, &email, &a.Info, &a.Source, &a.Consent, &a.CaptureConsent, &a.CheckIns, &a.Templates,
		&a.Cursor, &created, &updated, &deleted); err != nil {
		return nil, err
	}
	a.Email = email.String
	a.CreatedAt, a.UpdatedAt, a.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(deleted)
	return &a, nil
}

// FindAttendeeByID returns an attendee (possibly a tombstone), or ErrNotFound.
func (db *DB) FindAttendeeByID(ctx context.Context, id string) (*Attendee, error) {
	a, err := scanAttendee(db.db.QueryRowContext(ctx, `SELECT `+attendeeColumns+` FROM attendees a WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find attendee: %w", err)
	}
	return a, nil
}

// ShortCode returns an attendee's short code (e.g. K7QF-2M9X); ErrNotFound if the
// attendee is unknown or deleted.
func (db *DB) ShortCode(ctx context.Context, ev *Event, attendeeID string) (string, error) {
	var sealed []byte
	err := db.db.QueryRowContext(ctx, `SELECT code_sealed FROM attendees WHERE id = $1 AND event_id = $2 AND deleted_at IS NULL`,
		attendeeID, ev.ID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("short code: %w", err)
	}
	code, err := api.OpenEventData(ev.TemplateKey, sealed, shortCodeAAD(attendeeID))
	if err != nil || len(code) != shortCodeLen {
		return "", fmt.Errorf("short code: %w", api.ErrSealed)
	}
	return formatShortCode(string(code)), nil
}

// CheckManageToken returns the attendee a withdraw-link token belongs to;
// ErrInvalidCredentials if it does not match (or the attendee is deleted).
func (db *DB) CheckManageToken(ctx context.Context, attendeeID, token string) (*Attendee, error) {
	var h sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT manage_token_hash FROM attendees WHERE id = $1 AND deleted_at IS NULL`, attendeeID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("check manage token: %w", err)
	}
	if !h.Valid || subtle.ConstantTimeCompare([]byte(h.String), []byte(hashToken(token))) != 1 {
		return nil, ErrInvalidCredentials
	}
	return db.FindAttendeeByID(ctx, attendeeID)
}

// AttendeeFilter selects attendees of one event.
type AttendeeFilter struct {
	EventID string
	// Query matches a substring of the name or e-mail, case-insensitively.
	Query          string
	IncludeDeleted bool
	Limit, Offset  int
}

// likeEscape escapes LIKE wildcards so a search for "50%" means that.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListAttendees returns a page of attendees, newest first, and the total
// number matching the filter.
func (db *DB) ListAttendees(ctx context.Context, f AttendeeFilter) ([]*Attendee, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	pattern := "%" + likeEscape(strings.ToLower(strings.TrimSpace(f.Query))) + "%"
	where := `a.event_id = $1 AND (LOWER(a.name) LIKE $2 ESCAPE '\' OR COALESCE(a.email, '') LIKE $2 ESCAPE '\')
		AND (a.deleted_at IS NULL OR $3)`
	var total int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM attendees a WHERE `+where, f.EventID, pattern, f.IncludeDeleted).
		Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list attendees: %w", err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+attendeeColumns+` FROM attendees a WHERE `+where+`
		ORDER BY a.created_at DESC, a.id DESC LIMIT $4 OFFSET $5`, f.EventID, pattern, f.IncludeDeleted, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list attendees: %w", err)
	}
	defer rows.Close()
	var as []*Attendee
	for rows.Next() {
		a, err := scanAttendee(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list attendees: %w", err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list attendees: %w", err)
	}
	return as, total, nil
}

// DeleteAttendee turns an attendee into a tombstone: personal data blanked,
// templates deleted, and a delete record in the gallery feed so every kiosk
// drops them on its next sync. Deleting a tombstone again is a no-op.
// ErrNotFound if the attendee does not exist.
func (db *DB) DeleteAttendee(ctx context.Context, id string) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var eventID string
		var deleted sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT event_id, deleted_at FROM attendees WHERE id = $1`, id).Scan(&eventID, &deleted)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || deleted.Valid {
			return err
		}
		cur, err := nextCursor(ctx, tx, eventID)
		if err != nil {
			return err
		}
		now := ms(db.Now())
		if _, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE attendee_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE attendees SET name = '', email = NULL, info = '', code_hash = NULL,
			code_sealed = NULL, manage_token_hash = NULL, consent = FALSE, capture_consent = FALSE, gallery_cursor = $1, updated_at = $2, deleted_at = $2
			WHERE id = $3`, cur, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete attendee: %w", err)
	}
	// Also when it was deleted before: a retry after a failed scrub
	// finishes the job.
	if err := db.scrub(ctx); err != nil {
		return fmt.Errorf("delete attendee: %w", err)
	}
	return nil
}

// StreamGallery calls fn with every gallery change of the event after the
// since cursor, oldest first, one record per attendee (its latest state,
// including the capture consent kiosks check before sending a capture),
// without holding the gallery in memory. A since beyond the event's cursor
// (a kiosk whose server was reset) is read as 0. A full feed (since 0) leaves
// out tombstones, which would tell a new kiosk nothing. It returns the
// cursor to resume from and the number of records passed to fn; an error
// from fn stops the stream and is returned.
func (db *DB) StreamGallery(ctx context.Context, eventID string, since int64, fn func(api.GalleryRecord) error) (int64, int, error) {
	end, err := db.StreamGalleryFeed(ctx, eventID, since, fn)
	return end.Cursor, end.Count, err
}

// StreamGalleryFeed is StreamGallery returning the feed's end line:
// the cursor to resume from, the number of records passed to fn, and
// Snapshot when the feed is the whole gallery (since 0, or a since beyond
// the event's cursor), so the kiosk knows it may drop attendees missing
// from it.
func (db *DB) StreamGalleryFeed(ctx context.Context, eventID string, since int64, fn func(api.GalleryRecord) error) (api.GalleryEnd, error) {
	end, n, err := db.streamGallery(ctx, eventID, since, fn)
	end.Count = n
	return end, err
}

func (db *DB) streamGallery(ctx context.Context, eventID string, since int64, fn func(api.GalleryRecord) error) (api.GalleryEnd, int, error) {
	fail := func(cursor int64, n int, err error) (api.GalleryEnd, int, error) {
		return api.GalleryEnd{End: true, Cursor: cursor}, n, err
	}
	cur, err := db.GalleryCursor(ctx, eventID)
	if err != nil {
		return fail(0, 0, fmt.Errorf("stream gallery: %w", err))
	}
	if since < 0 || since > cur {
		since = 0
	}
	rows, err := db.db.QueryContext(ctx, `SELECT a.id, a.name, a.info, a.code_hash, a.capture_consent, a.deleted_at, a.gallery_cursor,
		a.pending, t.model, t.version, t.data
		FROM attendees a LEFT JOIN templates t ON t.attendee_id = a.id
		WHERE a.event_id = $1 AND a.gallery_cursor > $2
		ORDER BY a.gallery_cursor, t.id`, eventID, since)
	if err != nil {
		return fail(0, 0, fmt.Errorf("stream gallery: %w", err))
	}
	defer rows.Close()
	end, n := since, 0
	var rec *api.GalleryRecord
	// pending: the record is an attendee who has not confirmed their
	// address yet; no kiosk has them, so the feed passes over them (their
	// confirmation moves them to a new cursor).
	var pending bool
	flush := func() error {
		if rec == nil {
			return nil
		}
		r := rec
		rec = nil
		end = r.Cursor
		if r.Op == api.OpDelete && since == 0 || pending {
			return nil
		}
		n++
		return fn(*r)
	}
	for rows.Next() {
		var (
			id, name, info string
			codeHash       sql.NullString
			captureConsent bool
			deleted        sql.NullInt64
			cursor         int64
			isPending      bool
			model          sql.NullString
			version        sql.NullInt64
			data           []byte
		)
		if err := rows.Scan(&id, &name, &info, &codeHash, &captureConsent, &deleted, &cursor, &isPending, &model, &version, &data); err != nil {
			return fail(end, n, fmt.Errorf("stream gallery: %w", err))
		}
		if rec == nil || rec.AttendeeID != id {
			if err := flush(); err != nil {
				return fail(end, n, err)
			}
			pending = isPending && !deleted.Valid
			rec = &api.GalleryRecord{Op: api.OpUpsert, Cursor: cursor, AttendeeID: id, Name: name, Info: info, CodeHash: codeHash.String,
				CaptureConsent: captureConsent}
			if deleted.Valid {
				rec.Op = api.OpDelete
				rec.Name, rec.Info, rec.CodeHash, rec.CaptureConsent = "", "", "", false
			}
		}
		if model.Valid && rec.Op == api.OpUpsert {
			rec.Templates = append(rec.Templates, api.SealedTemplate{Model: model.String, Version: int(version.Int64), Sealed: data})
		}
	}
	if err := rows.Err(); err != nil {
		return fail(end, n, fmt.Errorf("stream gallery: %w", err))
	}
	if err := flush(); err != nil {
		return fail(end, n, err)
	}
	return api.GalleryEnd{End: true, Cursor: end, Snapshot: since == 0}, n, nil
}
