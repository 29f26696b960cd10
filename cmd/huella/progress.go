package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress reports a long job's advance on w (stderr): a line rewritten in
// place on a terminal, else an "N of M" line at each tenth and at most every
// few seconds, so that logs stay short.
type progress struct {
	w       io.Writer
	label   string
	total   int
	done    int
	tty     bool
	last    time.Time
	lastPct int
}

// newProgress starts reporting a job of total steps.
func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, tty: isTerminal(w), last: time.Now(), lastPct: -1}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Add records n more steps done.
func (p *progress) Add(n int) {
	p.done += n
	pct := 100
	if p.total > 0 {
		pct = 100 * p.done / p.total
	}
	now := time.Now()
	switch {
	case p.tty && (now.Sub(p.last) >= 200*time.Millisecond || p.done == p.total):
		const width = 30
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < width*pct/100 {
				bar[i] = '='
			}
		}
		fmt.Fprintf(p.w, "\r%s [%s] %d of %d (%d%%)", p.label, bar, p.done, p.total, pct)
		p.last = now
	case !p.tty && (pct/10 > p.lastPct/10 && now.Sub(p.last) >= 2*time.Second || p.done == p.total):
		fmt.Fprintf(p.w, "%s: %d of %d (%d%%)\n", p.label, p.done, p.total, pct)
		p.last, p.lastPct = now, pct
	}
}

// Done ends the report: a newline after a terminal bar.
func (p *progress) Done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
