// Package store keeps the central server's events, admins, attendees,
// templates, kiosks and check-ins in SQL. The same schema and queries run on
// SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx), so
// every statement uses $N placeholders and portable types only.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for postgres:// DSNs
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/facecheck/facecheck/api"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict is a unique constraint violation, e.g. an e-mail already
	// registered for the event.
	ErrConflict = errors.New("conflict")
	// ErrInvalidCredentials is a wrong password, unknown token or pairing code.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrRevoked is a kiosk token an admin revoked.
	ErrRevoked = errors.New("revoked")
	// ErrExpired is an expired pairing code or session.
	ErrExpired = errors.New("expired")
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is the store. Open it with Open; it is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect string
	// key is the server key: it seals every event's template key, and is
	// kept outside the database (a key file or the environment).
	key []byte

	// Now is the clock, replaceable in tests.
	Now func() time.Time
}

// Open opens the store and runs pending migrations. dsn is a SQLite file
// path or a postgres:// URL; key is the 32-byte server key.
func Open(ctx context.Context, dsn string, key []byte) (*DB, error) {
	if len(key) != api.KeySize {
		return nil, fmt.Errorf("open store: server key is %d bytes, want %d", len(key), api.KeySize)
	}
	db := &DB{key: key, Now: time.Now}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.dialect = Postgres
		db.db, err = sql.Open("pgx", dsn)
		if err == nil {
			// PostgreSQL refuses connections beyond max_connections (100 by
			// default, shared by every server instance): 200 kiosks syncing
			// at once made the pool open more and get "too many clients"
			// (server/loadtest). Requests wait for a pooled connection instead.
			db.db.SetMaxOpenConns(PostgresMaxConns)
			db.db.SetMaxIdleConns(PostgresMaxConns)
		}
	} else {
		db.dialect = SQLite
		db.db, err = sql.Open("sqlite", sqliteDSN(dsn))
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.db.PingContext(ctx); err != nil {
		db.db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	return db, nil
}

// PostgresMaxConns caps one server's connections to PostgreSQL; several
// instances behind a load balancer each take this many.
const PostgresMaxConns = 20

// sqliteDSN puts the per-connection pragmas into the DSN, so every pooled
// connection gets them (foreign_keys is per connection). WAL lets the
// gallery stream read while check-ins are written; _txlock=immediate takes
// the write lock at BEGIN, so two writers queue on busy_timeout instead of
// failing when a read transaction upgrades. secure_delete zeroes deleted
// rows and freed pages, so an erased attendee's name, e-mail and sealed
// templates do not linger in the file (see scrub for the WAL).
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "secure_delete(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Set("_txlock", "immediate")
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// scrub makes an erasure hold on SQLite: secure_delete has zeroed the
// deleted content in the pages, but the WAL still holds the frames written
// before, so a TRUNCATE checkpoint copies the zeroed pages into the
// database and empties the WAL. It waits for readers (busy_timeout) and
// retries a few times when a long gallery stream keeps one open. On
// PostgreSQL dead rows stay in the table files until VACUUM reuses their
// space (docs/security.md); the event purge runs it.
func (db *DB) scrub(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	for attempt := 0; ; attempt++ {
		var busy, logFrames, done int
		err := db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
		if err != nil {
			return fmt.Errorf("checkpoint after erasure: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 4 {
			return fmt.Errorf("checkpoint after erasure: database busy (%d of %d WAL frames copied)", done, logFrames)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpoint after erasure: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Ping checks the database is reachable.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		apply := func(tx *sql.Tx) error {
			buf, err := fs.ReadFile(migrationFS, name)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, string(buf))
			return err
		}
		if err := db.migrateStep(ctx, name, apply); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	// Data migrations written in Go, after the schema.
	for _, m := range []struct {
		name  string
		apply func(context.Context, *sql.Tx) error
	}{
		{"go-0001-short-code-subkey", db.rehashShortCodes},
	} {
		if err := db.migrateStep(ctx, m.name, func(tx *sql.Tx) error { return m.apply(ctx, tx) }); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// migrateStep applies one migration in a transaction and records it, unless
// it is recorded already.
func (db *DB) migrateStep(ctx context.Context, name string, apply func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.dialect == Postgres {
		// Serialise migrations of several server instances starting at once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4242001)`); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := apply(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`,
		name, db.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// Migrations returns the names of the applied migrations, in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// withTx runs fn in a transaction, committing when it returns nil.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// isUniqueViolation reports whether err is a unique or primary key violation
// on either database.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe interface{ SQLState() string } // *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.SQLState() == "23505"
	}
	return false
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// hashToken is how bearer tokens, session cookies and pairing codes are
// stored: they are long random strings, so a plain sha256 suffices.
func hashToken(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// randomToken returns n random bytes as lower-case unpadded base32 text.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// crockford is the Crockford base32 alphabet: no I, L, O, U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// randomCode returns n Crockford base32 characters, for codes people type.
func randomCode(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = crockford[int(b[i])%len(crockford)] // 256 is a multiple of 32: no bias
	}
	return string(b)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
