package face_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/huella-abis/huella/face"
)

// dlibWriter writes dlib's serialisation format, to build test predictors.
type dlibWriter struct{ bytes.Buffer }

func (w *dlibWriter) int(v int64) {
	head := byte(0)
	if v < 0 {
		head, v = 0x80, -v
	}
	var b []byte
	for {
		b = append(b, byte(v))
		v >>= 8
		if v == 0 {
			break
		}
	}
	w.WriteByte(head | byte(len(b)))
	w.Write(b)
}

func (w *dlibWriter) float(f float32) {
	frac, exp := math.Frexp(float64(f))
	w.int(int64(frac * (1 << 24)))
	w.int(int64(exp - 24))
}

func (w *dlibWriter) column(v ...float32) {
	w.int(-int64(len(v)))
	w.int(-1)
	for _, f := range v {
		w.float(f)
	}
}

// twoPointPredictor is a dlib predictor with two parts, at (0.25, 0.5) and
// (0.75, 0.5) of the box, and one cascade of one tree of depth 1 that reads
// the pixels under them: when the left one is brighter by more than 10.5
// grey levels both parts move by (+0.1, 0), else by (0, −0.1).
func twoPointPredictor() []byte {
	var w dlibWriter
	w.int(1) // version
	w.column(0.25, 0.5, 0.75, 0.5)
	w.int(1) // cascades
	w.int(1) // trees
	w.int(1) // splits
	w.int(0)
	w.int(1)
	w.float(10.5)
	w.int(2) // leaves
	w.column(0.1, 0, 0.1, 0)
	w.column(0, -0.1, 0, -0.1)
	w.int(1) // anchor lists
	w.int(2)
	w.int(0)
	w.int(1)
	w.int(1) // delta lists
	w.int(2)
	w.float(0)
	w.float(0)
	w.float(0)
	w.float(0)
	return w.Bytes()
}

func greyImage(w, h int, grey byte) *face.RGB {
	img := &face.RGB{Width: w, Height: h, Pix: make([]byte, 3*w*h)}
	for i := range img.Pix {
		img.Pix[i] = grey
	}
	return img
}

func setPixel(img *face.RGB, x, y int, grey byte) {
	o := 3 * (y*img.Width + x)
	img.Pix[o], img.Pix[o+1], img.Pix[o+2] = grey, grey, grey
}

func TestShapePredictorTwoPoints(t *testing.T) {
	dlib, err := face.DecodeDlibShapePredictor(bytes.NewReader(twoPointPredictor()))
	if err != nil {
		t.Fatal(err)
	}
	if dlib.NumParts() != 2 {
		t.Fatalf("NumParts = %d, want 2", dlib.NumParts())
	}
	for _, bits := range []int{8, 16, 24, 32} {
		blob, err := dlib.MarshalCompact(bits)
		if err != nil {
			t.Fatal(err)
		}
		compact, err := face.DecodeCompactShapePredictor(blob)
		if err != nil {
			t.Fatalf("%d-bit: %v", bits, err)
		}
		rect := face.Rect{Left: 10, Top: 20, Right: 110, Bottom: 120}
		// The feature pixels are (35, 70) and (85, 70).
		for _, c := range []struct {
			name        string
			left, right byte
			want        [2]face.Point
		}{
			{"LeftBrighter", 111, 100, [2]face.Point{{X: 45, Y: 70}, {X: 95, Y: 70}}},
			{"NotBrightEnough", 110, 100, [2]face.Point{{X: 35, Y: 60}, {X: 85, Y: 60}}},
		} {
			img := greyImage(130, 140, 100)
			setPixel(img, 35, 70, c.left)
			setPixel(img, 85, 70, c.right)
			for name, sp := range map[string]*face.ShapePredictor{"dlib": dlib, "compact": compact} {
				got := sp.Predict(img, rect)
				for i := range got {
					if math.Hypot(got[i].X-c.want[i].X, got[i].Y-c.want[i].Y) > 0.02 {
						t.Errorf("%d-bit %s %s: part %d = %v, want %v", bits, name, c.name, i, got[i], c.want[i])
					}
				}
			}
		}
	}
}

func TestShapePredictorErrors(t *testing.T) {
	good := twoPointPredictor()
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"ErrEmpty", nil},
		{"ErrTruncated", good[:len(good)-3]},
		{"ErrTrailing", append(append([]byte(nil), good...), 0)},
		{"ErrVersion", append([]byte{1, 2}, good[2:]...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := face.DecodeDlibShapePredictor(bytes.NewReader(c.data)); !errors.Is(err, face.ErrModel) {
				t.Errorf("err = %v, want ErrModel", err)
			}
		})
	}
	sp, err := face.DecodeDlibShapePredictor(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := sp.MarshalCompact(16)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"ErrCompactEmpty", nil},
		{"ErrCompactMagic", append([]byte("HSP0"), blob[4:]...)},
		{"ErrCompactTruncated", blob[:len(blob)-1]},
		{"ErrCompactTrailing", append(append([]byte(nil), blob...), 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := face.DecodeCompactShapePredictor(c.data); !errors.Is(err, face.ErrModel) {
				t.Errorf("err = %v, want ErrModel", err)
			}
		})
	}
}

func FuzzDecodeDlibShapePredictor(f *testing.F) {
	f.Add(twoPointPredictor())
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := face.DecodeDlibShapePredictor(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A decoded predictor must run on any image without panicking.
		sp.Predict(greyImage(8, 8, 50), face.Rect{Left: -3, Top: 1, Right: 12, Bottom: 6})
	})
}

func FuzzDecodeCompactShapePredictor(f *testing.F) {
	sp, err := face.DecodeDlibShapePredictor(bytes.NewReader(twoPointPredictor()))
	if err != nil {
		f.Fatal(err)
	}
	for _, bits := range []int{8, 32} {
		blob, err := sp.MarshalCompact(bits)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(blob)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := face.DecodeCompactShapePredictor(data)
		if err != nil {
			return
		}
		sp.Predict(greyImage(8, 8, 50), face.Rect{Left: -3, Top: 1, Right: 12, Bottom: 6})
	})
}
