package engine

import (
	"math"
	"slices"
	"testing"
)

func TestGates(t *testing.T) {
	g := DefaultGates()
	good := Measures{FaceFrac: 0.4, Movement: 0.01, Brightness: 120, Blur: 200,
		Eyes: Eyes{1, 1}, Faces: 1, Pose: Pose{Pitch: -8}}
	box := Box{200, 100, 400, 300}
	tests := []struct {
		name   string
		change func(*Measures)
		box    Box
		want   Reason
	}{
		{"ok", func(*Measures) {}, box, ""},
		{"no previous frame", func(m *Measures) { m.Movement = float32(math.NaN()) }, box, ""},
		{"no face", func(m *Measures) { m.Faces = 0 }, box, ReasonNoFace},
		{"small", func(m *Measures) { m.FaceFrac = 0.1 }, box, ReasonTooSmall},
		{"big", func(m *Measures) { m.FaceFrac = 0.95 }, box, ReasonTooBig},
		{"cut", func(*Measures) {}, Box{-40, 100, 160, 300}, ReasonCut},
		{"two people", func(m *Measures) { m.Faces = 2 }, box, ReasonManyFaces},
		{"moving", func(m *Measures) { m.Movement = 0.3 }, box, ReasonMovement},
		{"turned", func(m *Measures) { m.Pose.Yaw = -40 }, box, ReasonYaw},
		{"nodding", func(m *Measures) { m.Pose.Pitch = 30 }, box, ReasonPitch},
		{"tilted", func(m *Measures) { m.Pose.EyeRoll = 30 }, box, ReasonRoll},
		{"eyes closed", func(m *Measures) { m.Eyes = Eyes{0.1, 0.05} }, box, ReasonEyesClosed},
		{"dark", func(m *Measures) { m.Brightness = 20 }, box, ReasonTooDark},
		{"bright", func(m *Measures) { m.Brightness = 250 }, box, ReasonTooBright},
		{"blurry", func(m *Measures) { m.Blur = 5 }, box, ReasonBlur},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.change(&m)
			is := g.Check(m, tt.box, 640, 480)
			if tt.want == "" {
				if len(is) != 0 {
					t.Fatalf("issues %v, want none", is)
				}
				return
			}
			if len(is) == 0 || is[0].Reason != tt.want {
				t.Fatalf("issues %v, want first %s", is, tt.want)
			}
		})
	}
}

func TestDecodeDetections(t *testing.T) {
	c := DefaultConfig()
	// Three anchors: two overlapping faces and one weak one.
	scores := []float32{0.1, 0.9, 0.2, 0.8, 0.5, 0.5}
	boxes := []float32{
		0.1, 0.1, 0.5, 0.5,
		0.12, 0.1, 0.52, 0.5, // overlaps the first: suppressed
		0.6, 0.6, 0.7, 0.7, // below confidence
	}
	got := decodeDetections(scores, boxes, 640, 480, c)
	if len(got) != 1 || got[0].Score != 0.9 {
		t.Fatalf("got %+v, want the single 0.9 face", got)
	}
	if b := got[0].Box; b.X1 != 64 || b.Y2 != 240 {
		t.Errorf("box %+v not scaled to frame pixels", b)
	}
	c.Confidence = 0.4
	got = decodeDetections(scores, boxes, 640, 480, c)
	if len(got) != 2 || got[0].Box.Area() < got[1].Box.Area() {
		t.Errorf("got %+v, want two faces largest first", got)
	}
	c.KeepTopK = 1
	if got = decodeDetections(scores, boxes, 640, 480, c); len(got) != 1 {
		t.Errorf("keep-top-k 1 kept %d", len(got))
	}
}

