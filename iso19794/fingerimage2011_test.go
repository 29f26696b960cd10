package iso19794_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"reflect"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iso19794"
)

// mosipAs2011 rewrites MOSIP's two ISO/IEC 19794-4:2005 records (JPEG 2000
// prints from a national ID platform's test resources) as one 2011 record,
// the edition MOSIP's devices send: same images, positions and qualities,
// with a quality block, a certification block and an extended data block
// (an empty comment) on each representation.
func mosipAs2011(tb testing.TB) *iso19794.FingerImageRecord2011 {
	tb.Helper()
	rec := &iso19794.FingerImageRecord2011{CertificationFlag: 1}
	for i, file := range []string{"fingerprint/mosip-iso/FingerPrintLeft_Index.iso", "fingerprint/mosip-iso/FingerPrintRight_Thumb.iso"} {
		old, err := iso19794.Iso19794p4v2005Codec{}.Decode(mustRead(tb, file))
		if err != nil {
			tb.Fatal(err)
		}
		v := old.Views[0]
		rec.Representations = append(rec.Representations, iso19794.FingerImageRepresentation{
			Captured:         iso19794.CaptureDateTime{Year: 2026, Month: 12, Day: 7, Hour: 15, Minute: 40, Second: byte(i), Millisecond: 0xFFFF},
			DeviceTechnology: 1, DeviceVendorID: 0x0101, DeviceTypeID: 7,
			Quality:        []iso19794.QualityBlock{{Score: v.Quality, AlgorithmVendorID: 0x000F, AlgorithmID: 0x0001}},
			Certifications: []iso19794.CertificationBlock{{AuthorityID: 0x0001, SchemeID: 0x01}},
			Position:       v.Position, Number: uint8(i + 1), ScaleUnits: old.ScaleUnits,
			ScanResX: old.ScanResX, ScanResY: old.ScanResY, ImageResX: old.ImageResX, ImageResY: old.ImageResY,
			BitDepth: old.PixelDepth, Compression: iso19794.Finger2011JPEG2000Lossless, Impression: v.Impression,
			Width: v.Width, Height: v.Height, Data: v.Data,
			Extended: []byte{0x00, 0x03, 0x00, 0x04},
		})
	}
	rec.Positions = uint8(len(rec.Representations))
	return rec
}

