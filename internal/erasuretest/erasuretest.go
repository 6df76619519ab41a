// Package erasuretest holds the check the erasure tests of the kiosk's and
// the server's stores share: after an attendee is erased, none of their
// bytes may be found in any file of the data folder.
package erasuretest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Traces lists which of needles (by name) occur in any file under dir, as
// "name in file".
func Traces(t testing.TB, dir string, needles map[string][]byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for name, n := range needles {
			if bytes.Contains(b, n) {
				found = append(found, name+" in "+filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
