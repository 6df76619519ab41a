package kiosk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/internal/fixture"
)

// seqCamera returns n tiny frames whose first 8 bytes are their number
// (1, 2, ...), then io.EOF; or failErr after failAfter frames.
type seqCamera struct {
	mu        sync.Mutex
	n, i      int
	failAfter int
	failErr   error
	closed    bool
}

func (c *seqCamera) Read() (engine.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAfter > 0 && c.i >= c.failAfter {
		return engine.Image{}, c.failErr
	}
	if c.i >= c.n {
		return engine.Image{}, io.EOF
	}
	c.i++
	im := engine.Image{W: 4, H: 4, Pix: make([]byte, 48)}
	binary.LittleEndian.PutUint64(im.Pix, uint64(c.i))
	return im, nil
}

func (c *seqCamera) Close() error { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }

// slowEngine sees no face and takes d per frame, like a busy detector.
type slowEngine struct{ d time.Duration }

func (e slowEngine) Analyze(engine.Image, engine.AnalyzeOptions) (*engine.Analysis, error) {
	time.Sleep(e.d)
	return &engine.Analysis{}, nil
}

func (slowEngine) Embed(engine.Image, engine.Landmarks) (engine.Embedding, error) {
	return nil, errors.New("no face")
}

func newSlowKiosk(t *testing.T, d time.Duration) *Machine {
	t.Helper()
	k, err := New(DefaultConfig(), slowEngine{d}, engine.NewGallery(1), &fakeStore{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRunnerLatestFrameWins: a camera at 200 fps and a 25 ms Step. Step
// must always take the newest frame (no backlog), frames in between are
// skipped, and the preview shows the newest frame.
func TestRunnerLatestFrameWins(t *testing.T) {
	cam := &seqCamera{n: 200}
	var mu sync.Mutex
	var stepped []uint64
	var lags []uint64
	r := NewRunner(newSlowKiosk(t, 25*time.Millisecond), cam, RunnerOptions{FPS: 200,
		OnStep: func(f, newest uint64, _ time.Duration) {
			mu.Lock()
			stepped = append(stepped, f)
			lags = append(lags, newest-f)
			mu.Unlock()
		}})
	if r.LatestFrame() != nil {
		t.Fatal("LatestFrame before the first read is not nil")
	}
	start := time.Now()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	st := r.Stats()
	t.Logf("%v: read %d, stepped %d, skipped %d, max lag %d, step time %v", el, st.Read, st.Stepped, st.Skipped, st.MaxLag, st.StepTime)
	if st.Read != 200 {
		t.Errorf("read %d frames, want 200", st.Read)
	}
	if el < 900*time.Millisecond {
		t.Errorf("200 frames at 200 fps took %v: not paced", el)
	}
	// 1 s of video at 25 ms per step: about 40 steps, never 200.
	if st.Stepped < 10 || st.Stepped > 80 {
		t.Errorf("stepped %d frames, want about 40", st.Stepped)
	}
	if st.MaxLag > 1 {
		t.Errorf("Step ran %d frames behind the newest: a backlog", st.MaxLag)
	}
	for i := 1; i < len(stepped); i++ {
		if stepped[i] <= stepped[i-1] {
			t.Fatalf("frames stepped out of order: %v", stepped)
		}
	}
	if st.Skipped+st.Stepped > st.Read {
		t.Errorf("skipped %d + stepped %d > read %d", st.Skipped, st.Stepped, st.Read)
	}
	img := r.LatestFrame()
	if img == nil || img.Bounds().Dx() != 4 {
		t.Fatalf("LatestFrame = %v", img)
	}
	if r.LatestFrame() != img {
		t.Error("LatestFrame converted the same frame twice")
	}
	if !cam.closed {
		t.Error("camera not closed after Run")
	}
}

// TestRunnerDeadCamera: a device that stops answering gives an error event
// in StateError, is reopened with backoff (the first reopen fails), and
// the state is announced again once frames come back.
func TestRunnerDeadCamera(t *testing.T) {
	dead := &seqCamera{n: 1000, failAfter: 5, failErr: fmt.Errorf("%w: camera 0 returned no frame (unplugged?)", engine.ErrCamera)}
	opens := 0
	var mu sync.Mutex
	var evs []Event
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewRunner(newSlowKiosk(t, time.Millisecond), dead, RunnerOptions{FPS: 500, Backoff: 10 * time.Millisecond,
		Open: func() (Camera, error) {
			opens++
			if opens == 1 {
				return nil, fmt.Errorf("%w: camera 0 cannot be opened", engine.ErrCamera)
			}
			return &seqCamera{n: 20}, nil
		},
		OnEvent: func(e Event) {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
		}})
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var errs, restores int
	for _, e := range evs {
		switch {
		case e.Kind == EventError && e.State == StateError:
			errs++
			t.Logf("error event: %s", e.Err)
			if e.Err == "" {
				t.Error("error event without a message")
			}
		case e.Kind == EventState && errs > 0:
			restores++
			if e.State != StateIdle {
				t.Errorf("restored state %q, want idle", e.State)
			}
		}
	}
	if errs != 2 || restores != 1 {
		t.Errorf("%d error events and %d restores, want 2 and 1: %+v", errs, restores, evs)
	}
	if st := r.Stats(); st.Read != 25 || st.Reopens != 2 {
		t.Errorf("read %d frames with %d reopens, want 25 and 2", st.Read, st.Reopens)
	}
	if !dead.closed {
		t.Error("dead camera not closed")
	}
}

// TestRunnerLoopAndStop: Loop replays a video through Open; without Open
// a dead camera ends Run with ErrCameraGone; ctx ends a looping Run.
func TestRunnerLoopAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := NewRunner(newSlowKiosk(t, 0), nil, RunnerOptions{FPS: -1, Loop: true,
		Open: func() (Camera, error) { return &seqCamera{n: 10}, nil }})
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Read < 30 || st.Reopens < 3 {
		t.Errorf("looping read %d frames in %d opens", st.Read, st.Reopens)
	}
	r = NewRunner(newSlowKiosk(t, 0), &seqCamera{n: 10, failAfter: 3, failErr: engine.ErrCamera}, RunnerOptions{FPS: -1})
	if err := r.Run(context.Background()); !errors.Is(err, ErrCameraGone) {
		t.Errorf("dead camera without Open: %v, want ErrCameraGone", err)
	}
	// Commands never block, even with no Run.
	for i := 0; i < 100; i++ {
		r.Answer(true)
		r.Cancel()
		r.SubmitCode("1234")
	}
}

// TestRunnerRealEngine plays a generated video of two enrolled people and
// one who is not through the runner in real time (at 2x), with the real
// engine and SQLite store. With a high accept threshold every recognised
// person is asked "Are you NAME?" and the test answers yes from another
// goroutine, as the UI would.
func TestRunnerRealEngine(t *testing.T) {
	w := newWorld(t, nil)
	eng, picks, root, scenes := w.eng, w.picks, w.root, w.scenes
	ctx := context.Background()
	fo := fixture.DefaultOptions()
	video := w.video(t, "kiosk.avi", fo)

	for _, confirm := range []bool{false, true} {
		t.Run(fmt.Sprintf("confirm=%v", confirm), func(t *testing.T) {
			db := openTestDB(t)
			if enrolled, err := enrol.First(ctx, eng, db, picks[:2], root, 2, t.Output()); err != nil || len(enrolled) != 2 {
				t.Fatalf("enrolled %d: %v", len(enrolled), err)
			}
			g, err := LoadGallery(ctx, db, 3)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			if confirm {
				cfg.Accept = 0.99
			}
			k, err := New(cfg, eng, g, db, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			cam, err := OpenVideo(video, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu      sync.Mutex
				results []Result
				kinds   = map[EventKind]int{}
				r       *Runner
				maxLag  uint64
			)
			r = NewRunner(k, cam, RunnerOptions{FPS: 2 * fo.FPS,
				OnEvent: func(e Event) {
					mu.Lock()
					kinds[e.Kind]++
					if e.Result != nil {
						results = append(results, *e.Result)
					}
					mu.Unlock()
					if e.Kind == EventState && e.State == StateConfirm {
						go r.Answer(true) // a tap, from another goroutine
					}
				},
				OnStep: func(f, newest uint64, _ time.Duration) {
					mu.Lock()
					maxLag = max(maxLag, newest-f)
					mu.Unlock()
				}})
			start := time.Now()
			if err := r.Run(ctx); err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			st := r.Stats()
			frames := uint64(len(scenes) * fo.Frames())
			t.Logf("%v for %d frames: read %d, stepped %d, skipped %d, max lag %d, mean step %v; events %v",
				el.Round(time.Millisecond), frames, st.Read, st.Stepped, st.Skipped, st.MaxLag,
				(st.StepTime / time.Duration(max(1, st.Stepped))).Round(time.Millisecond), kinds)
			if st.Read != frames {
				t.Errorf("read %d frames, want %d", st.Read, frames)
			}
			want := time.Duration(float64(frames) / (2 * fo.FPS) * float64(time.Second))
			if el < want*9/10 {
				t.Errorf("played in %v, want about %v (paced at 2x the video's fps)", el, want)
			}
			if st.MaxLag > 1 || maxLag > 1 {
				t.Errorf("Step ran %d frames behind the newest", st.MaxLag)
			}
			got := map[string]string{}
			for _, res := range results {
				if res.Outcome == OutcomeCheckedIn {
					got[res.AttendeeID] = res.Method
				}
			}
			wantMethod := "face"
			if confirm {
				wantMethod = "confirm"
			}
			for _, p := range picks[:2] {
				if got[p.ID] != wantMethod {
					t.Errorf("%s: check-in method %q, want %q (results %+v)", p.ID, got[p.ID], wantMethod, results)
				}
			}
			if _, ok := got[picks[2].ID]; ok {
				t.Errorf("the person not enrolled was checked in: %+v", results)
			}
			if n, err := db.CountCheckIns(ctx, time.Time{}); err != nil || n != 2 {
				t.Errorf("stored check-ins %d (%v), want 2", n, err)
			}
		})
	}
}

// Reopen cuts a camera backoff short: the retry happens at once, not after
// the (here one-minute) wait.
func TestRunnerReopenSkipsBackoff(t *testing.T) {
	var opens atomic.Int32
	k := newSlowKiosk(t, time.Millisecond)
	r := NewRunner(k, nil, RunnerOptions{
		Backoff: time.Minute, MaxBackoff: time.Minute,
		Open: func() (Camera, error) {
			opens.Add(1)
			return nil, errors.New("no camera")
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go r.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for opens.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	r.Reopen()
	for opens.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := opens.Load(); n < 2 {
		t.Fatalf("camera opened %d times after Reopen, want a second attempt at once", n)
	}
}
