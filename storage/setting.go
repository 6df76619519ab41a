package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Setting sources. A local override wins over the server's event default.
const (
	SourceLocal  = "local"
	SourceServer = "server"
)

// Setting is a stored setting value. Keys and values are opaque here; the
// kiosk validates them and owns the built-in defaults.
type Setting struct {
	Key       string
	Value     string
	Source    string // SourceLocal or SourceServer
	UpdatedAt time.Time
}

// GetSettings returns every stored setting by key.
func (db *DB) GetSettings(ctx context.Context) (map[string]Setting, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT key, value, source, updated_at FROM settings`)
	if err != nil {
		return nil, wrap("get settings", err)
	}
	defer rows.Close()
	out := map[string]Setting{}
	for rows.Next() {
		var s Setting
		var at string
		if err := rows.Scan(&s.Key, &s.Value, &s.Source, &at); err != nil {
			return nil, wrap("get settings", err)
		}
		if s.UpdatedAt, err = parseTime(at); err != nil {
			return nil, wrap("get settings", err)
		}
		out[s.Key] = s
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("get settings", err)
	}
	return out, nil
}

// SetSetting stores value as a local override of key and writes an audit
// entry ("setting.set", "key: old -> new") in the same transaction. Setting a
// local override to its current value changes nothing. It returns ErrInvalid
// for an empty key or actor.
func (db *DB) SetSetting(ctx context.Context, key, value, actor string) error {
	if strings.TrimSpace(key) == "" || strings.TrimSpace(actor) == "" {
		return fmt.Errorf("storage: set setting: %w: key and actor are required", ErrInvalid)
	}
	return db.update(ctx, "set setting "+key, func(tx *sql.Tx) error {
		var old, source string
		err := tx.QueryRowContext(ctx, `SELECT value, source FROM settings WHERE key = ?`, key).Scan(&old, &source)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			old = "(default)"
		case err != nil:
			return err
		case source == SourceLocal && old == value:
			return nil
		case source == SourceServer:
			old += " (server)"
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO settings (key, value, source, updated_at) VALUES (?, ?, 'local', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, source = 'local', updated_at = excluded.updated_at`,
			key, value, now); err != nil {
			return err
		}
		return insertAudit(ctx, tx, now, actor, "setting.set", fmt.Sprintf("%s: %s -> %s", key, old, value))
	})
}

// ResetSetting drops the local override of key, with an audit entry
// ("setting.reset") in the same transaction. The built-in default applies
// until the next SetServerDefaults brings back the event's default, if any.
// Resetting a key without a local override changes nothing.
func (db *DB) ResetSetting(ctx context.Context, key, actor string) error {
	if strings.TrimSpace(key) == "" || strings.TrimSpace(actor) == "" {
		return fmt.Errorf("storage: reset setting: %w: key and actor are required", ErrInvalid)
	}
	return db.update(ctx, "reset setting "+key, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `DELETE FROM settings WHERE key = ? AND source = 'local' RETURNING value`, key).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, db.now(), actor, "setting.reset", fmt.Sprintf("%s: %s -> (default)", key, old))
	})
}

// SetServerDefaults replaces the event's defaults with values (the complete
// set from GET /v1/settings) in one transaction: it stores each value with
// source "server", deletes server values no longer sent, and never touches a
// local override. When anything changed it writes one audit entry
// ("settings.server") listing the changed keys.
func (db *DB) SetServerDefaults(ctx context.Context, values map[string]string) error {
	for k := range values {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("storage: set server defaults: %w: empty key", ErrInvalid)
		}
	}
	return db.update(ctx, "set server defaults", func(tx *sql.Tx) error {
		now := db.now()
		var changed []string
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO settings (key, value, source, updated_at) VALUES (?, ?, 'server', ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
				WHERE settings.source = 'server' AND settings.value <> excluded.value`,
				k, values[k], now)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				changed = append(changed, k)
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT key FROM settings WHERE source = 'server' ORDER BY key`)
		if err != nil {
			return err
		}
		var stale []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			if _, ok := values[k]; !ok {
				stale = append(stale, k)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, k := range stale {
			if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ? AND source = 'server'`, k); err != nil {
				return err
			}
			changed = append(changed, k+" (removed)")
		}
		if len(changed) == 0 {
			return nil
		}
		return insertAudit(ctx, tx, now, "server", "settings.server", strings.Join(changed, ", "))
	})
}
