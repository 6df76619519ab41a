package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/facecheck/facecheck/api"
)

// sample is one timed request of a simulated kiosk.
type sample struct {
	route string
	d     time.Duration
	err   bool
	// inRun: made during the check-in phase (counts for throughput).
	inRun bool
}

// sentInfo is what a kiosk sent for one check-in, for the final tally.
type sentInfo struct {
	attendee, kiosk string
	accepted        int
	confirmed       bool
}

// kiosk is one simulated device; its fields are its own until Run merges.
type kiosk struct {
	n       int
	rt      *runner
	rng     *rand.Rand
	id      string
	token   string
	key     []byte
	cursor  int64
	samples []sample
	sent    map[string]*sentInfo
	history [][]byte // bodies of completed batches, for replays
	errs    []string
	v       Verification // kiosk-local counts merged at the end
	failed  bool
	sync    time.Duration
	bytes   int64
}

// do makes one request and records its latency under route.
func (k *kiosk) do(ctx context.Context, route, method, path string, body []byte, out func(io.Reader) error) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.rt.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	t := time.Now()
	resp, err := k.rt.client.Do(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
		if status/100 == 2 && out != nil {
			err = out(resp.Body)
		} else if status/100 != 2 {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			err = fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(msg))
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	k.samples = append(k.samples, sample{route: route, d: time.Since(t), err: err != nil, inRun: k.rt.inRun.Load()})
	if err != nil && len(k.errs) < 5 {
		k.errs = append(k.errs, fmt.Sprintf("kiosk %d: %v", k.n, err))
	}
	return status, err
}

func (k *kiosk) setUp(ctx context.Context, code string) error {
	body, _ := json.Marshal(api.PairRequest{Code: code, DeviceName: fmt.Sprintf("loadtest-%03d", k.n), AppVersion: "loadtest"})
	var pr api.PairResponse
	if _, err := k.do(ctx, RoutePair, http.MethodPost, "/v1/pair", body, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&pr)
	}); err != nil {
		return err
	}
	k.token, k.id, k.key = pr.Token, pr.KioskID, pr.TemplateKey
	t := time.Now()
	n, err := k.pullGallery(ctx, RouteGalleryFull, 0, true)
	k.sync = time.Since(t)
	if err != nil {
		return err
	}
	if n != len(k.rt.ids) {
		k.v.GalleryMismatch++
		return fmt.Errorf("full sync: %d records, want %d", n, len(k.rt.ids))
	}
	return nil
}

