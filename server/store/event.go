package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
)

// DefaultThresholds are an uncalibrated event's thresholds: placeholders
// until the event's own calibration replaces them (DESIGN.md: the cosine at
// 1 in 1,000 impostor pairs is ~0.36–0.45 depending on the population).
var DefaultThresholds = api.Thresholds{Accept: 0.50, Confirm: 0.40, Margin: 0.05, TargetFPIR: 0.001}

// Event is an event with its template key opened.
type Event struct {
	ID          string
	Name        string
	TemplateKey []byte
	Thresholds  api.Thresholds
	Settings    map[string]string
	CreatedAt   time.Time
	// Lifecycle: end date, retention, closed and purged (lifecycle.go).
	Lifecycle
}

// API returns the admin view of e.
func (e *Event) API() api.Event {
	a := api.Event{ID: e.ID, Name: e.Name, Thresholds: e.Thresholds, Values: e.Settings, CreatedAt: e.CreatedAt}
	e.Lifecycle.api(&a)
	return a
}

func eventKeyAAD(id string) []byte { return []byte("facecheck-event-key\x00" + id) }

// CreateEvent creates an event with a fresh template key and default
// thresholds; opts set its end date and retention (default: no end date,
// DefaultRetentionDays). It fails if name is blank.
func (db *DB) CreateEvent(ctx context.Context, name string, opts ...EventOption) (*Event, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, fmt.Errorf("create event: name is empty")
	}
	key, err := api.NewKey()
	if err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	e := &Event{ID: newID(), Name: name, TemplateKey: key, Thresholds: DefaultThresholds,
		Settings: map[string]string{}, CreatedAt: db.Now().UTC().Truncate(time.Millisecond),
		Lifecycle: Lifecycle{RetentionDays: DefaultRetentionDays}}
	for _, o := range opts {
		o(e)
	}
	if err := e.Lifecycle.validate(); err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	sealed, err := api.Seal(db.key, key, eventKeyAAD(e.ID))
	if err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	th, err := json.Marshal(e.Thresholds)
	if err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO events (id, name, template_key, thresholds, settings, created_at, ends_at, retention_days)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, e.Name, sealed, string(th), "{}", ms(e.CreatedAt),
		nullMS(e.EndsAt), e.RetentionDays); err != nil {
		return nil, fmt.Errorf("create event: %w", err)
	}
	return e, nil
}

const eventColumns = `id, name, template_key, thresholds, settings, created_at, ends_at, retention_days, closed_at, purged_at`

func (db *DB) scanEvent(s interface{ Scan(...any) error }) (*Event, error) {
	var (
		e            Event
		sealed       []byte
		th, settings string
		created      int64
		ends, closed sql.NullInt64
		purged       sql.NullInt64
	)
	if err := s.Scan(&e.ID, &e.Name, &sealed, &th, &settings, &created,
		&ends, &e.RetentionDays, &closed, &purged); err != nil {
		return nil, err
	}
	e.EndsAt, e.ClosedAt, e.PurgedAt = fromNullMS(ends), fromNullMS(closed), fromNullMS(purged)
	key, err := api.Open(db.key, sealed, eventKeyAAD(e.ID))
	if err != nil {
		return nil, fmt.Errorf("event %s: template key: %w (wrong server key?)", e.ID, err)
	}
	e.TemplateKey = key
	if err := json.Unmarshal([]byte(th), &e.Thresholds); err != nil {
		return nil, fmt.Errorf("event %s: thresholds: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(settings), &e.Settings); err != nil {
		return nil, fmt.Errorf("event %s: settings: %w", e.ID, err)
	}
	if e.Settings == nil {
		e.Settings = map[string]string{}
	}
	e.CreatedAt = fromMS(created)
	return &e, nil
}

// FindEventByID returns the event, or ErrNotFound.
func (db *DB) FindEventByID(ctx context.Context, id string) (*Event, error) {
	e, err := db.scanEvent(db.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find event: %w", err)
	}
	return e, nil
}

// ListEvents returns all events, oldest first.
func (db *DB) ListEvents(ctx context.Context) ([]*Event, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM events ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var es []*Event
	for rows.Next() {
		e, err := db.scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return es, nil
}

// UpdateEventSettings sets an event's thresholds and/or setting values (nil
// leaves them unchanged) and returns the event. ErrNotFound if it does not exist.
func (db *DB) UpdateEventSettings(ctx context.Context, id string, th *api.Thresholds, values map[string]string) (*Event, error) {
	var e *Event
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = db.scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if th != nil {
			e.Thresholds = *th
		}
		if values != nil {
			e.Settings = values
		}
		tb, err := json.Marshal(e.Thresholds)
		if err != nil {
			return err
		}
		vb, err := json.Marshal(e.Settings)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE events SET thresholds = $1, settings = $2 WHERE id = $3`, string(tb), string(vb), id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update event settings: %w", err)
	}
	return e, nil
}

// nextCursor hands out the event's next gallery cursor. The UPDATE locks
// the event row until the transaction ends, so cursors become visible in
// the order they are handed out and a feed reader never skips one (a
// sequence would let a later cursor commit first).
func nextCursor(ctx context.Context, tx *sql.Tx, eventID string) (int64, error) {
	var c int64
	err := tx.QueryRowContext(ctx, `UPDATE events SET gallery_cursor = gallery_cursor + 1 WHERE id = $1 RETURNING gallery_cursor`, eventID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return c, err
}

// GalleryCursor returns the event's latest gallery cursor.
func (db *DB) GalleryCursor(ctx context.Context, eventID string) (int64, error) {
	var c int64
	err := db.db.QueryRowContext(ctx, `SELECT gallery_cursor FROM events WHERE id = $1`, eventID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("gallery cursor: %w", err)
	}
	return c, nil
}
