package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), enough
// for an admin log-in that is also rate-limited.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash of password in PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	h := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(h)), nil
}

// CheckPassword reports whether password matches a HashPassword hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CountAdmins returns the number of admin users.
func (db *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM admins`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// CreateAdmin creates an admin user; ErrConflict if the name is taken.
func (db *DB) CreateAdmin(ctx context.Context, username, password string) error {
	if username == "" || len(password) < MinPasswordLength {
		return fmt.Errorf("create admin: username must be set and the password at least 8 characters")
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3)`,
		username, h, ms(db.Now()))
	if isUniqueViolation(err) {
		return fmt.Errorf("create admin %q: %w", username, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	return nil
}

// dummyHash is checked for unknown users so a log-in takes as long whether
// or not the name exists.
var dummyHash, _ = HashPassword("facecheck-dummy-password")

// AuthenticateAdmin checks a username and password; ErrInvalidCredentials
// if they do not match.
func (db *DB) AuthenticateAdmin(ctx context.Context, username, password string) error {
	var h string
	err := db.db.QueryRowContext(ctx, `SELECT password_hash FROM admins WHERE username = $1`, username).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return ErrInvalidCredentials
	}
	if err != nil {
		return fmt.Errorf("authenticate admin: %w", err)
	}
	if !CheckPassword(h, password) {
		return ErrInvalidCredentials
	}
	return nil
}

// Session is a logged-in admin.
type Session struct {
	Username  string
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession starts an admin session and returns the cookie value.
func (db *DB) CreateSession(ctx context.Context, username string, ttl time.Duration) (string, *Session, error) {
	token := randomToken(32)
	now := db.Now()
	s := &Session{Username: username, CSRFToken: randomToken(32), ExpiresAt: now.Add(ttl)}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO admin_sessions (token_hash, username, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hashToken(token), username, s.CSRFToken, ms(now), ms(s.ExpiresAt)); err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return token, s, nil
}

// FindSession returns the session for a cookie value; ErrInvalidCredentials
// if unknown, ErrExpired if expired.
func (db *DB) FindSession(ctx context.Context, token string) (*Session, error) {
	var s Session
	var exp int64
	err := db.db.QueryRowContext(ctx, `SELECT username, csrf_token, expires_at FROM admin_sessions WHERE token_hash = $1`,
		hashToken(token)).Scan(&s.Username, &s.CSRFToken, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.ExpiresAt = fromMS(exp)
	if !db.Now().Before(s.ExpiresAt) {
		return nil, ErrExpired
	}
	return &s, nil
}

// DeleteSession ends a session (log-out) and drops expired ones.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM admin_sessions WHERE token_hash = $1 OR expires_at < $2`,
		hashToken(token), ms(db.Now())); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time
	Actor  string // admin username, "kiosk:ID", "attendee:ID"
	Action string // e.g. "attendee.delete"
	Target string
	Detail string
	IP     string
}

// AddAudit appends to the audit log.
func (db *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = db.Now()
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, target, detail, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID(), ms(e.At), e.Actor, e.Action, e.Target, e.Detail, e.IP); err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

// ListAudit returns the latest audit entries, newest first.
func (db *DB) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT at, actor, action, target, detail, ip FROM audit_log ORDER BY at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var es []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.IP); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = fromMS(at)
		es = append(es, e)
	}
	return es, rows.Err()
}

// MinPasswordLength is the shortest admin password accepted.
const MinPasswordLength = 8

// SetAdminPassword replaces username's password and ends every session of
// theirs except keep (a session cookie value; "" ends them all): whoever
// knew the old password is logged out. ErrNotFound if there is no such
// admin.
func (db *DB) SetAdminPassword(ctx context.Context, username, password, keep string) error {
	if len(password) < MinPasswordLength {
		return fmt.Errorf("set admin password: the password must be at least %d characters", MinPasswordLength)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = $1 WHERE username = $2`, h, username)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE username = $1 AND token_hash <> $2`, username, hashToken(keep))
		return err
	})
	if err != nil {
		return fmt.Errorf("set admin password of %q: %w", username, err)
	}
	return nil
}
