package engine

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"

	"github.com/facecheck/facecheck/engine/internal/cvthreads"
	"github.com/facecheck/facecheck/models"
)

// Sentinel errors callers branch on.
var (
	// ErrBadImage is returned for frames that are empty, too small, too large
	// or not decodable as an image.
	ErrBadImage = errors.New("bad image")
	// ErrNoFace is returned when a step that needs a face finds none.
	ErrNoFace = errors.New("no face found")
	// ErrModel is returned when a network cannot be loaded or answers with an
	// unexpected shape.
	ErrModel = errors.New("model error")
)

// Config tunes the detector and the recognition steps. The zero value is not
// useful: start from DefaultConfig.
type Config struct {
	// DetectWidth and DetectHeight are the detector's input size. The model
	// was trained at 320x240; its anchors are computed for that size only.
	DetectWidth, DetectHeight int
	// Confidence is the minimum face score of a detection (0..1).
	Confidence float32
	// TopK caps the candidates kept (best first) before non-maximum
	// suppression; most of the detector's time after the network is NMS over
	// low-score anchors, so a small TopK is the cheapest speed-up.
	TopK int
	// NMSIoU is the overlap above which a lower-scored box is suppressed.
	NMSIoU float32
	// KeepTopK is the most faces returned after NMS, largest first.
	KeepTopK int
	// FlipEmbed averages the embedding of the aligned face and its mirror
	// image: twice the feature-model time, measurably fewer errors (see
	// docs/performance.md).
	FlipEmbed bool
	// RefineLandmarks runs the landmark model a second time on a crop
	// centred on the first pass's landmarks rather than on the detector box.
	RefineLandmarks bool
	// StillContext, when not 0 or 1, adds to still-photo embeddings (Encode,
	// EnrolPhoto) a second alignment scaled by this factor about the crop
	// centre (0.9: the face 10% smaller, more context); see
	// docs/performance.md for what it buys and how 0.9 was chosen.
	StillContext float32
	// Threads is OpenCV's thread count (process-wide; 0 leaves it alone).
	Threads int
}

// DefaultConfig is what the kiosk and eval use unless told otherwise. The
// values come from the table in docs/performance.md, not from the dev set's
// accuracy alone.
func DefaultConfig() Config {
	return Config{
		DetectWidth:     320,
		DetectHeight:    240,
		Confidence:      0.7,
		TopK:            50,
		NMSIoU:          0.4,
		KeepTopK:        10,
		FlipEmbed:       true,
		RefineLandmarks: true,
		StillContext:    0.9,
		Threads:         0,
	}
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.DetectWidth != 320 || c.DetectHeight != 240:
		return fmt.Errorf("detector input %dx%d: only 320x240 matches the model's anchors", c.DetectWidth, c.DetectHeight)
	case c.Confidence <= 0 || c.Confidence >= 1:
		return fmt.Errorf("detector confidence %.2f: must be between 0 and 1", c.Confidence)
	case c.TopK < 1 || c.TopK > 5000:
		return fmt.Errorf("detector top-k %d: must be 1..5000", c.TopK)
	case c.NMSIoU <= 0 || c.NMSIoU >= 1:
		return fmt.Errorf("NMS IoU %.2f: must be between 0 and 1", c.NMSIoU)
	case c.KeepTopK < 1 || c.KeepTopK > 100:
		return fmt.Errorf("keep-top-k %d: must be 1..100", c.KeepTopK)
	}
	return nil
}

// Engine runs the networks. It loads each one once, in New. An Engine is not
// safe for concurrent use: OpenCV's Net keeps per-call state, so give every
// goroutine its own Engine (New again; the networks are small).
type Engine struct {
	cfg      Config
	detect   gocv.Net
	landmark gocv.Net
	feature  gocv.Net
	liveness gocv.Net
	eye      gocv.Net
	pose     gocv.Net
	loaded   []*gocv.Net // what Close must release
}

// New loads every network from store after verifying its sha256. The error
// names the file and says how to fix it (models.Store.Path).
func New(store *models.Store, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine config: %w", err)
	}
	e := &Engine{cfg: cfg}
	if cfg.Threads > 0 {
		cvthreads.Set(cfg.Threads)
	}
	load := func(name string, dst *gocv.Net) error {
		p, err := store.Path(name)
		if err != nil {
			return fmt.Errorf("load model %s: %w", name, err)
		}
		// ReadNetFromONNX aborts the process on a malformed file, which is
		// why Path verified the sha256 first.
		n := gocv.ReadNetFromONNX(p)
		if n.Empty() {
			return fmt.Errorf("load model %s from %s: %w: OpenCV could not read it", name, p, ErrModel)
		}
		if err := n.SetPreferableBackend(gocv.NetBackendOpenCV); err != nil {
			n.Close()
			return fmt.Errorf("load model %s: %w", name, err)
		}
		if err := n.SetPreferableTarget(gocv.NetTargetCPU); err != nil {
			n.Close()
			return fmt.Errorf("load model %s: %w", name, err)
		}
		*dst = n
		e.loaded = append(e.loaded, dst)
		return nil
	}
	for _, m := range []struct {
		name string
		dst  *gocv.Net
	}{
		{"detect", &e.detect}, {"landmark", &e.landmark}, {"feature", &e.feature},
		{"liveness", &e.liveness}, {"eye", &e.eye}, {"pose", &e.pose},
	} {
		if err := load(m.name, m.dst); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// SetConfig changes detector settings live (the settings pane). Invalid
// values are refused and the old ones kept.
func (e *Engine) SetConfig(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	e.cfg = c
	return nil
}

// Close releases every network.
func (e *Engine) Close() error {
	for _, n := range e.loaded {
		n.Close()
	}
	e.loaded = nil
	return nil
}

// FlushDenormals turns the CPU's flush-to-zero / denormals-are-zero modes
// on or off for the calling OS thread and OpenCV's worker threads (see
// docs/performance.md for what it changes: nothing measurable). Call it
// after runtime.LockOSThread from the goroutine that runs the engine.
func FlushDenormals(on bool) bool { return cvthreads.FlushDenormals(on) }
