package face_test

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/face/tfjs"
)

// reference is face/testdata/reference.json, written by
// tools/face-reference/reference.js with face-api in Node.js.
type reference struct {
	Images []struct {
		File            string       `json:"file"`
		Width           int          `json:"width"`
		Height          int          `json:"height"`
		DescriptorWhole []float32    `json:"descriptor_whole"`
		LandmarksWhole  [][2]float64 `json:"landmarks_whole"`
		Detections      []struct {
			Score float64  `json:"score"`
			Box   face.Box `json:"box"`
		} `json:"detections"`
		Face *struct {
			Score      float64      `json:"score"`
			Box        face.Box     `json:"box"`
			Landmarks  [][2]float64 `json:"landmarks"`
			AlignedBox face.Box     `json:"aligned_box"`
			Descriptor []float32    `json:"descriptor"`
		} `json:"face"`
	} `json:"images"`
}

func mustReference(tb testing.TB) reference {
	tb.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		tb.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatal(err)
	}
	if len(r.Images) < 6 {
		tb.Fatalf("reference has %d images, want ≥ 6", len(r.Images))
	}
	return r
}

func mustDecode(tb testing.TB, path string) *face.RGB {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := face.DecodeRGB(f)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func mustModels(tb testing.TB) *face.Models {
	tb.Helper()
	m, err := face.LoadModels()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func maxPointError(got face.Landmarks68, want [][2]float64) float64 {
	worst := 0.0
	for i, p := range got {
		worst = math.Max(worst, math.Hypot(p.X-want[i][0], p.Y-want[i][1]))
	}
	return worst
}

// TestReferenceRecognitionNet runs FaceRecognitionNet on whole fixture
// images and compares with face-api.
func TestReferenceRecognitionNet(t *testing.T) {
	ref, m := mustReference(t), mustModels(t)
	for _, r := range ref.Images {
		t.Run(r.File, func(t *testing.T) {
			img := mustDecode(t, filepath.Join("testdata", r.File))
			got, err := m.Recognition.Descriptor(tfjs.Exec{}, img, image.Rect(0, 0, img.Width, img.Height))
			if err != nil {
				t.Fatal(err)
			}
			if c := cosine(got, r.DescriptorWhole); c < 0.999 {
				t.Errorf("cosine to reference = %.5f, want ≥ 0.999", c)
			}
		})
	}
}

// TestReferenceLandmarkNet runs FaceLandmark68Net on whole fixture images.
func TestReferenceLandmarkNet(t *testing.T) {
	ref, m := mustReference(t), mustModels(t)
	for _, r := range ref.Images {
		t.Run(r.File, func(t *testing.T) {
			img := mustDecode(t, filepath.Join("testdata", r.File))
			got, err := m.Landmarks.Landmarks(tfjs.Exec{}, img, face.Box{Width: float64(img.Width), Height: float64(img.Height)})
			if err != nil {
				t.Fatal(err)
			}
			if e := maxPointError(got, r.LandmarksWhole); e > 1 {
				t.Errorf("worst landmark error = %.2f px, want ≤ 1", e)
			}
		})
	}
}

// TestReferenceDetector compares TinyFaceDetector boxes.
func TestReferenceDetector(t *testing.T) {
	ref, m := mustReference(t), mustModels(t)
	for _, r := range ref.Images {
		t.Run(r.File, func(t *testing.T) {
			img := mustDecode(t, filepath.Join("testdata", r.File))
			got, err := m.Detector.Detect(tfjs.Exec{}, img, face.DetectorInputSize, face.DetectorMinScore, face.DetectorIoU)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(r.Detections) {
				t.Fatalf("got %d detections, want %d", len(got), len(r.Detections))
			}
			for i, want := range r.Detections {
				if iou := got[i].Box.IoU(want.Box); iou < 0.95 {
					t.Errorf("detection %d: IoU with reference = %.3f, want ≥ 0.95", i, iou)
				}
				if d := math.Abs(got[i].Score - want.Score); d > 0.02 {
					t.Errorf("detection %d: score %.3f, want %.3f", i, got[i].Score, want.Score)
				}
			}
		})
	}
}

// TestReferencePipeline compares the whole detect → landmarks → align →
// describe pipeline with face-api's withFaceDescriptor().
func TestReferencePipeline(t *testing.T) {
	ref, m := mustReference(t), mustModels(t)
	x := &face.Extractor{Models: m, Alignment: face.AlignFaceAPI, NoFlip: true}
	for _, r := range ref.Images {
		if r.Face == nil {
			continue
		}
		t.Run(r.File, func(t *testing.T) {
			img := mustDecode(t, filepath.Join("testdata", r.File))
			got, err := x.Extract(img)
			if err != nil {
				t.Fatal(err)
			}
			if iou := got.Detection.Box.IoU(r.Face.Box); iou < 0.95 {
				t.Errorf("box IoU = %.3f, want ≥ 0.95", iou)
			}
			if e := maxPointError(got.Landmarks, r.Face.Landmarks); e > 1 {
				t.Errorf("worst landmark error = %.2f px, want ≤ 1", e)
			}
			if c := cosine(got.Descriptor, r.Face.Descriptor); c < 0.999 {
				t.Errorf("descriptor cosine = %.5f, want ≥ 0.999 (aligned %v, reference %+v)", c, got.Aligned, r.Face.AlignedBox)
			}
		})
	}
}
