package wsq_test

import (
	"image"
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

// FuzzEncode checks that any small image encodes at any sane rate into a
// file the decoder reads back at the same size.
func FuzzEncode(f *testing.F) {
	f.Add(uint8(16), uint8(9), 0.75, []byte{0, 255, 7})
	f.Add(uint8(1), uint8(1), 2.25, []byte{128})
	f.Fuzz(func(t *testing.T, w, h uint8, rate float64, pix []byte) {
		if w == 0 || h == 0 || len(pix) == 0 || !(rate > 0.01 && rate < 8) {
			return
		}
		g := image.NewGray(image.Rect(0, 0, int(w), int(h)))
		for i := range g.Pix {
			g.Pix[i] = pix[i%len(pix)]
		}
		data, err := wsq.EncodeGray(g, &wsq.Options{BitRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		back, err := wsq.DecodeFile(data)
		if err != nil {
			t.Fatalf("decode what was encoded: %v", err)
		}
		if back.Image.Bounds() != g.Bounds() {
			t.Fatalf("size: got %v, want %v", back.Image.Bounds(), g.Bounds())
		}
	})
}
