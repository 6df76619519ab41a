package kiosk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

type memPINs struct{ hash string }

func (m *memPINs) PINHash() string           { return m.hash }
func (m *memPINs) SetPINHash(h string) error { m.hash = h; return nil }

type stepClock struct{ t time.Time }

func (c *stepClock) now() time.Time      { return c.t }
func (c *stepClock) add(d time.Duration) { c.t = c.t.Add(d) }

// A PIN is stored as argon2id (never the digits), checks, and a wrong one
// does not; malformed PINs are refused.
func TestPINGuardSetCheck(t *testing.T) {
	pins := &memPINs{}
	g := NewPINGuard(pins, nil)
	if g.IsSet() {
		t.Fatal("set before Set")
	}
	for _, bad := range []string{"", "123", "123456789", "12a4", "１２３４"} {
		if err := g.Set(bad); !errors.Is(err, ErrPINFormat) {
			t.Errorf("Set(%q) = %v, want ErrPINFormat", bad, err)
		}
	}
	if err := g.Set("2468"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pins.hash, "argon2id$") || strings.Contains(pins.hash, "2468") {
		t.Fatalf("stored %q", pins.hash)
	}
	for _, c := range []struct {
		pin  string
		want bool
	}{{"2468", true}, {"2469", false}, {"24680", false}, {"2468", true}, {"", false}} {
		if ok, err := g.Check(c.pin); ok != c.want || err != nil {
			t.Errorf("Check(%q) = %v, %v; want %v", c.pin, ok, err, c.want)
		}
	}
}

// Three wrong PINs in a row lock the guard: even the right PIN is refused
// unchecked, with the time left, until the lockout ends; each further
// wrong PIN doubles it (up to the maximum); the right PIN resets it.
func TestPINGuardLockout(t *testing.T) {
	clk := &stepClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	g := NewPINGuard(&memPINs{}, clk.now)
	if err := g.Set("1357"); err != nil {
		t.Fatal(err)
	}
	for i := range pinFreeTries {
		if ok, err := g.Check("0000"); ok || err != nil {
			t.Fatalf("wrong PIN %d: %v, %v", i+1, ok, err)
		}
	}
	locked := func(want time.Duration) {
		t.Helper()
		ok, err := g.Check("1357")
		var le *PINLockedError
		if ok || !errors.As(err, &le) || le.Wait != want {
			t.Fatalf("right PIN while locked: %v, %v; want locked for %s", ok, err, want)
		}
	}
	locked(pinLockMin)
	clk.add(pinLockMin - time.Second)
	locked(time.Second)
	clk.add(time.Second)
	// One more wrong PIN after the lockout: locked again, twice as long.
	if ok, err := g.Check("0000"); ok || err != nil {
		t.Fatalf("wrong PIN after the lockout: %v, %v", ok, err)
	}
	locked(2 * pinLockMin)
	for range 12 { // the backoff is capped
		clk.add(pinLockMax)
		g.Check("0000")
	}
	locked(pinLockMax)
	clk.add(pinLockMax)
	if ok, err := g.Check("1357"); !ok || err != nil {
		t.Fatalf("right PIN after the lockout: %v, %v", ok, err)
	}
	// Reset: three fresh tries.
	for range pinFreeTries - 1 {
		g.Check("0000")
	}
	if ok, err := g.Check("1357"); !ok || err != nil {
		t.Fatalf("right PIN within the free tries: %v, %v", ok, err)
	}
}

// A hash of the older salted-SHA-256 form verifies once and is replaced by
// argon2id; a wrong PIN leaves it alone.
func TestPINGuardUpgradesLegacyHash(t *testing.T) {
	salt := []byte("0123456789abcdef")
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte("9753"))
	legacy := hex.EncodeToString(salt) + "$" + hex.EncodeToString(h.Sum(nil))
	pins := &memPINs{hash: legacy}
	g := NewPINGuard(pins, nil)
	if ok, _ := g.Check("9752"); ok || pins.hash != legacy {
		t.Fatalf("wrong PIN: ok %v, stored %q", ok, pins.hash)
	}
	if ok, err := g.Check("9753"); !ok || err != nil {
		t.Fatalf("legacy hash: %v, %v", ok, err)
	}
	if !strings.HasPrefix(pins.hash, "argon2id$") {
		t.Fatalf("not upgraded: %q", pins.hash)
	}
	if ok, err := g.Check("9753"); !ok || err != nil {
		t.Fatalf("after the upgrade: %v, %v", ok, err)
	}
}

// memLockoutPINs is a PINStore that keeps the lockout too.
type memLockoutPINs struct {
	memPINs
	failures int
	until    time.Time
}

func (m *memLockoutPINs) PINLockout() (int, time.Time) { return m.failures, m.until }
func (m *memLockoutPINs) SetPINLockout(n int, until time.Time) error {
	m.failures, m.until = n, until
	return nil
}

// A lockout outlives a restart when the store keeps it (a new guard over
// the same store is still locked), a stored lockout longer than the
// maximum is cut to it, and the right PIN clears the stored lockout.
func TestPINGuardLockoutSurvivesRestart(t *testing.T) {
	clk := &stepClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	pins := &memLockoutPINs{}
	g := NewPINGuard(pins, clk.now)
	if err := g.Set("1357"); err != nil {
		t.Fatal(err)
	}
	for range pinFreeTries {
		g.Check("0000")
	}
	restarted := NewPINGuard(pins, clk.now)
	var le *PINLockedError
	if ok, err := restarted.Check("1357"); ok || !errors.As(err, &le) || le.Wait != pinLockMin {
		t.Fatalf("right PIN after a restart during the lockout: %v, %v; want locked for %s", ok, err, pinLockMin)
	}
	// A further wrong PIN after the restarted lockout ends still doubles.
	clk.add(pinLockMin)
	if ok, err := restarted.Check("0000"); ok || err != nil {
		t.Fatalf("wrong PIN: %v, %v", ok, err)
	}
	if want := clk.t.Add(2 * pinLockMin); !pins.until.Equal(want) {
		t.Fatalf("stored lockout until %s, want %s", pins.until, want)
	}

	pins.until = clk.t.Add(30 * 24 * time.Hour) // clock set back, or tampered
	capped := NewPINGuard(pins, clk.now)
	if _, err := capped.Check("1357"); !errors.As(err, &le) || le.Wait != pinLockMax {
		t.Fatalf("stored month-long lockout: %v; want locked for %s", err, pinLockMax)
	}
	clk.add(pinLockMax)
	if ok, err := capped.Check("1357"); !ok || err != nil {
		t.Fatalf("right PIN after the capped lockout: %v, %v", ok, err)
	}
	if pins.failures != 0 || !pins.until.IsZero() {
		t.Fatalf("stored lockout after the right PIN: %d, %s", pins.failures, pins.until)
	}
}