type galleryLine struct {
	api.GalleryRecord
	End   bool `json:"end"`
	Count int  `json:"count"`
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// pullGallery reads the delta feed after since; full checks the records
// against the seeded gallery and opens a sample of templates.
func (k *kiosk) pullGallery(ctx context.Context, route string, since int64, full bool) (int, error) {
	path := "/v1/gallery"
	if since > 0 {
		path += fmt.Sprintf("?since=%d", since)
	}
	var seen map[string]bool
	var pick map[int]bool
	if full {
		seen = make(map[string]bool, len(k.rt.ids))
		pick = map[int]bool{}
		for range k.rt.cfg.OpenSample {
			pick[k.rng.IntN(max(1, len(k.rt.ids)))] = true
		}
	}
	records := 0
	_, err := k.do(ctx, route, http.MethodGet, path, nil, func(r io.Reader) error {
		cr := &countingReader{r: r}
		sc := bufio.NewScanner(cr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		ended := false
		for sc.Scan() {
			var l galleryLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return fmt.Errorf("gallery line %d: %w", records+1, err)
			}
			if l.End {
				if l.Count != records {
					return fmt.Errorf("gallery end says %d records, got %d", l.Count, records)
				}
				k.cursor = max(k.cursor, l.Cursor)
				ended = true
				break
			}
			if full {
				if l.Op != api.OpUpsert || seen[l.AttendeeID] || k.rt.tpls[l.AttendeeID] == nil || len(l.Templates) != 1 {
					k.v.GalleryMismatch++
					return fmt.Errorf("unexpected gallery record %q (%s)", l.AttendeeID, l.Op)
				}
				seen[l.AttendeeID] = true
				if pick[records] {
					k.v.TemplatesOpened++
					t, err := api.OpenTemplate(k.key, l.AttendeeID, l.Templates[0])
					if err != nil || !bytes.Equal(t.Data, k.rt.tpls[l.AttendeeID]) {
						k.v.TemplateMismatch++
					}
				}
			}
			records++
		}
		if err := sc.Err(); err != nil {
			return err
		}
		if !ended {
			return errors.New("gallery feed without end line")
		}
		if full {
			k.bytes = cr.n
		}
		return nil
	})
	return records, err
}

// run posts check-in batches and polls until deadline.
func (k *kiosk) run(ctx context.Context, deadline time.Time) {
	cfg := k.rt.cfg
	nextPoll := time.Now().Add(time.Duration(k.rng.Int64N(int64(cfg.PollEvery))))
	for ctx.Err() == nil {
		think := cfg.ThinkMin
		if cfg.ThinkMax > cfg.ThinkMin {
			think += time.Duration(k.rng.Int64N(int64(cfg.ThinkMax - cfg.ThinkMin)))
		}
		if time.Now().Add(think).After(deadline) {
			return
		}
		time.Sleep(think)
		if time.Now().After(nextPoll) {
			nextPoll = nextPoll.Add(cfg.PollEvery)
			if n, err := k.pullGallery(ctx, RouteGalleryDelta, k.cursor, false); err == nil && n != 0 {
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: delta feed returned %d records for an unchanged gallery", k.n, n))
			}
			hb, _ := json.Marshal(api.Heartbeat{AppVersion: "loadtest", Cursor: k.cursor, At: time.Now().UTC()})
			k.do(ctx, RouteHeartbeat, http.MethodPost, "/v1/heartbeat", hb, nil)
			continue
		}
		if len(k.history) > 0 && k.rng.Float64() < cfg.ReplayRate {
			k.replay(ctx)
			continue
		}
		k.post(ctx)
	}
}

var methods = []string{api.MethodFace, api.MethodFace, api.MethodFace, api.MethodConfirm, api.MethodQR, api.MethodCode, api.MethodManual}

// post sends a new batch, retrying it (same ids) after a failed attempt
// as a kiosk's outbox would.
func (k *kiosk) post(ctx context.Context) {
	n := 1 + k.rng.IntN(k.rt.cfg.MaxBatch)
	b := api.CheckInBatch{CheckIns: make([]api.CheckIn, n)}
	for i := range b.CheckIns {
		c := api.CheckIn{
			ID: uuid.NewString(), AttendeeID: k.rt.ids[k.rng.IntN(len(k.rt.ids))],
			Method: methods[k.rng.IntN(len(methods))], Score: 0.5 + 0.4*k.rng.Float32(), Margin: 0.1 + 0.2*k.rng.Float32(),
			At: time.Now().UTC(),
		}
		b.CheckIns[i] = c
		k.sent[c.ID] = &sentInfo{attendee: c.AttendeeID, kiosk: k.id}
	}
	body, _ := json.Marshal(b)
	failedBefore := false
	for attempt := range 5 {
		var res api.CheckInBatchResult
		_, err := k.do(ctx, RouteCheckIns, http.MethodPost, "/v1/checkins", body, func(r io.Reader) error {
			return json.NewDecoder(r).Decode(&res)
		})
		if err == nil && len(res.Results) != n {
			err = fmt.Errorf("%d results for %d check-ins", len(res.Results), n)
			k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: %v", k.n, err))
		}
		if err != nil {
			failedBefore = true
			time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
			continue
		}
		for i, r := range res.Results {
			s := k.sent[b.CheckIns[i].ID]
			switch {
			case r.ID != b.CheckIns[i].ID:
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: result %d is for %s, want %s", k.n, i, r.ID, b.CheckIns[i].ID))
			case r.Status == api.StatusAccepted:
				s.accepted++
				s.confirmed = true
				k.rt.accepts.Add(1)
			case r.Status == api.StatusDuplicate && failedBefore:
				s.confirmed = true
			default:
				k.v.Problems = append(k.v.Problems, fmt.Sprintf("kiosk %d: new check-in %s answered %q", k.n, r.ID, r.Status))
			}
		}
		if len(k.history) < 50 {
			k.history = append(k.history, body)
		} else {
			k.history[k.rng.IntN(len(k.history))] = body
		}
		return
	}
}

// replay resends an earlier, answered batch: every item must be a duplicate.
func (k *kiosk) replay(ctx context.Context) {
	body := k.history[k.rng.IntN(len(k.history))]
	var b api.CheckInBatch
	_ = json.Unmarshal(body, &b)
	var res api.CheckInBatchResult
	if _, err := k.do(ctx, RouteReplay, http.MethodPost, "/v1/checkins", body, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(&res)
	}); err != nil {
		return
	}
	k.v.Replays++
	k.v.ReplayItems += len(b.CheckIns)
	for i, r := range res.Results {
		if r.Status != api.StatusDuplicate || i >= len(b.CheckIns) || r.ID != b.CheckIns[i].ID {
			k.v.ReplayNotDuplicate++
			if r.Status == api.StatusAccepted {
				if s := k.sent[r.ID]; s != nil {
					s.accepted++
				}
			}
		}
	}
}
