package wsq_test

import (
	"testing"
	"time"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/wsq"
)

// FuzzDecode checks that no input makes the decoder panic or allocate beyond
// a small size cap. Seeds: the dataset samples (testdata/fuzz holds more).
func FuzzDecode(f *testing.F) {
	for _, rel := range []string{"ansinist/nist-reference/samples-wsq/sample.wsq", "fingerprint/libbiomeval/img.wsq"} {
		f.Add(mustRead(f, datasets.Path(f, rel)))
	}
	dec := wsq.Decoder{MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := dec.Decode(data)
		if err != nil {
			return
		}
		b := file.Image.Bounds()
		if b.Dx()*b.Dy() > 1<<16 || b.Dx() != file.Frame.Width {
			t.Fatalf("decoded %v for frame %dx%d", b, file.Frame.Width, file.Frame.Height)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := mustRead(b, datasets.Path(b, "ansinist/nist-reference/samples-wsq/sample.wsq"))
	f, err := wsq.DecodeFile(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(f.Frame.Width * f.Frame.Height))
	b.ReportAllocs()
	start, ok := processCPU()
	for b.Loop() {
		if _, err := wsq.DecodeFile(data); err != nil {
			b.Fatal(err)
		}
	}
	reportCPUThroughput(b, start, ok, f.Frame.Width*f.Frame.Height)
}

// reportCPUThroughput adds the "cpu-MB/s" metric: pixels per second of
// process CPU time, which contention from other processes does not dilute
// (run with -cpu 1 so that it measures one core).
func reportCPUThroughput(b *testing.B, start time.Duration, ok bool, pixels int) {
	end, ok2 := processCPU()
	if ok && ok2 && end > start {
		b.ReportMetric(float64(pixels)*float64(b.N)/(end-start).Seconds()/1e6, "cpu-MB/s")
	}
}
