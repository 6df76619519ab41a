package engine

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
type BlinkDetector struct {
	// Closed and Open are the hysteresis thresholds on the open probability.
	Closed, Open float32
	MaxClosed    int
	state        int // 0 unknown, 1 open seen, 2 closed after open
	closedFor    int
	winkSide     int // -1 left, 1 right, 0 both
	Blinks       int
	Winks        int
}

// NewBlinkDetector returns a detector with defaults that suit 15-30 fps.
func NewBlinkDetector() BlinkDetector {
	return BlinkDetector{Closed: 0.2, Open: 0.5, MaxClosed: 12}
}

// Observe feeds one frame's eye state; it returns "blink", "wink" or "".
func (b *BlinkDetector) Observe(e Eyes) string {
	if b.Open == 0 {
		*b = NewBlinkDetector()
	}
	lo, ro := e.Left >= b.Open, e.Right >= b.Open
	lc, rc := e.Left < b.Closed, e.Right < b.Closed
	switch b.state {
	case 0:
		if lo && ro {
			b.state = 1
		}
	case 1:
		switch {
		case lc && rc:
			b.state, b.closedFor, b.winkSide = 2, 1, 0
		case lc && ro:
			b.state, b.closedFor, b.winkSide = 2, 1, -1
		case rc && lo:
			b.state, b.closedFor, b.winkSide = 2, 1, 1
		}
	case 2:
		if lo && ro {
			b.state = 1
			if b.winkSide == 0 {
				b.Blinks++
				return "blink"
			}
			b.Winks++
			return "wink"
		}
		b.closedFor++
		if b.closedFor > b.MaxClosed {
			b.state = 0 // eyes shut too long: a photo with closed eyes, not a blink
		}
	}
	return ""
}
