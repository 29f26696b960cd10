package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestFingerSegment cuts the ten-print card's left slap (jnbis's PNG of
// NIST's sample.an2) into DIR/<position>.png and prints each box.
func TestFingerSegment(t *testing.T) {
	slapPNG := datasets.Path(t, "ansinist/nist-reference/samples-nist/fp-14.png")
	dir := t.TempDir()
	out := MustRun(t, "finger", "segment", "--json", "--position", "14", slapPNG, dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := len(lines), 4; got != want {
		t.Fatalf("got %d lines, want %d:\n%s", got, want, out)
	}
	for i, want := range []int{10, 9, 8, 7} {
		var l segmentLine
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if l.Position != want || l.Width <= 0 || l.Height <= 0 {
			t.Errorf("line %d = %+v, want position %d with a box", i, l, want)
		}
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%d.png", want))); err != nil {
			t.Error(err)
		}
	}
	if err := Run(t.Context(), []string{"finger", "segment", slapPNG}, io.Discard, io.Discard); err == nil {
		t.Error("segment without DIR: no error")
	}
}
