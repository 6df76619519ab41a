package kiosk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"time"

	"github.com/facecheck/facecheck/engine"
)

// RunnerOptions configure a Runner. Zero values get the defaults noted.
type RunnerOptions struct {
	// Open (re)opens the camera: after a read error (a dead or unplugged
	// device) with backoff, and at the end of a video file when Loop is
	// set. Nil means the camera is never reopened.
	Open func() (Camera, error)
	// Loop replays a finite source (video file, image folder) from the
	// start at io.EOF instead of stopping; it needs Open.
	Loop bool
	// FPS paces reads so a file plays in real time. 0 takes the camera's
	// own rate (engine.Video.FPS), else 15 fps; a negative value reads as
	// fast as the camera delivers. A device blocks in Read anyway, so
	// pacing it at its own rate costs nothing.
	FPS float64
	// Backoff is the first wait before reopening a dead camera (default
	// 500ms); it doubles up to MaxBackoff (default 10s).
	Backoff, MaxBackoff time.Duration
	// OnEvent receives every event, from the runner's goroutine, in order.
	// It must not block (ui.App.Handle does not).
	OnEvent func(Event)
	// OnStep, for tests and stats, is told after each Step which frame it
	// ran on and the newest frame read when it started.
	OnStep func(frame, newest uint64, took time.Duration)
}

// RunnerStats count what the runner did.
type RunnerStats struct {
	Read    uint64 // frames read from the camera
	Stepped uint64 // frames the machine analysed
	Skipped uint64 // frames replaced by a newer one before Step took them
	MaxLag  uint64 // largest (newest frame read − frame stepped) at Step start
	Reopens uint64 // camera reopen attempts
	// StepTime is the total time spent in Step.
	StepTime time.Duration
}

// ErrCameraGone is returned by Run when the camera failed and cannot be
// reopened (no RunnerOptions.Open).
var ErrCameraGone = errors.New("kiosk: camera stopped and cannot be reopened")

type seqFrame struct {
	seq uint64
	im  engine.Image
}

type command struct {
	answer  *bool
	code    *string
	cancel  bool
	event   *Event // from the read loop: publish as is
	restore bool   // from the read loop: camera back, re-announce the state
	config  bool   // apply r.pendingCfg / r.pendingEng
}

// Runner drives a Machine from a Camera in real time for a display: one
// goroutine reads (and paces) frames and keeps only the newest; another
// runs Step on the newest frame whenever the previous Step finished, so no
// backlog of stale frames builds up while the engine works. Answer,
// SubmitCode and Cancel are safe from any goroutine (the UI's); they are
// serialised with Step through a command channel.
type Runner struct {
	k     *Machine
	opts  RunnerOptions
	cmds  chan command // from the UI
	notes chan command // from the read loop

	mu      sync.Mutex
	cam     Camera
	latest  seqFrame
	has     bool
	taken   uint64 // seq of the last frame handed to Step
	wake    chan struct{}
	stats   RunnerStats
	preview struct {
		seq uint64
		img *image.RGBA
	}
	pendingCfg *Config
	pendingEng *engine.Config
	reopen     chan struct{} // Reopen: cut the camera backoff short

	out *outage // a storage outage in progress; the step loop's alone
}

// NewRunner returns a runner for k reading cam (which it closes when Run
// ends). cam may be nil when o.Open is set: Run opens it.
func NewRunner(k *Machine, cam Camera, o RunnerOptions) *Runner {
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	return &Runner{k: k, opts: o, cam: cam, cmds: make(chan command, 16), notes: make(chan command, 4), wake: make(chan struct{}, 1), reopen: make(chan struct{}, 1)}
}

// Reopen asks the camera loop to try the camera again now instead of
// waiting out its backoff (the error screen's Retry). It never blocks.
func (r *Runner) Reopen() {
	select {
	case r.reopen <- struct{}{}:
	default:
	}
}

// Answer replies to "Are you NAME?". It never blocks.
func (r *Runner) Answer(yes bool) { r.send(command{answer: &yes}) }

// SubmitCode passes a typed second-verification code. It never blocks.
func (r *Runner) SubmitCode(code string) { r.send(command{code: &code}) }

// Cancel abandons the current approach (Machine.Reset). It never blocks.
func (r *Runner) Cancel() { r.send(command{cancel: true}) }

// SetConfig validates cfg and has the step loop apply it between two
// frames (Machine.SetConfig). It never blocks and is never dropped: the newest
// configuration wins when several arrive between frames.
func (r *Runner) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.pendingCfg = &cfg
	r.mu.Unlock()
	r.send(command{config: true})
	return nil
}

// SetEngineConfig validates c and has the step loop apply it to the
// engine between two frames (Machine.SetEngineConfig), like SetConfig.
func (r *Runner) SetEngineConfig(c engine.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.pendingEng = &c
	r.mu.Unlock()
	r.send(command{config: true})
	return nil
}

