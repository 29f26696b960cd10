package iso19794_test

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"reflect"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iso19794"
)

// irisRecord2005 wraps real iris images in an ISO/IEC 19794-6:2005 record,
// as a passport's DG4 or an iris camera's SDK would: the CASIA-Interval
// JPEG photographs of one subject's two eyes as JPEG, or their pixels raw.
func irisRecord2005(tb testing.TB, format iso19794.IrisImageFormat2005) (*iso19794.IrisRecord2005, []*image.Gray) {
	tb.Helper()
	var grays []*image.Gray
	rec := &iso19794.IrisRecord2005{CaptureDeviceID: 0x0042, Properties: 1 | 1<<2 | 1<<4, IrisDiameter: 110,
		ImageFormat: format, IntensityDepth: 8, DeviceUniqueID: [16]byte{'D', '1', '2', '3', '4'}}
	for i, eye := range []struct {
		label iso19794.EyeLabel
		file  string
	}{{iso19794.EyeRight, "iris/casia-interval/001/R/S1001R01.jpg"}, {iso19794.EyeLeft, "iris/casia-interval/001/L/S1001L01.jpg"}} {
		data := mustRead(tb, eye.file)
		m, _, err := imgproc.Decode(data, imgproc.MaxPixels)
		if err != nil {
			tb.Fatal(err)
		}
		g := image.NewGray(image.Rect(0, 0, m.Bounds().Dx(), m.Bounds().Dy()))
		draw.Draw(g, g.Bounds(), m, m.Bounds().Min, draw.Src)
		grays = append(grays, g)
		rec.Width, rec.Height = uint16(g.Bounds().Dx()), uint16(g.Bounds().Dy())
		if format == iso19794.Iris2005MonoRaw {
			data = g.Pix
		}
		rec.Subtypes = append(rec.Subtypes, iso19794.IrisSubtype2005{Eye: eye.label, Images: []iso19794.IrisImage2005{
			{Number: uint16(i + 1), Quality: 80, RotationAngle: 0x0100, RotationUncertainty: 0x0200, Data: data}}})
	}
	return rec, grays
}