func TestFingerImageISO2011(t *testing.T) {
	t.Run("JPEG2000", func(t *testing.T) {
		rec := mosipAs2011(t)
		b, err := iso19794.Iso19794p4v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("FIR\x00020\x00")) {
			t.Fatalf("record starts %q", b[:8])
		}
		got, err := iso19794.Iso19794p4v2011Codec{Strict: true}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatal("decoded record differs from the one encoded")
		}
		for i := range got.Representations {
			p := &got.Representations[i]
			if enc, ok := p.Compression.Encoding(); !ok || enc != iso19794.FingerJPEG2000 {
				t.Errorf("representation %d: encoding %v, want JPEG 2000", i, enc)
			}
			// The images pass through the project's JPEG 2000 decoder.
			m, _, err := imgproc.Decode(p.Data, imgproc.MaxPixels)
			if err != nil {
				t.Fatalf("representation %d: %v", i, err)
			}
			if m.Bounds().Dx() != int(p.Width) || m.Bounds().Dy() != int(p.Height) {
				t.Errorf("representation %d: image %v, header says %dx%d", i, m.Bounds(), p.Width, p.Height)
			}
		}
		// The 2005 codec refuses the 2011 edition rather than misreading it.
		if _, err := (iso19794.Iso19794p4v2005Codec{}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("2005 codec on a 2011 record: %v, want ErrMalformed", err)
		}
	})
	t.Run("Raw", func(t *testing.T) {
		old, gray := fingerImageRecord(t, iso19794.FingerUncompressed)
		v := old.Views[0]
		rec := &iso19794.FingerImageRecord2011{Positions: 1, Representations: []iso19794.FingerImageRepresentation{{
			Position: v.Position, Number: 1, ScaleUnits: 1, ScanResX: 500, ScanResY: 500, ImageResX: 500, ImageResY: 500,
			BitDepth: 8, Compression: iso19794.Finger2011Uncompressed, Width: v.Width, Height: v.Height, Data: v.Data}}}
		b, err := iso19794.Iso19794p4v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := iso19794.Iso19794p4v2011Codec{Strict: true}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatal("decoded record differs from the one encoded")
		}
		m, err := got.Representations[0].DecodeImage()
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := m.(*image.Gray); !ok || !bytes.Equal(g.Pix, gray.Pix) {
			t.Error("the representation's image is not the print's pixels")
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		b, _ := iso19794.Iso19794p4v2011Codec{}.Encode(mosipAs2011(t))
		for _, n := range []int{0, 7, 15, 16, 30, 57, len(b) / 2, len(b) - 1} {
			if _, err := (iso19794.Iso19794p4v2011Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%d of %d bytes: %v, want ErrTruncated", n, len(b), err)
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		good, _ := iso19794.Iso19794p4v2011Codec{}.Encode(mosipAs2011(t))
		for name, edit := range map[string]func(b []byte) []byte{
			"version 010":           func(b []byte) []byte { b[5] = '1'; return b },
			"record length 10":      func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 10); return b },
			"65535 representations": func(b []byte) []byte { b[12], b[13] = 0xFF, 0xFF; return b },
			"image length too long": func(b []byte) []byte { b[16+46] = 0xFF; return b },
		} {
			b := edit(append([]byte(nil), good...))
			if _, err := (iso19794.Iso19794p4v2011Codec{}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) && !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%s: %v, want ErrMalformed or ErrTruncated", name, err)
			}
		}
	})
	t.Run("ErrStrictRepresentationLength", func(t *testing.T) {
		// A representation length that leaves out the extended data, as
		// libbiomeval's iris sample leaves out a quality block: the lenient
		// decoder reads the content, the strict one refuses.
		rec := mosipAs2011(t)
		rec.Representations = rec.Representations[:1]
		rec.Representations[0].Extended = nil
		b, _ := iso19794.Iso19794p4v2011Codec{}.Encode(rec)
		binary.BigEndian.PutUint32(b[16:], binary.BigEndian.Uint32(b[16:])-5)
		got, err := iso19794.Iso19794p4v2011Codec{}.Decode(b)
		if err != nil {
			t.Fatalf("lenient: %v", err)
		}
		if !bytes.Equal(got.Representations[0].Data, rec.Representations[0].Data) {
			t.Error("lenient: image differs")
		}
		if _, err := (iso19794.Iso19794p4v2011Codec{Strict: true}).Decode(b); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("strict: %v, want ErrMalformed", err)
		}
	})
}

func FuzzFingerImageRecord2011(f *testing.F) {
	for _, certified := range []uint8{0, 1} {
		rec := &iso19794.FingerImageRecord2011{CertificationFlag: certified, Positions: 1, Representations: []iso19794.FingerImageRepresentation{{
			Quality: []iso19794.QualityBlock{{Score: 60}}, Position: 2, Number: 1, ScaleUnits: 1, BitDepth: 8,
			Compression: iso19794.Finger2011Uncompressed, Width: 4, Height: 2, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8},
			Extended: []byte{0, 3, 0, 4}}}}
		if certified != 0 {
			rec.Representations[0].Certifications = []iso19794.CertificationBlock{{AuthorityID: 1, SchemeID: 1}}
		}
		b, err := iso19794.Iso19794p4v2011Codec{}.Encode(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p4v2011Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p4v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p4v2011Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p4v2011Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for i := range rec.Representations {
			_, _ = rec.Representations[i].DecodeImage() // must not panic
		}
	})
}
