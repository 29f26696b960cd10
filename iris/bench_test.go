package iris_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling thread: with the goroutine locked
// to its thread it measures one core's work whatever else the machine runs.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// BenchmarkExtract decodes and extracts CASIA-Iris-Interval images of
// subjects 001–004; cpu-ms/op is the thread's CPU time per image.
func BenchmarkExtract(b *testing.B) {
	dir := datasets.Path(b, "iris/casia-interval")
	paths, _ := filepath.Glob(filepath.Join(dir, "00[1-4]", "*", "*.jpg"))
	var data [][]byte
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start := threadCPU()
	for i := 0; i < b.N; i++ {
		img, err := imgproc.DecodeGray(data[i%len(data)])
		if err != nil {
			b.Fatal(err)
		}
		iris.Extract(img, iris.Options{})
	}
	b.ReportMetric(float64(threadCPU()-start)/1e6/float64(b.N), "cpu-ms/op")
}
