package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/facecheck/facecheck/api"
)

// Sync errors callers branch on with errors.Is.
var (
	// ErrUnauthorized: the server refused the kiosk's token (revoked or
	// unknown). Nothing is lost; the kiosk must be paired again.
	ErrUnauthorized = errors.New("kiosk: the server refused this kiosk's token: pair it again")
	// ErrProtocol: the server answered with something that is not the API
	// (garbage, a cut gallery stream, a template that cannot be opened).
	ErrProtocol = errors.New("kiosk: unexpected answer from the server")
	// ErrOffline: the server could not be reached or answered 5xx after the
	// retries.
	ErrOffline = errors.New("kiosk: server unreachable")
)

// HTTPError is a non-2xx answer of the server, with its problem details
// when it sent some.
type HTTPError struct {
	Method, Path string
	Status       int
	Problem      *api.Problem
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Problem != nil {
		msg += ": " + e.Problem.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnauthorized) hold for 401/403 and
// errors.Is(err, ErrOffline) for 5xx.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrOffline:
		return e.Status >= 500
	}
	return false
}

// checkRetry retries connection errors, 408, 429 and 5xx (but 501); other
// 4xx answers are final.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true, nil
	case c >= 500 && c != http.StatusNotImplemented, c == 0:
		return true, nil
	}
	return false, nil
}

// jitterBackoff is exponential backoff with jitter: a random wait in
// [d/2, d] with d = min·2^attempt capped at max. A Retry-After of a 429 or
// 503 answer is honoured up to max.
func jitterBackoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxWait)
		}
	}
	return jitter(expo(minWait, maxWait, attempt))
}

func expo(minWait, maxWait time.Duration, attempt int) time.Duration {
	d := minWait
	for i := 0; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// passLastResponse hands the last response to the caller when the retries
// ran out on an HTTP status, so the caller reports the status and the
// problem details instead of a bare "giving up".
func passLastResponse(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if err == nil && resp != nil {
		return resp, nil
	}
	if resp != nil {
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New("no answer")
	}
	if certError(err) {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return nil, fmt.Errorf("%w after %d attempt(s): %w", ErrOffline, attempts, err)
}

func (s *Syncer) paired() (*Pairing, error) {
	p := s.Pairing()
	if p == nil {
		return nil, ErrNotPaired
	}
	return p, nil
}

// do sends one request through c (with retries) and returns the response
// of a 2xx answer; anything else is an error (*HTTPError for a status).
func (s *Syncer) do(ctx context.Context, c *retryablehttp.Client, base, token, method, path, idemKey string, body any) (*http.Response, error) {
	var raw any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, base+path, raw)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set(api.HeaderIdempotencyKey, idemKey)
	}
	if s.cfg.AppVersion != "" {
		req.Header.Set("User-Agent", "facecheck-kiosk/"+s.cfg.AppVersion)
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrOffline) {
			return nil, fmt.Errorf("%w: %w", ErrOffline, err)
		}
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	he := &HTTPError{Method: method, Path: strings.SplitN(path, "?", 2)[0], Status: resp.StatusCode}
	var p api.Problem
	if b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); json.Unmarshal(b, &p) == nil && p.Title != "" {
		he.Problem = &p
	}
	return nil, he
}

// doJSON is do for a small JSON answer decoded into out (nil: ignored).
func (s *Syncer) doJSON(ctx context.Context, base, token, method, path, idemKey string, body, out any) error {
	resp, err := s.do(ctx, s.api, base, token, method, path, idemKey, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading the answer: %w", ErrOffline, method, path, err)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: %v (answer starts %q)", ErrProtocol, method, path, err, truncate(b, 80))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// progressReader calls onRead whenever bytes arrive (the stall watchdog)
// and remembers a read error other than io.EOF: bufio.Scanner hands the
// cut last line to the parser before it reports the error, and a cut
// stream must not be taken for a garbage line.
type progressReader struct {
	r      io.Reader
	onRead func()
	err    error
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.onRead()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		p.err = err
	}
	return n, err
}
