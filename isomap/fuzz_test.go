package isomap_test

import (
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/iso19794"
	"github.com/huella-abis/huella/isomap"
)

// FuzzUnwrap: whatever a record submitted as a sample holds, Unwrap never
// panics, and either refuses it with an EINVALID or EUNSUPPORTED error and
// no samples, or returns one image per sample, each of the record's
// modality.
func FuzzUnwrap(f *testing.F) {
	pix := make([]byte, 16*16)
	for i := range pix {
		pix[i] = uint8(i)
	}
	fir, err := iso19794.Iso19794p4v2005Codec{}.Encode(&iso19794.FingerImageRecord{ScaleUnits: 1, ImageResX: 500, ImageResY: 500, PixelDepth: 8,
		Views: []iso19794.FingerImageView{{Position: 2, Width: 16, Height: 16, Data: pix}}})
	if err != nil {
		f.Fatal(err)
	}
	fir11, err := iso19794.Iso19794p4v2011Codec{}.Encode(&iso19794.FingerImageRecord2011{Positions: 1,
		Representations: []iso19794.FingerImageRepresentation{{Position: 13, ScaleUnits: 2, ImageResX: 197, BitDepth: 8, Width: 16, Height: 16, Data: pix}}})
	if err != nil {
		f.Fatal(err)
	}
	iir, err := iso19794.Iso19794p6v2005Codec{}.Encode(&iso19794.IrisRecord2005{ImageFormat: iso19794.Iris2005MonoRaw, Width: 16, Height: 16, IntensityDepth: 8,
		Subtypes: []iso19794.IrisSubtype2005{{Eye: iso19794.EyeLeft, Images: []iso19794.IrisImage2005{{Number: 1, Data: pix}}}}})
	if err != nil {
		f.Fatal(err)
	}
	fac, err := iso19794.Iso19794p5v2005Codec{}.Encode(&iso19794.FaceRecord{Images: []iso19794.FaceImage{{Width: 16, Height: 16, Data: []byte("\xff\xd8\xff\xe0")}}})
	if err != nil {
		f.Fatal(err)
	}
	fac11, err := iso19794.Iso19794p5v2011Codec{}.Encode(&iso19794.FaceRecord2011{Representations: []iso19794.FaceRepresentation{{Width: 16, Height: 16, Data: []byte("\xff\xd8\xff\xe0")}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(1), fac11)
	f.Add(uint8(0), fir)
	f.Add(uint8(0), fir11)
	f.Add(uint8(2), iir)
	f.Add(uint8(1), fac)
	f.Add(uint8(2), fir)
	formats := []string{isomap.FormatFingerImage, isomap.FormatFace, isomap.FormatIris}
	modalities := []huella.Modality{huella.ModalityFinger, huella.ModalityFace, huella.ModalityIris}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		k := int(which) % len(formats)
		samples, images, err := isomap.Unwrap(&huella.Sample{Format: formats[k]}, data)
		if err != nil {
			if code := huella.ErrorCode(err); code != huella.EINVALID && code != huella.EUNSUPPORTED {
				t.Fatalf("error code %s: %v", code, err)
			}
			if samples != nil || images != nil {
				t.Fatal("samples returned with an error")
			}
			return
		}
		if len(samples) == 0 || len(samples) != len(images) {
			t.Fatalf("%d samples, %d images", len(samples), len(images))
		}
		for _, s := range samples {
			if s.Modality != modalities[k] || s.Format != "" {
				t.Fatalf("sample %+v from a %s record", s, formats[k])
			}
		}
	})
}