// applyPending applies configurations set since the last frame.
func (r *Runner) applyPending() {
	r.mu.Lock()
	cfg, ec := r.pendingCfg, r.pendingEng
	r.pendingCfg, r.pendingEng = nil, nil
	r.mu.Unlock()
	report := func(err error) {
		if err != nil {
			r.publish([]Event{{Kind: EventError, At: time.Now(), State: r.k.State(), Err: "settings: " + err.Error(), Code: ErrorCode(err)}})
		}
	}
	if ec != nil {
		report(r.k.SetEngineConfig(*ec))
	}
	if cfg != nil {
		report(r.k.SetConfig(*cfg))
	}
}

func (r *Runner) send(c command) {
	select {
	case r.cmds <- c:
	default: // a person cannot tap 16 times between two frames; drop
	}
}

// Stats returns a snapshot of the counters.
func (r *Runner) Stats() RunnerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// LatestFrame returns the newest camera frame as an *image.RGBA (not
// mirrored), or nil before the first frame. The conversion from the
// engine's BGR runs once per new frame, on the caller's goroutine; the
// image returned must not be modified and stays valid (it is not reused).
func (r *Runner) LatestFrame() image.Image {
	r.mu.Lock()
	if !r.has {
		r.mu.Unlock()
		return nil
	}
	f := r.latest
	if r.preview.seq == f.seq && r.preview.img != nil {
		img := r.preview.img
		r.mu.Unlock()
		return img
	}
	r.mu.Unlock()
	img := f.im.RGBA(false)
	r.mu.Lock()
	if f.seq > r.preview.seq {
		r.preview.seq, r.preview.img = f.seq, img
	}
	r.mu.Unlock()
	return img
}

func (r *Runner) publish(evs []Event) {
	if r.opts.OnEvent == nil {
		return
	}
	for _, e := range evs {
		r.opts.OnEvent(e)
	}
}

// Run reads and steps until ctx ends (nil error), the source ends without
// Loop (nil), or the camera dies and cannot be reopened (ErrCameraGone).
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		readErr <- r.readLoop(ctx)
		cancel()
	}()
	err := r.stepLoop(ctx)
	cancel()
	rerr := <-readErr
	r.mu.Lock()
	if r.cam != nil {
		r.cam.Close()
		r.cam = nil
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return rerr
}

// stepLoop runs Step on the newest frame and the UI's commands, one at a
// time, until ctx ends. After ctx ends it still steps nothing more. While
// the storage cannot record check-ins (outage) frames are not stepped and
// the storage is probed with backoff until it takes writes again.
func (r *Runner) stepLoop(ctx context.Context) error {
	var probe *time.Timer
	var probeC <-chan time.Time
	defer func() {
		if probe != nil {
			probe.Stop()
		}
	}()
	for {
		// Commands first: a tap must not wait behind frames.
		select {
		case c := <-r.cmds:
			r.command(ctx, c)
			continue
		default:
		}
		if r.out != nil && probe == nil {
			probe = time.NewTimer(r.out.until(time.Now()))
			probeC = probe.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-probeC:
			probe, probeC = nil, nil
			if now := time.Now(); r.out != nil && r.out.try(ctx, now) {
				evs := r.out.resumed(r.k, now)
				r.out = nil
				r.publish(evs)
			}
		case c := <-r.cmds:
			r.command(ctx, c)
		case c := <-r.notes:
			r.command(ctx, c)
		case <-r.wake:
			r.mu.Lock()
			f, ok := r.latest, r.has && r.latest.seq > r.taken
			newest := r.latest.seq
			if ok {
				r.stats.Skipped += f.seq - r.taken - 1
				r.taken = f.seq
				r.stats.MaxLag = max(r.stats.MaxLag, newest-f.seq)
			}
			r.mu.Unlock()
			if !ok || r.out != nil {
				continue
			}
			r.applyPending() // a dropped config command must not be lost
			t0 := time.Now()
			evs, err := r.k.Step(ctx, f.im) // errors arrive as EventError too
			took := time.Since(t0)
			r.mu.Lock()
			r.stats.Stepped++
			r.stats.StepTime += took
			r.mu.Unlock()
			r.publish(evs)
			r.noteStorage(err)
			if r.opts.OnStep != nil {
				r.opts.OnStep(f.seq, newest, took)
			}
		}
	}
}

