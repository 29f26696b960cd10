package main

import (
	"fmt"
	"io"
	"os"
	"sync"
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

// Set records that done steps are done in all; a smaller done than
// already recorded is ignored (workers report out of order).
func (p *progress) Set(done int) {
	if done > p.done {
		p.Add(done - p.done)
	}
}

// stages reports a job of several stages, each with its own bar or lines
// ("eval finger: extract", then "eval finger: compare"). Its Report is an
// evaluation.ProgressFunc: workers may call it at once.
type stages struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	stage string
	cur   *progress
}

func newStages(w io.Writer, label string) *stages { return &stages{w: w, label: label} }

// Report records done of total steps of the stage; a new stage (or the
// same one starting over, as with several directories) ends the last.
func (s *stages) Report(stage string, done, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || stage != s.stage || total != s.cur.total || done < s.cur.done && done == 0 {
		s.end()
		s.stage, s.cur = stage, newProgress(s.w, s.label+": "+stage, total)
	}
	if s.cur.done < s.cur.total || total == 0 {
		s.cur.Set(done)
	}
}

// Done ends the report of the last stage.
func (s *stages) Done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end()
}

func (s *stages) end() {
	if s.cur != nil {
		s.cur.Done()
		s.cur = nil
	}
}
