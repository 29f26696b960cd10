package finger_test

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/huella-abis/huella/finger"
)

// threadCPU is the CPU time of the calling thread: on a shared, busy
// machine it counts one core's work, not the wait for it.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCompare measures Compare on one core, as BenchmarkSearch does,
// in CPU time of the comparing thread (cpu-ns/op): one prepared probe
// against 80 prepared DB1 templates, mates and non-mates.
func BenchmarkCompare(b *testing.B) {
	var gallery []*finger.Candidate
	for f := 101; f <= 110; f++ {
		for i := 1; i <= 8; i++ {
			gallery = append(gallery, finger.Prepare(MustExtract(b, "DB1_B", itoa(f)+"_"+itoa(i))))
		}
	}
	probe := gallery[0]
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	n := 0
	for b.Loop() {
		finger.Compare(probe, gallery[n%len(gallery)])
		n++
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPrepareCPU is BenchmarkPrepare in CPU time of the preparing
// thread (cpu-ns/op): what the two-stage index's exact stage pays per
// shortlisted entry besides the comparison.
func BenchmarkPrepareCPU(b *testing.B) {
	t := MustExtract(b, "DB1_B", "101_1")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		finger.Prepare(t)
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPrepareStoredCPU is BenchmarkPrepareCPU on the template as stored
// and decoded (directions in whole 1/256 turns), the form the two-stage
// index prepares its shortlisted entries from.
func BenchmarkPrepareStoredCPU(b *testing.B) {
	data, err := MustExtract(b, "DB1_B", "101_1").MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	var t finger.Template
	if err := t.UnmarshalBinary(data); err != nil {
		b.Fatal(err)
	}
	finger.Prepare(&t) // the lookup rows this template needs, built once
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		finger.Prepare(&t)
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
}
