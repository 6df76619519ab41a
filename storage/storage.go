// Package storage owns the kiosk's local SQLite database (modernc.org/sqlite,
// pure Go, WAL): its versioned migrations, the attendee gallery with templates
// sealed by AES-256-GCM under a key kept outside the database file, the gallery
// delta cursor, check-ins and the durable outbox the sync worker drains,
// settings with their server defaults and local overrides, and the audit log.
//
// It is the only package of the kiosk that imports database/sql. Every method
// takes a context, and every error is wrapped with "storage: <operation>";
// callers branch on the sentinels (ErrNotFound, ErrInvalid, ErrDiskFull,
// ErrCorrupt, ErrWrongKey) with errors.Is.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Errors callers branch on. Each is wrapped with the operation that failed.
var (
	// ErrNotFound is returned when a record asked for by id does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for arguments rejected before touching the
	// database (missing id, bad template length, unknown method...).
	ErrInvalid = errors.New("invalid argument")
	// ErrDiskFull is returned when SQLite cannot grow the database (SQLITE_FULL,
	// ENOSPC, or the Options.MaxPages cap). The failed transaction was rolled
	// back as a whole; everything committed before is intact.
	ErrDiskFull = errors.New("disk is full: free space on this computer's disk and retry; the failed write was rolled back, earlier data is intact")
	// ErrCorrupt is returned when SQLite reports a damaged database file, and
	// by IntegrityCheck.
	ErrCorrupt = errors.New("database file is damaged: sync what can be read, then move the file aside so the kiosk rebuilds it from the server")
)

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another process (say, an admin's sqlite3 shell) before failing with
// SQLITE_BUSY. Inside the process the single writer connection means our own
// writes never wait on each other.
const DefaultBusyTimeout = 5 * time.Second

// Options configure Open.
type Options struct {
	// Key is the 32-byte AES-256 key templates are sealed with, normally from
	// LoadOrCreateKey. Required.
	Key []byte
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
	// BusyTimeout defaults to DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Readers is the size of the read-only connection pool; 0 means 4.
	Readers int
	// ResetGalleryOnWrongKey makes Open drop the cached gallery (attendees,
	// templates, cursor) instead of failing with ErrWrongKey when Key is not
	// the key the database was sealed with, e.g. after the key file was lost.
	// Check-ins, the outbox, settings and the audit log are kept; the gallery
	// comes back with the next full sync.
	ResetGalleryOnWrongKey bool
	// MaxPages caps the database size in pages (PRAGMA max_page_count, 4 KiB
	// pages) on the writer connection; 0 means no cap. Writes beyond it fail
	// with ErrDiskFull, exactly as when the disk itself fills up.
	MaxPages int
}

// DB is the kiosk's local store. It is safe for concurrent use.
//
// All writes go through one connection (a pool of size one) and every write
// transaction starts with BEGIN IMMEDIATE, so writers inside this process
// queue in Go instead of failing with SQLITE_BUSY or deadlocking on a lock
// upgrade. Reads use a separate pool of read-only connections; in WAL mode
// they see the last committed state and never block the writer.
type DB struct {
	write *sql.DB
	read  *sql.DB
	key   []byte
	path  string

	resetOnWrongKey bool

	// writeErr holds the error of the last write transaction when it
	// failed because the disk is full or the file is damaged, nil once a
	// write succeeds again (WriteError).
	writeErr atomic.Pointer[error]

	outboxAdded chan struct{} // OutboxAdded

	// Now returns the current time. It defaults to time.Now; tests replace it
	// (before using the DB) to control recorded times.
	Now func() time.Time
}

// Open opens or creates the database at path, applies pending migrations and
// checks that opts.Key is the key the database's templates were sealed with
// (ErrWrongKey if not, unless opts.ResetGalleryOnWrongKey). The file is created with 0600 permissions: it holds
// attendee names. path must be a file (":memory:" is per connection and
// would give the readers a different database than the writer).
func Open(path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("storage: open: %w: database path %q must be a plain file path", ErrInvalid, path)
	}
	if len(opts.Key) != KeySize {
		return nil, fmt.Errorf("storage: open: %w: template key is %d bytes, want %d (use LoadOrCreateKey)", ErrInvalid, len(opts.Key), KeySize)
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("storage: open: %w", classify(err))
	}
	db := &DB{
		key:  append([]byte(nil), opts.Key...),
		path: path,
		Now:  opts.Now,

		resetOnWrongKey: opts.ResetGalleryOnWrongKey,
		outboxAdded:     make(chan struct{}, 1),
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}

	// synchronous=FULL: in WAL mode NORMAL only syncs the WAL at checkpoints,
	// so a check-in committed just before a power cut can vanish (the file
	// stays consistent, but the row is gone). A kiosk must never lose a
	// check-in it has shown as done, and it commits a few rows a second at
	// most, so one fsync per commit is cheap insurance.
	//
	// foreign_keys is per connection, so it goes in the DSN rather than a
	// one-off Exec. secure_delete overwrites deleted content, so a tombstoned
	// attendee's (sealed) templates and name do not linger in free pages.
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busy.Milliseconds())
	writeDSN := path + "?" + common +
		"&_pragma=journal_mode(wal)&_pragma=synchronous(full)&_pragma=secure_delete(1)&_txlock=immediate"
	if opts.MaxPages > 0 {
		writeDSN += fmt.Sprintf("&_pragma=max_page_count(%d)", opts.MaxPages)
	}
	w, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db.write = w

	if err := db.migrate(context.Background()); err != nil {
		return nil, errors.Join(err, w.Close())
	}

	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("storage: open %s: %w", path, err), w.Close())
	}
	n := opts.Readers
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.read = r

	if err := db.checkKey(context.Background()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// createFile makes path with 0600 permissions if it does not exist yet, so
// SQLite (which gives -wal and -shm the database file's mode) never creates
// a world-readable database under a permissive umask.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Close closes both connection pools. The last connection to close
// checkpoints the WAL into the database file.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// migrate applies every embedded migration not yet recorded in
// schema_migrations, in file name order, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return wrap("migrate", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	sort.Strings(names)
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[filepath.Base(n)] = true
	}

	// A database migrated by a newer build may have tables this build does
	// not understand: refuse it rather than write around them.
	rows, err := db.write.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return wrap("migrate", err)
	}
	applied := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return wrap("migrate", err)
		}
		applied[n] = true
		if !known[n] {
			rows.Close()
			return fmt.Errorf("storage: migrate: database %s was written by a newer facecheck (unknown migration %s): upgrade facecheck, or move the file aside to rebuild it from the server", db.path, n)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return wrap("migrate", err)
	}

	for _, n := range names {
		base := filepath.Base(n)
		if applied[base] {
			continue
		}
		body, err := migrationFS.ReadFile(n)
		if err != nil {
			return fmt.Errorf("storage: migrate %s: %w", base, err)
		}
		err = db.update(ctx, "migrate "+base, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, db.now())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// update runs fn in a write transaction (BEGIN IMMEDIATE on the single writer
// connection) and commits it; any error rolls the whole transaction back.
func (db *DB) update(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	err := db.tx(ctx, op, fn)
	db.noteWrite(err)
	return err
}

func (db *DB) tx(ctx context.Context, op string, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer func() {
		if _, queued := enqueuedIn.LoadAndDelete(tx); queued && err == nil {
			select {
			case db.outboxAdded <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !alreadyRolledBack(rerr) {
			err = errors.Join(err, rerr)
		}
		return wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// scrub makes an erasure hold: secure_delete has zeroed the deleted rows in
// their pages, but the WAL still holds the frames written before, so a
// TRUNCATE checkpoint copies the zeroed pages into the database file and
// empties the WAL. Readers hold it up for at most busy_timeout per try.
func (db *DB) scrub(ctx context.Context, op string) error {
	for attempt := 0; ; attempt++ {
		var busy, frames, done int
		if err := db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return wrap(op+": checkpoint", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 4 {
			return fmt.Errorf("storage: %s: checkpoint: readers kept %d of %d WAL frames; the erased rows leave the WAL at the next checkpoint", op, frames-done, frames)
		}
		select {
		case <-ctx.Done():
			return wrap(op+": checkpoint", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// noteWrite remembers a write that failed for a full disk or a damaged
// file, and forgets it when a write succeeds.
func (db *DB) noteWrite(err error) {
	switch {
	case err == nil:
		db.writeErr.Store(nil)
	case errors.Is(err, ErrDiskFull), errors.Is(err, ErrCorrupt):
		db.writeErr.Store(&err)
	}
}

// WriteError returns the error of the last write when it failed because
// the disk is full (ErrDiskFull) or the file is damaged (ErrCorrupt), and
// nil once a later write succeeded: the kiosk shows it is out of order
// and the sync status says degraded while it is set.
func (db *DB) WriteError() error {
	if p := db.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// probeRoom is what Probe writes: about what a check-in with a capture and
// its outbox item take, so a kiosk resumes only when a check-in fits.
const probeRoom = 16 << 10

// Probe checks that a write of the size of a check-in fits: it writes an
// audit entry of probeRoom bytes and deletes it in the same transaction,
// so nothing is left behind. It returns ErrDiskFull while the disk (or
// the Options.MaxPages cap) has no room, and clears WriteError once it
// succeeds.
func (db *DB) Probe(ctx context.Context) error {
	return db.update(ctx, "probe free space", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, detail) VALUES (?, 'storage', 'probe', ?)`,
			db.now(), strings.Repeat(" ", probeRoom))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id = ?`, id)
		return err
	})
}

// alreadyRolledBack reports whether a ROLLBACK failed only because SQLite
// had rolled the transaction back itself, as it may on SQLITE_FULL or
// SQLITE_IOERR; the SQLite docs call that error harmless.
func alreadyRolledBack(err error) bool {
	return errors.Is(err, sql.ErrTxDone) || strings.Contains(err.Error(), "no transaction is active")
}

// IntegrityCheck runs PRAGMA integrity_check and PRAGMA foreign_key_check and
// returns an error wrapping ErrCorrupt with SQLite's findings unless both are
// clean.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	var problems []string
	rows, err := db.read.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return wrap("integrity check", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return wrap("integrity check", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return wrap("integrity check", err)
	}
	rows, err = db.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return wrap("integrity check", err)
	}
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			rows.Close()
			return wrap("integrity check", err)
		}
		problems = append(problems, fmt.Sprintf("%s row %d points to a missing %s row", table, rowid.Int64, parent))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return wrap("integrity check", err)
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return fmt.Errorf("storage: integrity check: %w: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// wrap prefixes err with the operation and adds ErrDiskFull or ErrCorrupt to
// its chain when SQLite's result code says so.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage: %s: %w", op, classify(err))
}

// classify adds ErrDiskFull or ErrCorrupt in front of err when it is one.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrDiskFull), errors.Is(err, ErrCorrupt):
		return err
	case isDiskFull(err):
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case isCorrupt(err):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

func isDiskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return true
	case sqlite3.SQLITE_IOERR:
		// Some VFS paths report ENOSPC as a plain I/O error.
		m := strings.ToLower(se.Error())
		return strings.Contains(m, "no space") || strings.Contains(m, "disk is full") || strings.Contains(m, "disk full")
	}
	return false
}

func isCorrupt(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// timeFormat is fixed width so stored times sort as strings.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func (db *DB) now() string { return formatTime(db.Now()) }
