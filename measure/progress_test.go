package measure

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgress: into a file or pipe, a line every interval with count,
// rate and time left, and a final line; nothing between intervals.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	p := NewProgress(&buf, "eval", "photos", 7700)
	p.now = func() time.Time { return now }
	p.start, p.last = now, now
	for i := 0; i < 7700; i++ {
		p.Step(i)
		now = now.Add(25 * time.Millisecond) // 40 photos/s
		if i == 10 {
			p.Printf("eval: %s: %s\n", "x.jpg", "no face")
		}
	}
	p.Done(7700)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// 7700 photos at 40/s: 192.5 s, a line each 10 s, the failure, the end.
	if len(lines) != 19+1+1 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	for _, tc := range []struct{ line, want string }{
		{lines[0], "eval: x.jpg: no face"},
		{lines[1], "eval: photos 400/7700 (5%), 40.0/s, 3m3s left"},
		{lines[19], "eval: photos 7600/7700 (98%), 40.0/s, 3s left"},
		{lines[20], "eval: photos 7700/7700 (100%), 40.0/s, 3m13s"},
	} {
		if tc.line != tc.want {
			t.Errorf("line %q, want %q", tc.line, tc.want)
		}
	}
	if got := NewProgress(nil, "bench", "frames", 0).Line(120, 4*time.Second); got != "bench: frames 120, 30.0/s, 4s" {
		t.Errorf("unknown total: %q", got)
	}
}
