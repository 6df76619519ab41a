package ui

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/facecheck/facecheck/kiosk"
)

// The window's PIN store keeps the lockout in the app preferences: a
// guard made after a "restart" over the same preferences is still locked,
// and the right PIN after the lockout clears the stored state.
func TestPreferencesPINStoreKeepsLockout(t *testing.T) {
	fa := test.NewTempApp(t)
	store := NewPreferencesPINStore(fa.Preferences())
	if _, ok := store.(kiosk.PINLockoutStore); !ok {
		t.Fatal("the preferences PIN store does not keep the lockout")
	}
	g := kiosk.NewPINGuard(store, nil)
	if err := g.Set("2468"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ok, err := g.Check("1111"); ok || err != nil {
			t.Fatalf("wrong PIN: %v, %v", ok, err)
		}
	}
	restarted := kiosk.NewPINGuard(NewPreferencesPINStore(fa.Preferences()), nil)
	var locked *kiosk.PINLockedError
	if ok, err := restarted.Check("2468"); ok || !errors.As(err, &locked) {
		t.Fatalf("right PIN after a restart during the lockout: %v, %v; want locked", ok, err)
	}
	if n, until := store.(kiosk.PINLockoutStore).PINLockout(); n != 3 || until.IsZero() {
		t.Fatalf("stored lockout = %d, %v", n, until)
	}
}
