package engine

import "slices"

// Track follows one face across frames so that a person standing at the
// kiosk is embedded once (or a few times, for fusion), not on every frame.
type Track struct {
	ID     int
	Box    Box
	Age    int // frames since the track started
	Misses int // consecutive frames without a matching detection
	// Embeddings collected for this person, fused by Fused.
	Embeddings []Embedding
	Blink      BlinkDetector
}

// Fused is the normalised mean of the track's embeddings: several good frames
// of one approach give a steadier template than any single one.
func (t *Track) Fused() Embedding {
	if len(t.Embeddings) == 0 {
		return nil
	}
	out := make(Embedding, len(t.Embeddings[0]))
	for _, e := range t.Embeddings {
		for i, x := range e {
			out[i] += x
		}
	}
	return Normalize(out)
}

// Tracker associates detections with tracks by box overlap. It is not safe
// for concurrent use; one kiosk loop owns it.
type Tracker struct {
	// MinIoU is the least overlap between a track's last box and a detection
	// for them to be the same face.
	MinIoU float32
	// MaxMisses is how many frames a track survives without a detection
	// (a blink of the detector, a hand in front of the face).
	MaxMisses int
	tracks    []*Track
	nextID    int
}

// NewTracker returns a tracker with kiosk defaults.
func NewTracker() *Tracker { return &Tracker{MinIoU: 0.3, MaxMisses: 5, nextID: 1} }

// Update feeds one frame's detections and returns the live tracks, in the
// order of faces (a track per face), followed by tracks that missed.
func (tr *Tracker) Update(faces []Face) []*Track {
	used := make([]bool, len(tr.tracks))
	out := make([]*Track, 0, len(faces))
	for _, f := range faces {
		best, bi := tr.MinIoU, -1
		for i, t := range tr.tracks {
			if used[i] {
				continue
			}
			if iou := t.Box.IoU(f.Box); iou >= best {
				best, bi = iou, i
			}
		}
		var t *Track
		if bi >= 0 {
			used[bi] = true
			t = tr.tracks[bi]
			t.Misses = 0
		} else {
			t = &Track{ID: tr.nextID}
			tr.nextID++
		}
		t.Box = f.Box
		t.Age++
		out = append(out, t)
	}
	for i, t := range tr.tracks {
		if !used[i] {
			t.Misses++
			t.Age++
			if t.Misses <= tr.MaxMisses {
				out = append(out, t)
			}
		}
	}
	tr.tracks = out
	return out
}

// Lookup returns the live track with id, or nil.
func (tr *Tracker) Lookup(id int) *Track {
	for _, t := range tr.tracks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Reset forgets every track.
func (tr *Tracker) Reset() { tr.tracks = nil }

// BlinkDetector turns per-frame eye-open probabilities into blink and wink
// events: eyes open, then closed for at most MaxClosed frames, then open.
//
// Open and closed are judged per eye against that eye's own open baseline
// (the median of its recent readings outside a closure), not against
// absolute probabilities: the eye model reads some open eyes at 0.3 or even
// 0.03 (narrow eyes, glasses, a camera's angle or exposure), and a fixed
// threshold then never sees them open. An eye whose baseline stays below
// MinBaseline carries no signal (the model cannot see it open, so it cannot
// see it close); a blink is then read from the other eye alone.
type BlinkDetector struct {
	// ClosedRatio and OpenRatio are the hysteresis thresholds as fractions
	// of the eye's open baseline: below ClosedRatio·baseline the eye is
	// closed, at or above OpenRatio·baseline it is open again.
	ClosedRatio, OpenRatio float32
	// MinBaseline is the least open baseline for an eye to count.
	MinBaseline float32
	// Window is how many recent readings per eye the baseline is the
	// median of.
	Window    int
	MaxClosed int
	state     int // 0 unknown, 1 open seen, 2 closed after open
	closedFor int
	winkSide  int // -1 left, 1 right, 0 both
	hist      [2][]float32
	Blinks    int
	Winks     int
}

// NewBlinkDetector returns a detector with defaults that suit 15-30 fps: a
// blink's closure falls below a quarter of the open reading (the model
// reads a closed eye near 0), and the eye counts as open again at 60% of
// it; a baseline over the last 9 frames (0.3-0.6 s) follows lighting and
// pose changes without being pulled down by a 3-4 frame blink.
func NewBlinkDetector() BlinkDetector {
	return BlinkDetector{ClosedRatio: 0.25, OpenRatio: 0.6, MinBaseline: 0.1, Window: 9, MaxClosed: 12}
}

// Closing reports whether the eyes are closed mid-blink (a closure that
// started after they were seen open): such a frame shows the lids, not the
// face to recognise.
func (b *BlinkDetector) Closing() bool { return b.state == 2 }

// baseline is the median of eye i's recent readings (0 before any).
func (b *BlinkDetector) baseline(i int) float32 {
	h := b.hist[i]
	if len(h) == 0 {
		return 0
	}
	s := append([]float32(nil), h...)
	slices.Sort(s)
	return s[len(s)/2]
}

// Observe feeds one frame's eye state; it returns "blink", "wink" or "".
func (b *BlinkDetector) Observe(e Eyes) string {
	if b.OpenRatio == 0 {
		*b = NewBlinkDetector()
	}
	v := [2]float32{e.Left, e.Right}
	var open, closed, signal [2]bool
	for i := range v {
		base := b.baseline(i)
		if len(b.hist[i]) == 0 {
			base = v[i] // the first reading is its own baseline
		}
		signal[i] = base >= b.MinBaseline
		open[i] = signal[i] && v[i] >= b.OpenRatio*base
		closed[i] = signal[i] && v[i] < b.ClosedRatio*base
	}
	// Eyes without signal neither open nor close: the others decide.
	allOpen := (open[0] || !signal[0]) && (open[1] || !signal[1]) && (signal[0] || signal[1])
	ev := ""
	switch b.state {
	case 0:
		if allOpen {
			b.state = 1
		}
	case 1:
		switch {
		case closed[0] && (closed[1] || !signal[1]), closed[1] && !signal[0]:
			b.state, b.closedFor, b.winkSide = 2, 1, 0
		case closed[0] && open[1]:
			b.state, b.closedFor, b.winkSide = 2, 1, -1
		case closed[1] && open[0]:
			b.state, b.closedFor, b.winkSide = 2, 1, 1
		}
	case 2:
		if allOpen {
			b.state = 1
			if b.winkSide == 0 {
				b.Blinks++
				ev = "blink"
			} else {
				b.Winks++
				ev = "wink"
			}
			break
		}
		b.closedFor++
		if b.closedFor > b.MaxClosed {
			b.state = 0 // eyes shut too long: a photo with closed eyes, not a blink
		}
	}
	// The baseline learns from frames outside a closure only, so a blink
	// does not pull it down; a closure too long to be a blink (state 0
	// again) is learnt, and an eye shut for good loses its signal.
	if b.state != 2 {
		for i := range v {
			b.hist[i] = append(b.hist[i], v[i])
			if n := len(b.hist[i]) - b.Window; n > 0 {
				b.hist[i] = b.hist[i][n:]
			}
		}
	}
	return ev
}
