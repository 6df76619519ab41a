package main

import (
	"bufio"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facecheck/facecheck/internal/imagebomb"
	"github.com/facecheck/facecheck/internal/testenv"
)

// memPeak samples the Go heap and the process's resident set until stop.
type memPeak struct {
	heap, rss uint64
	stop      chan struct{}
	done      sync.WaitGroup
}

func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func sampleMemory() *memPeak {
	p := &memPeak{stop: make(chan struct{})}
	p.done.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			p.heap = max(p.heap, ms.HeapAlloc)
			p.rss = max(p.rss, residentBytes())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	})
	return p
}

func (p *memPeak) end() { close(p.stop); p.done.Wait() }

// The outside review's attack on a server with the real engine: image
// bombs on the public registration form (a 113 KiB 6300x6300 PNG that
// decoded to 427 MiB, a 16-bit PNG) and 40 concurrent wrong log-ins from
// one address (each an argon2id of 19 MiB). The heap stays within 150 MB
// of idle, the bombs are refused as too large, and the limiter answers 429.
func TestImageBombsAndLoginFlood(t *testing.T) {
	testenv.Models(t)
	t.Setenv("FACECHECK_ADMIN_PASSWORD", "correct horse battery")
	m, out := runMain(t, t.TempDir())
	defer m.Close()
	if m.Encoder == nil {
		t.Fatal("no engine wired although the models are there")
	}
	regURL := regexp.MustCompile(`http://\S+/register/\S+`).FindString(out)
	base := m.Server.URL()
	bombs := map[string][]byte{
		"6300x6300 RGB PNG":        imagebomb.PNG(6300, 6300, 8, imagebomb.RGB),
		"6000x4000 16-bit RGB PNG": imagebomb.PNG(6000, 4000, 16, imagebomb.RGB),
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the log-in page:\n%s", page)
	}

	runtime.GC()
	var idle runtime.MemStats
	runtime.ReadMemStats(&idle)
	idleRSS := residentBytes()
	peak := sampleMemory()
	start := time.Now()

	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	count := func(what string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[what] == nil {
			statuses[what] = map[int]int{}
		}
		statuses[what][status]++
	}
	var wg sync.WaitGroup
	for name, b := range bombs {
		for i := range 4 {
			wg.Go(func() {
				var body bytes.Buffer
				w := multipart.NewWriter(&body)
				w.WriteField("name", "Bomb")
				w.WriteField("email", "bomb"+strconv.Itoa(i)+"@example.com")
				w.WriteField("consent", "yes")
				fw, _ := w.CreateFormFile("photo", "selfie.png")
				fw.Write(b)
				w.Close()
				resp, err := c.Post(regURL, w.FormDataContentType(), &body)
				if err != nil {
					t.Error(err)
					return
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !bytes.Contains(page, []byte(`data-reason="too_large"`)) {
					t.Errorf("%s: %d without the too_large reason", name, resp.StatusCode)
				}
				count(name, resp.StatusCode)
			})
		}
	}
	for range 40 {
		wg.Go(func() {
			form := url.Values{"username": {"admin"}, "password": {"wrong password"}, "csrf_token": {string(csrf[1])}}
			resp, err := c.Post(base+"/admin/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, bufio.NewReader(resp.Body))
			resp.Body.Close()
			count("login", resp.StatusCode)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak.end()

	grew := int64(peak.heap) - int64(idle.HeapAlloc)
	t.Logf("idle heap %d MiB, peak %d MiB (+%d MiB); RSS idle %d MB, peak %d MB; %v for %d bombs and 40 log-ins; answers %v",
		idle.HeapAlloc>>20, peak.heap>>20, grew>>20, idleRSS/1e6, peak.rss/1e6, elapsed.Round(time.Millisecond), 4*len(bombs), statuses)
	if grew > 150e6 {
		t.Errorf("heap grew by %d MB under the attack, want at most 150 MB", grew/1e6)
	}
	if n := statuses["login"][http.StatusTooManyRequests]; n < 30 {
		t.Errorf("40 concurrent wrong log-ins: %v, want at least 30 answered 429", statuses["login"])
	}
}
