package iso19794_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/huella-abis/huella/iso19794"
)

func TestFaceISO2005(t *testing.T) {
	b := mustRead(t, libbiomeval+"/face01.iso2005")
	t.Run("OK", func(t *testing.T) {
		rec, err := iso19794.Iso19794p5v2005Codec{Strict: true}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rec.Images), 1; got != want {
			t.Fatalf("images: got %d, want %d", got, want)
		}
		f := rec.Images[0]
		if f.Gender != 2 || f.EyeColour != 1 || f.HairColour != 6 || f.Expression != 3 {
			t.Errorf("facial information: got gender %v, eyes %v, hair %d, expression %d; want female, black, 6, 3", f.Gender, f.EyeColour, f.HairColour, f.Expression)
		}
		if got, want := f.Pose, (iso19794.PoseAngles{Yaw: 5, Pitch: 10, Roll: 15, YawUncertainty: 21, PitchUncertainty: 26, RollUncertainty: 31}); got != want {
			t.Errorf("pose: got %+v, want %+v", got, want)
		}
		if got, want := len(f.FeaturePoints), 4; got != want {
			t.Fatalf("feature points: got %d, want %d", got, want)
		}
		for i, p := range f.FeaturePoints {
			if p.X >= f.Width || p.Y >= f.Height {
				t.Errorf("feature point %d at (%d,%d) outside %dx%d", i, p.X, p.Y, f.Width, f.Height)
			}
		}
		if got, want := f.DataType, iso19794.FaceJPEG; got != want {
			t.Fatalf("data type: got %v, want %v", got, want)
		}
		if got, want := iso19794.DetectImageEncoding(f.Data), iso19794.EncodingJPEG; got != want {
			t.Fatalf("embedded image: got %v, want %v", got, want)
		}
		img, err := f.DecodeImage()
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got.X != int(f.Width) || got.Y != int(f.Height) {
			t.Errorf("JPEG size: got %v, want %dx%d", got, f.Width, f.Height)
		}
		out, err := iso19794.Iso19794p5v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Errorf("re-encoded record differs: %d bytes, want %d", len(out), len(b))
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 3, 13, 20, 40, 77, len(b) - 1} {
			if _, err := (iso19794.Iso19794p5v2005Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%d bytes: got %v, want ErrTruncated", n, err)
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		bad := bytes.Clone(b)
		bad[0] = 'X'
		if _, err := (iso19794.Iso19794p5v2005Codec{}).Decode(bad); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("bad magic: got %v, want ErrMalformed", err)
		}
	})
}

func TestPoseAngleDegrees(t *testing.T) {
	for _, tc := range []struct {
		raw  uint8
		want int
		ok   bool
	}{
		{0, 0, false}, {1, 0, true}, {6, 10, true}, {91, 180, true}, {92, -180, true}, {181, -2, true}, {182, 0, false},
	} {
		got, ok := iso19794.PoseAngleDegrees(tc.raw)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PoseAngleDegrees(%d): got %d, %v; want %d, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}
