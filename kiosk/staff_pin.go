package kiosk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// The admin PIN guards the settings pane and staff mode. A PIN has so few
// values (10^4 to 10^8) that no hash stops an offline guess at a stolen
// hash; argon2id makes each guess cost ~tens of milliseconds and the
// memory to match, and the lockout below is what stops guessing at the
// kiosk itself.

// PINStore keeps the admin PIN's hash ("" when none is set yet): the
// window keeps it in the app preferences.
type PINStore interface {
	PINHash() string
	SetPINHash(hash string) error
}

// PINLockoutStore is a PINStore that also keeps the lockout, so that
// restarting the kiosk does not hand a guesser three fresh tries. The
// window's preferences store is one; a PINStore without it keeps the
// lockout in memory only.
type PINLockoutStore interface {
	PINStore
	PINLockout() (failures int, until time.Time)
	SetPINLockout(failures int, until time.Time) error
}

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane).
const (
	pinMemory  = 19 * 1024 // KiB
	pinTime    = 2
	pinThreads = 1
	pinKeyLen  = 32
	pinPrefix  = "argon2id$"
)

// Lockout: after pinFreeTries wrong PINs in a row the guard refuses every
// PIN for pinLockMin, doubling with each further wrong one up to
// pinLockMax. A right PIN resets it.
const (
	pinFreeTries = 3
	pinLockMin   = 30 * time.Second
	pinLockMax   = 15 * time.Minute
)

// ErrPINFormat is a PIN that is not 4 to 8 digits.
var ErrPINFormat = errors.New("kiosk: the PIN must be 4 to 8 digits")

// PINLockedError is a PIN refused unchecked during a lockout.
type PINLockedError struct{ Wait time.Duration }

func (e *PINLockedError) Error() string {
	return fmt.Sprintf("kiosk: too many wrong PINs: locked for %s", e.Wait.Round(time.Second))
}

// PINGuard checks and sets the admin PIN: argon2id hashes in a PINStore,
// and a lockout with backoff after wrong PINs. Hashes of the older
// salted-SHA-256 form still verify and are replaced by argon2id at their
// first successful check. Safe for concurrent use.
type PINGuard struct {
	store PINStore
	clock func() time.Time

	mu       sync.Mutex
	failures int       // wrong PINs in a row
	until    time.Time // locked until
}

// NewPINGuard guards the PIN in store; clock nil means time.Now.
func NewPINGuard(store PINStore, clock func() time.Time) *PINGuard {
	if clock == nil {
		clock = time.Now
	}
	g := &PINGuard{store: store, clock: clock}
	if ls, ok := store.(PINLockoutStore); ok {
		g.failures, g.until = ls.PINLockout()
		// A lockout can never be longer than the maximum from now: a clock
		// set back, or a tampered store, must not lock staff out for days.
		if limit := clock().Add(pinLockMax); g.until.After(limit) {
			g.until = limit
		}
		g.failures = max(g.failures, 0)
	}
	return g
}

// saveLockout keeps the lockout in the store when it can; a store that
// fails to save leaves the in-memory lockout in force.
func (g *PINGuard) saveLockout() {
	if ls, ok := g.store.(PINLockoutStore); ok {
		_ = ls.SetPINLockout(g.failures, g.until)
	}
}

// IsSet reports whether a PIN has been chosen.
func (g *PINGuard) IsSet() bool { return g.store.PINHash() != "" }

// ValidPIN checks the PIN format: 4 to 8 ASCII digits.
func ValidPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 8 {
		return ErrPINFormat
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return ErrPINFormat
		}
	}
	return nil
}

// Set stores a new PIN (first use, or changed from the settings pane).
func (g *PINGuard) Set(pin string) error {
	if err := ValidPIN(pin); err != nil {
		return err
	}
	h, err := hashPIN(pin)
	if err != nil {
		return err
	}
	if err := g.store.SetPINHash(h); err != nil {
		return fmt.Errorf("kiosk: save the admin PIN: %w", err)
	}
	return nil
}

// Check reports whether pin is the admin PIN. During a lockout it returns
// a *PINLockedError without checking. A wrong PIN returns false and,
// from the pinFreeTries-th in a row, starts a lockout.
func (g *PINGuard) Check(pin string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock() // one check at a time: a lockout cannot be raced
	now := g.clock()
	if now.Before(g.until) {
		return false, &PINLockedError{Wait: g.until.Sub(now)}
	}
	stored := g.store.PINHash()
	ok, legacy := verifyPIN(stored, pin)
	if !ok {
		g.failures++
		if n := g.failures - pinFreeTries; n >= 0 {
			wait := pinLockMin << min(n, 10)
			g.until = now.Add(min(wait, pinLockMax))
		}
		g.saveLockout()
		return false, nil
	}
	if g.failures != 0 || !g.until.IsZero() {
		g.failures, g.until = 0, time.Time{}
		g.saveLockout()
	}
	if legacy {
		// Upgrade in place; the PIN stays valid even if this fails.
		if h, err := hashPIN(pin); err == nil {
			_ = g.store.SetPINHash(h)
		}
	}
	return true, nil
}

// hashPIN returns "argon2id$<salt>$<key>" (raw base64) with the constant
// parameters.
func hashPIN(pin string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("kiosk: PIN salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, pinTime, pinMemory, pinThreads, pinKeyLen)
	enc := base64.RawStdEncoding
	return pinPrefix + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// verifyPIN checks pin against stored, argon2id or the older
// "salthex$sha256hex" form (legacy true).
func verifyPIN(stored, pin string) (ok, legacy bool) {
	if rest, found := strings.CutPrefix(stored, pinPrefix); found {
		saltB64, keyB64, ok := strings.Cut(rest, "$")
		if !ok {
			return false, false
		}
		enc := base64.RawStdEncoding
		salt, err1 := enc.DecodeString(saltB64)
		want, err2 := enc.DecodeString(keyB64)
		if err1 != nil || err2 != nil || len(want) != pinKeyLen {
			return false, false
		}
		got := argon2.IDKey([]byte(pin), salt, pinTime, pinMemory, pinThreads, pinKeyLen)
		return subtle.ConstantTimeCompare(got, want) == 1, false
	}
	saltHex, digest, found := strings.Cut(stored, "$")
	if !found {
		return false, false
	}
	salt, err := hex.DecodeString(saltHex)
	if err != nil {
		return false, false
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pin))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(h.Sum(nil))), []byte(digest)) == 1, true
}
