package iso19794_test

import (
	"bytes"
	"errors"
	"image"
	"testing"

	"github.com/huella-abis/huella/iso19794"
)

func TestIrisISO2011(t *testing.T) {
	b := mustRead(t, libbiomeval+"/iris01.iso2011")
	t.Run("OK", func(t *testing.T) {
		rec, err := iso19794.Iso19794p6v2011Codec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rec.Representations), 1; got != want {
			t.Fatalf("representations: got %d, want %d", got, want)
		}
		p := rec.Representations[0]
		when, ok := p.Captured.Time()
		if !ok || when.Year() != 2005 || when.Month() != 12 || when.Day() != 15 {
			t.Errorf("capture date: got %v (%v), want 2005-12-15", when, ok)
		}
		if got, want := p.Eye, iso19794.EyeLeft; got != want {
			t.Errorf("eye: got %v, want %v", got, want)
		}
		if got, want := len(p.Quality), 2; got != want {
			t.Errorf("quality blocks: got %d, want %d", got, want)
		}
		if got, want := p.ImageFormat, iso19794.IrisPNG; got != want {
			t.Fatalf("image format: got %v, want %v", got, want)
		}
		if _, _, ok := p.RollDegrees(); ok {
			t.Errorf("roll angle: got defined, want undefined (0xFFFF)")
		}
		img, err := p.DecodeImage()
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got.X != int(p.Width) || got.Y != int(p.Height) {
			t.Errorf("PNG size: got %v, want %dx%d", got, p.Width, p.Height)
		}
		// The sample's representation length (offset 0x10) omits one quality
		// block; everything else re-encodes byte for byte.
		out, err := iso19794.Iso19794p6v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(b) {
			t.Fatalf("re-encoded length: got %d, want %d", len(out), len(b))
		}
		if !bytes.Equal(out[:0x10], b[:0x10]) || !bytes.Equal(out[0x14:], b[0x14:]) {
			t.Errorf("re-encoded record differs beyond the representation length")
		}
		if _, err := (iso19794.Iso19794p6v2011Codec{Strict: true}).Decode(out); err != nil {
			t.Errorf("strict decode of the re-encoded record: %v", err)
		}
	})
	t.Run("ErrStrictLength", func(t *testing.T) {
		if _, err := (iso19794.Iso19794p6v2011Codec{Strict: true}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 7, 15, 16, 40, 77, len(b) - 1} {
			if _, err := (iso19794.Iso19794p6v2011Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%d bytes: got %v, want ErrTruncated", n, err)
			}
		}
	})
}

func TestIrisRawImage(t *testing.T) {
	pix := make([]byte, 6*4)
	for i := range pix {
		pix[i] = uint8(10 * i)
	}
	rec := &iso19794.IrisRecord{Eyes: 1, Representations: []iso19794.IrisRepresentation{{
		Number: 1, Eye: iso19794.EyeRight, ImageType: 1, ImageFormat: iso19794.IrisRaw,
		Width: 6, Height: 4, BitDepth: 8, RollAngle: iso19794.UndefinedAngle, RollAngleUncertainty: iso19794.UndefinedAngle,
		Captured: iso19794.CaptureDateTime{Year: 2026, Month: 11, Day: 26, Hour: 12, Minute: 0, Second: 0, Millisecond: 0xFFFF},
		Data:     pix,
	}}}
	b, err := iso19794.Iso19794p6v2011Codec{}.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := iso19794.Iso19794p6v2011Codec{Strict: true}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	img, err := got.Representations[0].DecodeImage()
	if err != nil {
		t.Fatal(err)
	}
	gray, ok := img.(*image.Gray)
	if !ok || gray.Bounds().Dx() != 6 || gray.Bounds().Dy() != 4 || gray.GrayAt(5, 3).Y != pix[23] {
		t.Errorf("raw image: got %T %v, want 6x4 grey with the stored pixels", img, img.Bounds())
	}
}
