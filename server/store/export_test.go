package store

import (
	"context"
	"database/sql"
	"time"
)

// LastVacuum is when a table of the store's PostgreSQL schema was last
// vacuumed by hand (nil: never), for tests of the erasure on PostgreSQL.
func LastVacuum(ctx context.Context, db *DB, table string) (*time.Time, error) {
	var t sql.NullTime
	err := db.db.QueryRowContext(ctx, `SELECT last_vacuum FROM pg_stat_user_tables
		WHERE relname = $1 AND schemaname = current_schema()`, table).Scan(&t)
	if err != nil || !t.Valid {
		return nil, err
	}
	return &t.Time, nil
}