func TestIrisISO2005(t *testing.T) {
	for _, format := range []iso19794.IrisImageFormat2005{iso19794.Iris2005MonoRaw, iso19794.Iris2005MonoJPEG} {
		t.Run(format.String(), func(t *testing.T) {
			rec, grays := irisRecord2005(t, format)
			b, err := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("IIR\x00010\x00")) {
				t.Fatalf("record starts %q", b[:8])
			}
			got, err := iso19794.Iso19794p6v2005Codec{Strict: true}.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Fatal("decoded record differs from the one encoded")
			}
			if got.HorizontalOrientation() != 1 || got.VerticalOrientation() != 1 || got.ScanType() != 1 || got.Images() != 2 {
				t.Errorf("properties: orientation %d/%d, scan type %d, %d images; want 1/1, 1, 2",
					got.HorizontalOrientation(), got.VerticalOrientation(), got.ScanType(), got.Images())
			}
			for i, s := range got.Subtypes {
				m, err := got.DecodeImage(&s.Images[0])
				if err != nil {
					t.Fatal(err)
				}
				if m.Bounds().Size() != grays[i].Bounds().Size() {
					t.Fatalf("eye %d: image %v, want %v", i, m.Bounds(), grays[i].Bounds())
				}
				if g, ok := m.(*image.Gray); format == iso19794.Iris2005MonoRaw && (!ok || !bytes.Equal(g.Pix, grays[i].Pix)) {
					t.Errorf("eye %d: raw image is not the photograph's pixels", i)
				}
			}
			// The 2011 codec refuses the 2005 edition rather than misreading it.
			if _, err := (iso19794.Iso19794p6v2011Codec{}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) {
				t.Errorf("2011 codec on a 2005 record: %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("JPEG2000", func(t *testing.T) {
		// libbiomeval's JPEG 2000 sample passes through the project's decoder.
		jp2 := mustRead(t, libbiomeval+"/img.jp2")
		want, _, err := imgproc.Decode(jp2, imgproc.MaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		rec := &iso19794.IrisRecord2005{ImageFormat: iso19794.Iris2005MonoJPEG2000, IntensityDepth: 8,
			Width: uint16(want.Bounds().Dx()), Height: uint16(want.Bounds().Dy()),
			Subtypes: []iso19794.IrisSubtype2005{{Eye: iso19794.EyeUndefined, Images: []iso19794.IrisImage2005{{Number: 1, Quality: 254,
				RotationAngle: iso19794.UndefinedAngle, RotationUncertainty: iso19794.UndefinedAngle, Data: jp2}}}}}
		b, err := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := iso19794.Iso19794p6v2005Codec{Strict: true}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		img := &got.Subtypes[0].Images[0]
		if _, err := got.DecodeImage(img); !errors.Is(err, iso19794.ErrUnsupportedImage) {
			t.Errorf("JPEG 2000 in the package: %v, want ErrUnsupportedImage", err)
		}
		m, _, err := imgproc.Decode(img.Data, imgproc.MaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		if m.Bounds() != want.Bounds() {
			t.Errorf("JPEG 2000 image %v, want %v", m.Bounds(), want.Bounds())
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		rec, _ := irisRecord2005(t, iso19794.Iris2005MonoJPEG)
		b, _ := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
		for _, n := range []int{0, 7, 12, 44, 45, 47, 48, 58, len(b) / 2, len(b) - 1} {
			if _, err := (iso19794.Iso19794p6v2005Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%d of %d bytes: %v, want ErrTruncated", n, len(b), err)
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		rec, _ := irisRecord2005(t, iso19794.Iris2005MonoJPEG)
		good, _ := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
		for name, edit := range map[string]func(b []byte) []byte{
			"version 030":           func(b []byte) []byte { b[5] = '3'; return b },
			"header length 46":      func(b []byte) []byte { b[16] = 46; return b },
			"record length 20":      func(b []byte) []byte { b[8], b[9], b[10], b[11] = 0, 0, 0, 20; return b },
			"image count 0xFFFF":    func(b []byte) []byte { b[46], b[47] = 0xFF, 0xFF; return b },
			"image length too long": func(b []byte) []byte { b[55] = 0xFF; return b },
		} {
			b := edit(append([]byte(nil), good...))
			if _, err := (iso19794.Iso19794p6v2005Codec{}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) && !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%s: %v, want ErrMalformed or ErrTruncated", name, err)
			}
		}
		trailing := append(append([]byte(nil), good...), 0, 0)
		if _, err := (iso19794.Iso19794p6v2005Codec{}).Decode(trailing); err != nil {
			t.Errorf("lenient decode of a record followed by 2 bytes: %v", err)
		}
		if _, err := (iso19794.Iso19794p6v2005Codec{Strict: true}).Decode(trailing); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("strict decode of a record followed by 2 bytes: %v, want ErrMalformed", err)
		}
	})
}

func FuzzIrisRecord2005(f *testing.F) {
	for _, format := range []iso19794.IrisImageFormat2005{iso19794.Iris2005MonoRaw, iso19794.Iris2005MonoJPEG} {
		rec := &iso19794.IrisRecord2005{ImageFormat: format, Width: 4, Height: 2, IntensityDepth: 8, Subtypes: []iso19794.IrisSubtype2005{
			{Eye: iso19794.EyeRight, Images: []iso19794.IrisImage2005{{Number: 1, Quality: 90, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}},
			{Eye: iso19794.EyeLeft, Images: []iso19794.IrisImage2005{{Number: 2, Quality: 254, Data: []byte{0xFF, 0xD8, 0xFF, 0xE0}}}}}}
		b, err := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p6v2005Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p6v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p6v2005Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p6v2005Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for _, s := range rec.Subtypes {
			for i := range s.Images {
				_, _ = rec.DecodeImage(&s.Images[i]) // must not panic
			}
		}
	})
}
