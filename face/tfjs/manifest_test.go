package tfjs_test

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/huella-abis/huella/face/tfjs"
)

func TestDecodeManifest(t *testing.T) {
	shards := map[string][]byte{
		// uint8 quantised [2]: min -1, scale 0.5 → -1, 0.5; float32 [1]: 2.5;
		// float16 [2]: 1.0 (0x3c00), -2.0 (0xc000); int32 [2]: 1, -2.
		"a.bin": {0, 3, 0, 0, 0x20, 0x40, 0x00, 0x3c, 0x00, 0xc0, 1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff},
	}
	manifest := `[{"paths":["a.bin"],"weights":[
		{"name":"q","shape":[2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
		{"name":"f","shape":[1],"dtype":"float32"},
		{"name":"h","shape":[2],"dtype":"float32","quantization":{"dtype":"float16"}},
		{"name":"i","shape":[2],"dtype":"int32"}]}]`
	read := func(p string) ([]byte, error) {
		b, ok := shards[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return b, nil
	}
	t.Run("OK", func(t *testing.T) {
		w, err := tfjs.DecodeManifest([]byte(manifest), read)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][]float32{"q": {-1, 0.5}, "f": {2.5}, "h": {1, -2}, "i": {1, -2}} {
			got := w[name].Data
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-6 {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		shards["a.bin"] = shards["a.bin"][:7]
		if _, err := tfjs.DecodeManifest([]byte(manifest), read); !errors.Is(err, tfjs.ErrManifest) {
			t.Errorf("err = %v, want ErrManifest", err)
		}
	})
	t.Run("ErrMissingShard", func(t *testing.T) {
		if _, err := tfjs.DecodeManifest([]byte(`[{"paths":["b.bin"],"weights":[]}]`), read); err == nil {
			t.Error("err = nil, want an error")
		}
	})
	t.Run("ErrHugeShape", func(t *testing.T) {
		m := `[{"paths":[],"weights":[{"name":"x","shape":[100000,100000],"dtype":"float32"}]}]`
		if _, err := tfjs.DecodeManifest([]byte(m), read); !errors.Is(err, tfjs.ErrManifest) {
			t.Errorf("err = %v, want ErrManifest", err)
		}
	})
}

// FuzzDecodeManifest feeds arbitrary manifests and shard bytes to the
// decoder, seeded with the shipped TinyFaceDetector model.
func FuzzDecodeManifest(f *testing.F) {
	manifest, err := os.ReadFile("../models/tiny_face_detector_model-weights_manifest.json")
	if err != nil {
		f.Fatal(err)
	}
	shard, err := os.ReadFile("../models/tiny_face_detector_model.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(manifest, shard)
	f.Add([]byte(`[{"paths":["x"],"weights":[{"name":"h","shape":[2],"dtype":"float32","quantization":{"dtype":"float16"}}]}]`), []byte{0, 0x3c, 1, 0x80})
	f.Fuzz(func(t *testing.T, manifest, shard []byte) {
		w, err := tfjs.DecodeManifest(manifest, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		for name, tensor := range w {
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Fatalf("%s: shape %v but %d values", name, tensor.Shape, len(tensor.Data))
			}
		}
	})
}
