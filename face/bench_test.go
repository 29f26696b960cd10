package face_test

import (
	"image"
	"testing"

	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/face/tfjs"
)

// BenchmarkExtract measures detect + landmarks + align + describe for one
// 250×250 LFW image on one core.
func BenchmarkExtract(b *testing.B) {
	img := mustDecode(b, "testdata/Abdullah_Gul_0013.jpg")
	x := &face.Extractor{Models: mustModels(b), Exec: tfjs.Exec{Workers: 1}}
	for b.Loop() {
		if _, err := x.Extract(img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetector(b *testing.B) {
	img := mustDecode(b, "testdata/Abdullah_Gul_0013.jpg")
	m := mustModels(b)
	for b.Loop() {
		if _, err := m.Detector.Detect(tfjs.Exec{Workers: 1}, img, face.DetectorInputSize, face.DetectorMinScore, face.DetectorIoU); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLandmarks(b *testing.B) {
	img := mustDecode(b, "testdata/Abdullah_Gul_0013.jpg")
	m := mustModels(b)
	for b.Loop() {
		if _, err := m.Landmarks.Landmarks(tfjs.Exec{Workers: 1}, img, face.Box{X: 60, Y: 60, Width: 130, Height: 130}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDescriptor(b *testing.B) {
	img := mustDecode(b, "testdata/Abdullah_Gul_0013.jpg")
	m := mustModels(b)
	for b.Loop() {
		if _, err := m.Recognition.Descriptor(tfjs.Exec{Workers: 1}, img, image.Rect(60, 60, 190, 190)); err != nil {
			b.Fatal(err)
		}
	}
}
