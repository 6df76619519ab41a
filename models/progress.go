package models

import (
	"fmt"
	"io"
	"os"
	"time"
)

// ProgressLine returns a Progress that writes the download's state to w:
// on a terminal (tty) one line rewritten in place at most 4 times a
// second, "models: 12.3 of 41.1 MB, 3.2 MB/s, 9 s left"; elsewhere (a log,
// the window's models screen) a line at each quarter, so the lines stay
// few. The last call (done == total) always writes, ending the line.
func ProgressLine(w io.Writer, tty bool) Progress {
	return progressLine(w, tty, time.Now)
}

func progressLine(w io.Writer, tty bool, now func() time.Time) Progress {
	start := now()
	var last time.Time
	quarter := 0
	return func(done, total int64) {
		t := now()
		end := total > 0 && done >= total
		if tty {
			if !end && t.Sub(last) < 250*time.Millisecond {
				return
			}
			last = t
			eol := ""
			if end {
				eol = "\n"
			}
			fmt.Fprintf(w, "\r%-60s%s", progressText(done, total, t.Sub(start)), eol)
			return
		}
		if total <= 0 {
			return
		}
		q := int(4 * done / total)
		if q <= quarter && !(end && quarter < 4) {
			return
		}
		quarter = q
		fmt.Fprintln(w, progressText(done, total, t.Sub(start)))
	}
}

// progressText is "models: 12.3 of 41.1 MB, 3.2 MB/s, 9 s left" (the
// rate and time left once a rate is measurable; no total, no time left).
func progressText(done, total int64, elapsed time.Duration) string {
	const mb = 1e6
	s := fmt.Sprintf("models: %.1f MB", float64(done)/mb)
	if total > 0 {
		s = fmt.Sprintf("models: %.1f of %.1f MB", float64(done)/mb, float64(total)/mb)
	}
	if elapsed < 100*time.Millisecond || done == 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	s += fmt.Sprintf(", %.1f MB/s", rate/mb)
	if total > 0 && done < total {
		s += fmt.Sprintf(", %.0f s left", float64(total-done)/rate)
	}
	return s
}

// IsTerminal reports whether w is a terminal (a character device), where
// ProgressLine may rewrite its line in place.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
