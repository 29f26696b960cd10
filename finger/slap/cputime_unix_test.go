//go:build unix

package slap_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/huella-abis/huella/finger/slap"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSegmentCPU segments every distinct labelled slap (livescan and
// card, four fingers and thumbs) and reports CPU milliseconds per slap,
// which load on a shared machine does not inflate as it does wall time.
func BenchmarkSegmentCPU(b *testing.B) {
	type slapImage struct {
		file, image string
		position    int
	}
	var slaps []slapImage
	seen := map[string]bool{}
	for _, l := range readLabels(b) {
		if !seen[l.file+l.image] {
			seen[l.file+l.image] = true
			slaps = append(slaps, slapImage{l.file, l.image, l.slap})
		}
	}
	imgs := make([]func() error, 0, len(slaps))
	for _, s := range slaps {
		img, ppi := mustRecordImage(b, s.file, s.image)
		imgs = append(imgs, func() error {
			_, err := slap.Segment(img, s.position, slap.Options{PPI: ppi})
			return err
		})
	}
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		for _, segment := range imgs {
			if err := segment(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(cpuTime(b)-start)/1e6/float64(b.N*len(imgs)), "cpu-ms/slap")
}
