package iso19794_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"reflect"
	"testing"

	"github.com/huella-abis/huella/internal/demo"
	"github.com/huella-abis/huella/iso19794"
)

// fingerImageRecord returns a record of two views of a real FVC2002 print
// (the demo's fixture): as raw 8-bit pixels, or as PNG.
func fingerImageRecord(tb testing.TB, compression iso19794.FingerImageCompression) (*iso19794.FingerImageRecord, *image.Gray) {
	tb.Helper()
	data, err := demo.Fixture("finger-101_1.png")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	b := m.Bounds()
	gray := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			gray.Set(x, y, m.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	pixels := gray.Pix
	if compression == iso19794.FingerPNG {
		pixels = data
	}
	rec := &iso19794.FingerImageRecord{CaptureEquipmentCompliance: 8, CaptureEquipmentID: 0x123, AcquisitionLevel: 31,
		ScaleUnits: 1, ScanResX: 500, ScanResY: 500, ImageResX: 500, ImageResY: 500, PixelDepth: 8, Compression: compression}
	for i, pos := range []iso19794.FingerPosition{2, 3} {
		rec.Views = append(rec.Views, iso19794.FingerImageView{Position: pos, CountOfViews: 1, ViewNumber: 1, Quality: uint8(60 + i),
			Width: uint16(b.Dx()), Height: uint16(b.Dy()), Data: pixels})
	}
	return rec, gray
}

func TestFingerImageRecord(t *testing.T) {
	for _, compression := range []iso19794.FingerImageCompression{iso19794.FingerUncompressed, iso19794.FingerPNG} {
		t.Run(compression.String(), func(t *testing.T) {
			rec, gray := fingerImageRecord(t, compression)
			b, err := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("FIR\x00010\x00")) {
				t.Fatalf("record starts %q", b[:8])
			}
			got, err := iso19794.Iso19794p4v2005Codec{Strict: true}.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Fatalf("decoded record differs from the one encoded:\n%+v\n%+v", got.Views[0].Width, rec.Views[0].Width)
			}
			img, err := got.DecodeImage(&got.Views[1])
			if err != nil {
				t.Fatal(err)
			}
			if g, ok := img.(*image.Gray); !ok || !bytes.Equal(g.Pix, gray.Pix) {
				t.Error("the view's image is not the print's pixels")
			}
		})
	}
	t.Run("ErrTruncated", func(t *testing.T) {
		rec, _ := fingerImageRecord(t, iso19794.FingerUncompressed)
		b, err := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 7, 31, 40, len(b) - 1} {
			if _, err := (iso19794.Iso19794p4v2005Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) && !errors.Is(err, iso19794.ErrMalformed) {
				t.Errorf("%d of %d bytes: %v, want ErrTruncated or ErrMalformed", n, len(b), err)
			}
		}
	})
	t.Run("ErrStrictTrailing", func(t *testing.T) {
		rec, _ := fingerImageRecord(t, iso19794.FingerPNG)
		b, _ := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
		b = append(b, 0, 0, 0)
		if _, err := (iso19794.Iso19794p4v2005Codec{}).Decode(b); err != nil {
			t.Errorf("lenient decode of a record followed by 3 bytes: %v", err)
		}
		if _, err := (iso19794.Iso19794p4v2005Codec{Strict: true}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("strict decode of a record followed by 3 bytes: %v, want ErrMalformed", err)
		}
	})
	t.Run("ErrWSQUndecodedHere", func(t *testing.T) {
		rec, _ := fingerImageRecord(t, iso19794.FingerPNG)
		rec.Compression = iso19794.FingerWSQ
		if _, err := rec.DecodeImage(&rec.Views[0]); !errors.Is(err, iso19794.ErrUnsupportedImage) {
			t.Errorf("WSQ view: %v, want ErrUnsupportedImage", err)
		}
	})
}

func FuzzFingerImageRecord(f *testing.F) {
	for _, compression := range []iso19794.FingerImageCompression{iso19794.FingerUncompressed, iso19794.FingerPNG} {
		rec, _ := fingerImageRecord(f, compression)
		rec.Views = rec.Views[:1]
		rec.Views[0].Data = rec.Views[0].Data[:64] // small seeds
		b, err := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p4v2005Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p4v2005Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p4v2005Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for i := range rec.Views {
			_, _ = rec.DecodeImage(&rec.Views[i]) // must not panic
		}
	})
}