func (r *Runner) command(ctx context.Context, c command) {
	switch {
	case c.event != nil:
		r.publish([]Event{*c.event})
	case c.restore:
		r.publish([]Event{{Kind: EventState, At: time.Now(), State: r.k.State()}})
	case c.answer != nil:
		evs, err := r.k.Answer(ctx, *c.answer)
		if errors.Is(err, ErrNoQuestion) {
			return // a late tap after the person left
		}
		r.publish(evs)
		r.noteStorage(err)
	case c.config:
		r.applyPending()
	case c.cancel:
		r.publish(r.k.Reset())
	case c.code != nil:
		// Wrong or unusable codes arrive as EventError with the reason; a
		// code typed when none is asked for is dropped (a late tap).
		evs, err := r.k.SubmitCode(ctx, *c.code)
		r.publish(evs)
		r.noteStorage(err)
	}
}

// noteStorage starts an outage when err says the storage cannot record
// check-ins: the UI shows the out-of-order screen instead of the next
// person's face failing the same way.
func (r *Runner) noteStorage(err error) {
	if r.out != nil || err == nil || !storageFailure(err) {
		return
	}
	now := time.Now()
	r.out = newOutage(r.k, err, now)
	r.publish([]Event{r.out.event(now)})
}

// pace returns the frame interval for the current camera (0: unpaced).
func (r *Runner) pace(cam Camera) time.Duration {
	fps := r.opts.FPS
	if fps < 0 {
		return 0
	}
	if fps == 0 {
		if v, ok := cam.(interface{ FPS() float64 }); ok {
			fps = v.FPS()
		}
		if fps <= 0 || fps > 240 {
			fps = 15
		}
	}
	return time.Duration(float64(time.Second) / fps)
}

// readLoop reads frames into r.latest until ctx ends, reopening the
// camera after failures (with backoff) and at EOF when looping.
func (r *Runner) readLoop(ctx context.Context) error {
	r.mu.Lock()
	cam := r.cam
	r.mu.Unlock()
	backoff := r.opts.Backoff
	broken := false // an error event is showing
	var seq uint64
	for ctx.Err() == nil {
		if cam == nil {
			if r.opts.Open == nil {
				return ErrCameraGone
			}
			r.mu.Lock()
			r.stats.Reopens++
			r.mu.Unlock()
			c, err := r.opts.Open()
			if err != nil {
				r.cameraError(ctx, fmt.Errorf("%w (retrying in %s)", err, backoff.Round(time.Millisecond)))
				broken = true
				if !sleep(ctx, backoff, r.reopen) {
					return nil
				}
				backoff = min(2*backoff, r.opts.MaxBackoff)
				continue
			}
			cam = c
			r.mu.Lock()
			r.cam = c
			r.mu.Unlock()
		}
		interval := r.pace(cam)
		next := time.Now()
		for ctx.Err() == nil {
			if interval > 0 {
				if d := time.Until(next); d > 0 {
					if !sleep(ctx, d, nil) {
						return nil
					}
				} else if d < -interval {
					next = time.Now() // fell behind (slow read): do not burst
				}
				next = next.Add(interval)
			}
			im, err := cam.Read()
			if err != nil {
				r.mu.Lock()
				cam.Close()
				r.cam = nil
				r.mu.Unlock()
				cam = nil
				if errors.Is(err, io.EOF) {
					if !r.opts.Loop || r.opts.Open == nil {
						return nil
					}
					break // reopen at once: the video starts over
				}
				r.cameraError(ctx, err)
				broken = true
				if r.opts.Open == nil {
					return ErrCameraGone
				}
				if !sleep(ctx, backoff, r.reopen) {
					return nil
				}
				backoff = min(2*backoff, r.opts.MaxBackoff)
				break
			}
			if broken {
				broken = false
				backoff = r.opts.Backoff
				r.recovered(ctx)
			}
			seq++
			r.mu.Lock()
			r.latest, r.has = seqFrame{seq: seq, im: im}, true
			r.stats.Read++
			r.mu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default: // the step loop is already due to look
			}
		}
	}
	return nil
}

// cameraError tells the UI the camera is gone, in words a person can act on.
func (r *Runner) cameraError(ctx context.Context, err error) {
	msg := err.Error()
	if !errors.Is(err, engine.ErrCamera) {
		msg = fmt.Sprintf("%v: %v", engine.ErrCamera, err)
	}
	r.note(ctx, command{event: &Event{Kind: EventError, At: time.Now(), State: StateError,
		Code: ECAMERA, Err: "The camera stopped working (" + msg + "). Check its cable; the kiosk keeps retrying."}})
}

// recovered puts the UI back on the machine's state after a camera error.
func (r *Runner) recovered(ctx context.Context) { r.note(ctx, command{restore: true}) }

// note hands a read-loop event to the step loop, which alone publishes
// (OnEvent sees one goroutine, in order) and alone touches the machine.
func (r *Runner) note(ctx context.Context, c command) {
	select {
	case r.notes <- c:
	case <-ctx.Done():
	}
}

// sleep waits d, or less when wake fires (a nil wake never does); false
// when ctx ends first.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case <-wake:
		return true
	}
}
