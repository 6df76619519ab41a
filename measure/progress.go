package measure

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress reports long work on a log (stderr): done/total, the rate and
// the time left. On a terminal it rewrites one line several times a
// second; into a file or pipe it writes a line every ten seconds, so a CI
// log shows the run is alive without filling up.
type Progress struct {
	w     io.Writer
	what  string // "eval: photos"
	total int    // 0 when unknown
	tty   bool
	every time.Duration
	now   func() time.Time

	mu          sync.Mutex
	start, last time.Time
	shown       bool // a \r line is on the terminal
}

// NewProgress starts reporting on w (nil: nowhere) for total items (0:
// unknown) named unit, each line prefixed with prefix.
func NewProgress(w io.Writer, prefix, unit string, total int) *Progress {
	if w == nil {
		w = io.Discard
	}
	p := &Progress{w: w, what: prefix + ": " + unit, total: total, now: time.Now, every: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 250*time.Millisecond
		}
	}
	p.start = p.now()
	p.last = p.start
	return p
}

// Step reports that done items are finished; it writes only when the
// interval has passed since the last line.
func (p *Progress) Step(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.write(done, t)
	}
}

// Done writes the final line (on a terminal, ends the rewritten line).
func (p *Progress) Done(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.write(done, p.now())
	if p.tty {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

// Printf writes a line of its own (a failure), clearing a progress line
// first on a terminal.
func (p *Progress) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
	fmt.Fprintf(p.w, format, args...)
}

func (p *Progress) write(done int, t time.Time) {
	line := p.Line(done, t.Sub(p.start))
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K"+line)
		p.shown = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// Line is the progress text after elapsed for done items: "eval: photos
// 1200/7700 (16%), 41.3/s, 2m37s left".
func (p *Progress) Line(done int, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(p.what)
	if p.total > 0 {
		fmt.Fprintf(&b, " %d/%d (%d%%)", done, p.total, done*100/p.total)
	} else {
		fmt.Fprintf(&b, " %d", done)
	}
	if elapsed <= 0 || done == 0 {
		return b.String()
	}
	rate := float64(done) / elapsed.Seconds()
	fmt.Fprintf(&b, ", %.1f/s", rate)
	if p.total > 0 && done < p.total {
		left := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", %s left", left.Round(time.Second))
	} else {
		fmt.Fprintf(&b, ", %s", elapsed.Round(time.Second))
	}
	return b.String()
}