func TestTrackerAndBlink(t *testing.T) {
	tr := NewTracker()
	f := Face{Box: Box{100, 100, 200, 200}}
	id := tr.Update([]Face{f})[0].ID
	f.Box.X1, f.Box.X2 = 110, 210
	if got := tr.Update([]Face{f})[0].ID; got != id {
		t.Fatalf("moved face got track %d, want %d", got, id)
	}
	other := Face{Box: Box{400, 100, 500, 200}}
	ts := tr.Update([]Face{f, other})
	if ts[0].ID != id || ts[1].ID == id {
		t.Fatalf("tracks %d,%d", ts[0].ID, ts[1].ID)
	}
	for i := 0; i <= tr.MaxMisses; i++ {
		tr.Update(nil)
	}
	if tr.Lookup(id) != nil {
		t.Error("track survived more than MaxMisses empty frames")
	}

	seq := func(b *BlinkDetector, eyes ...Eyes) (out []string) {
		for _, e := range eyes {
			if s := b.Observe(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	open, shut, leftShut := Eyes{0.95, 0.95}, Eyes{0.05, 0.05}, Eyes{0.05, 0.95}
	b := NewBlinkDetector()
	if got := seq(&b, open, shut, shut, open); len(got) != 1 || got[0] != "blink" {
		t.Errorf("blink sequence gave %v", got)
	}
	b = NewBlinkDetector()
	if got := seq(&b, open, leftShut, open); len(got) != 1 || got[0] != "wink" {
		t.Errorf("wink sequence gave %v", got)
	}
	b = NewBlinkDetector()
	var long []Eyes
	long = append(long, open)
	for i := 0; i < 20; i++ {
		long = append(long, shut)
	}
	long = append(long, open)
	if got := seq(&b, long...); len(got) != 0 {
		t.Errorf("eyes shut for 20 frames counted as %v", got)
	}
	b = NewBlinkDetector()
	if got := seq(&b, shut, open); len(got) != 0 {
		t.Errorf("closed-then-open without open first gave %v", got)
	}
}

// TestBlinkRelativeToBaseline: open and closed are read against each eye's
// own open baseline, so faces whose open eyes the model reads low still
// blink, and an eye the model never sees open does not block the other.
func TestBlinkRelativeToBaseline(t *testing.T) {
	rep := func(e Eyes, n int) []Eyes {
		out := make([]Eyes, n)
		for i := range out {
			out[i] = e
		}
		return out
	}
	seq := func(parts ...[]Eyes) []Eyes {
		var out []Eyes
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		eyes []Eyes
		want []string
	}{
		{"wide open eyes blink", seq(rep(Eyes{0.99, 0.98}, 6), rep(Eyes{1e-6, 1e-6}, 3), rep(Eyes{0.99, 0.98}, 2)), []string{"blink"}},
		// The model reads this right eye 0.27 open: below any absolute
		// "open" threshold of the old detector (0.5).
		{"an eye read low when open", seq(rep(Eyes{1, 0.27}, 6), rep(Eyes{1e-5, 1e-5}, 3), rep(Eyes{1, 0.27}, 2)), []string{"blink"}},
		// 0.03 when open, 0.35 under the lid: no signal; the right eye decides.
		{"an eye without signal", seq(rep(Eyes{0.03, 1}, 6), rep(Eyes{0.35, 1e-4}, 3), rep(Eyes{0.03, 1}, 2)), []string{"blink"}},
		{"noise around a low baseline is no blink", seq(rep(Eyes{0.4, 0.3}, 3), rep(Eyes{0.3, 0.2}, 2), rep(Eyes{0.45, 0.35}, 3), rep(Eyes{0.3, 0.2}, 2)), nil},
		{"wink", seq(rep(Eyes{0.9, 0.9}, 4), rep(Eyes{0.01, 0.9}, 2), rep(Eyes{0.9, 0.9}, 2)), []string{"wink"}},
		{"closed eyes from the start are no blink", seq(rep(Eyes{0.001, 0.002}, 6), rep(Eyes{0.9, 0.9}, 3)), nil},
		{"two blinks", seq(rep(Eyes{0.8, 0.7}, 5), rep(Eyes{0.01, 0.01}, 2), rep(Eyes{0.8, 0.7}, 5), rep(Eyes{0.02, 0.01}, 3), rep(Eyes{0.8, 0.7}, 1)), []string{"blink", "blink"}},
		{"shut too long", seq(rep(Eyes{0.9, 0.9}, 3), rep(Eyes{0.01, 0.01}, 20), rep(Eyes{0.9, 0.9}, 3)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBlinkDetector()
			var got []string
			closing := false
			for _, e := range tc.eyes {
				if s := b.Observe(e); s != "" {
					got = append(got, s)
				}
				closing = closing || b.Closing()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			if len(tc.want) > 0 && !closing {
				t.Error("Closing never reported during the closure")
			}
			if b.Closing() {
				t.Error("still Closing after the eyes opened")
			}
		})
	}
}
