package isomap_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/cbeff"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	_ "github.com/huella-abis/huella/internal/jpeg2000" // register JPEG 2000
	"github.com/huella-abis/huella/iso19794"
	"github.com/huella-abis/huella/isomap"
	_ "github.com/huella-abis/huella/wsq" // register WSQ
)

func mustRead(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func mustGray(tb testing.TB, data []byte) *image.Gray {
	tb.Helper()
	img, _, err := imgproc.Decode(data, imgproc.MaxPixels)
	if err != nil {
		tb.Fatalf("decode: %v", err)
	}
	return imgproc.ToGray(img)
}

func samePixels(a, b *image.Gray) bool {
	if a.Rect.Dx() != b.Rect.Dx() || a.Rect.Dy() != b.Rect.Dy() {
		return false
	}
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			if a.GrayAt(a.Rect.Min.X+x, a.Rect.Min.Y+y) != b.GrayAt(b.Rect.Min.X+x, b.Rect.Min.Y+y) {
				return false
			}
		}
	}
	return true
}

// realEncounter is an encounter of real dataset images in the formats
// Huella stores: a TIFF finger (FVC2002), a WSQ finger and a JPEG 2000
// finger (libbiomeval), a JPEG iris (CASIA-Interval) and a JPEG face
// (LFW).
func realEncounter(tb testing.TB) (*huella.Encounter, map[*huella.Sample][]byte) {
	tb.Helper()
	e := &huella.Encounter{ID: "enc_1", CapturedAt: time.Date(2026, 12, 7, 10, 30, 15, 250e6, time.UTC)}
	images := map[*huella.Sample][]byte{}
	add := func(s *huella.Sample, rel string) {
		data := mustRead(tb, rel)
		g := mustGray(tb, data)
		s.Width, s.Height = g.Rect.Dx(), g.Rect.Dy()
		e.Samples = append(e.Samples, s)
		images[s] = data
	}
	add(&huella.Sample{Modality: huella.ModalityFinger, Position: 2, Impression: huella.ImpressionPlain, Format: "tiff", PPI: 500}, "fingerprint/fvc2002/DB1_B/101_1.tif")
	add(&huella.Sample{Modality: huella.ModalityFinger, Position: 7, Impression: huella.ImpressionRolled, Format: "wsq", PPI: 500}, "fingerprint/libbiomeval/img.wsq")
	add(&huella.Sample{Modality: huella.ModalityFinger, Position: 2, Impression: huella.ImpressionPlain, Format: "jp2", PPI: 500}, "fingerprint/libbiomeval/img.jp2")
	add(&huella.Sample{Modality: huella.ModalityIris, Eye: huella.EyeLeft, Format: "jpeg"}, "iris/casia-interval/001/L/S1001L01.jpg")
	add(&huella.Sample{Modality: huella.ModalityFace, Format: "jpeg"}, "face/lfw10-unaligned/images/Ariel_Sharon/Ariel_Sharon_0001.jpg")
	return e, images
}

// TestExportReadsBackEqual: an encounter of real images written as ISO
// records reads back with our decoders as the same images (pixel for
// pixel; the JPEG face byte for byte), positions, impressions, eyes and
// resolutions; and the records, unwrapped as enrollment unwraps them, give
// the same samples again.
func TestExportReadsBackEqual(t *testing.T) {
	e, images := realEncounter(t)
	recs, err := isomap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil })
	if err != nil {
		t.Fatal(err)
	}
	fir, err := iso19794.Iso19794p4v2011Codec{Strict: true}.Decode(recs.FingerImage)
	if err != nil {
		t.Fatalf("finger image record: %v", err)
	}
	if len(fir.Representations) != 3 || fir.Positions != 2 {
		t.Fatalf("finger record: %d images of %d positions, want 3 of 2", len(fir.Representations), fir.Positions)
	}
	if got, _ := fir.Representations[0].Captured.Time(); !got.Equal(e.CapturedAt) {
		t.Errorf("capture time %v, want %v", got, e.CapturedAt)
	}
	wantCompression := []iso19794.FingerImageCompression2011{iso19794.Finger2011PNG, iso19794.Finger2011WSQ, iso19794.Finger2011JPEG2000Lossy}
	for i, p := range fir.Representations {
		s := e.Samples[i]
		if int(p.Position) != s.Position || p.Compression != wantCompression[i] || p.ImageResX != 500 ||
			int(p.Width) != s.Width || int(p.Height) != s.Height || (p.Impression == 1) != (s.Impression == huella.ImpressionRolled) {
			t.Errorf("finger %d: position %d impression %d %v %d ppi %dx%d", i, p.Position, p.Impression, p.Compression, p.ImageResX, p.Width, p.Height)
		}
		if !samePixels(mustGray(t, p.Data), mustGray(t, images[s])) {
			t.Errorf("finger %d: the record's image differs from the stored one", i)
		}
	}
	if fir.Representations[2].Number != 2 {
		t.Errorf("second image of position 2 numbered %d, want 2", fir.Representations[2].Number)
	}
	iir, err := iso19794.Iso19794p6v2011Codec{Strict: true}.Decode(recs.Iris)
	if err != nil {
		t.Fatalf("iris record: %v", err)
	}
	if len(iir.Representations) != 1 || iir.Representations[0].Eye != iso19794.EyeLeft || iir.Representations[0].ImageFormat != iso19794.IrisPNG {
		t.Fatalf("iris record: %+v", iir.Representations)
	}
	m, err := iir.Representations[0].DecodeImage()
	if err != nil {
		t.Fatal(err)
	}
	if !samePixels(imgproc.ToGray(m), mustGray(t, images[e.Samples[3]])) {
		t.Error("iris: the record's image differs from the stored one")
	}
	fac, err := iso19794.Iso19794p5v2005Codec{Strict: true}.Decode(recs.Face)
	if err != nil {
		t.Fatalf("face record: %v", err)
	}
	if len(fac.Images) != 1 || string(fac.Images[0].Data) != string(images[e.Samples[4]]) || fac.Images[0].DataType != iso19794.FaceJPEG {
		t.Fatal("face record does not hold the stored JPEG as it is")
	}

	// Enrollment's side: the records unwrap into the same samples.
	var got []*huella.Sample
	var gotImages [][]byte
	for _, r := range []struct {
		format string
		data   []byte
	}{{isomap.FormatFingerImage, recs.FingerImage}, {isomap.FormatIris, recs.Iris}, {isomap.FormatFace, recs.Face}} {
		ss, ims, err := isomap.Unwrap(&huella.Sample{Format: r.format}, r.data)
		if err != nil {
			t.Fatalf("unwrap %s: %v", r.format, err)
		}
		got, gotImages = append(got, ss...), append(gotImages, ims...)
	}
	if len(got) != len(e.Samples) {
		t.Fatalf("%d samples unwrapped, want %d", len(got), len(e.Samples))
	}
	for i, s := range got {
		w := e.Samples[i]
		if s.Modality != w.Modality || s.Position != w.Position || s.Impression != w.Impression || s.Eye != w.Eye || s.PPI != w.PPI {
			t.Errorf("sample %d unwrapped as %+v, want %+v", i, s, w)
		}
		if !samePixels(mustGray(t, gotImages[i]), mustGray(t, images[w])) {
			t.Errorf("sample %d: unwrapped image differs", i)
		}
	}
}

// TestUnwrapRealRecords: the ISO records of other writers in the datasets
// (MOSIP's finger image records with JPEG 2000 inside, libbiomeval's face
// and iris records) unwrap into samples whose images decode.
func TestUnwrapRealRecords(t *testing.T) {
	for _, c := range []struct {
		rel, format string
		want        huella.Sample
	}{
		{"fingerprint/mosip-iso/FingerPrintLeft_Index.iso", isomap.FormatFingerImage, huella.Sample{Modality: huella.ModalityFinger, Position: 7, Impression: huella.ImpressionPlain, PPI: 500}},
		{"fingerprint/mosip-iso/FingerPrintRight_Thumb.iso", isomap.FormatFingerImage, huella.Sample{Modality: huella.ModalityFinger, Position: 1, Impression: huella.ImpressionPlain, PPI: 500}},
		{"fingerprint/libbiomeval/face01.iso2005", isomap.FormatFace, huella.Sample{Modality: huella.ModalityFace}},
		{"fingerprint/libbiomeval/iris01.iso2011", isomap.FormatIris, huella.Sample{Modality: huella.ModalityIris}},
	} {
		t.Run(c.rel, func(t *testing.T) {
			ss, ims, err := isomap.Unwrap(&huella.Sample{Format: c.format}, mustRead(t, c.rel))
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) != 1 {
				t.Fatalf("%d samples, want 1", len(ss))
			}
			s := ss[0]
			if s.Modality != c.want.Modality || s.Position != c.want.Position || s.Impression != c.want.Impression || s.PPI != c.want.PPI {
				t.Errorf("sample %+v, want %+v", s, c.want)
			}
			if c.want.Modality == huella.ModalityIris && s.Eye == "" {
				t.Error("iris sample without an eye")
			}
			if g := mustGray(t, ims[0]); g.Rect.Dx() < 40 || g.Rect.Dy() < 40 /* libbiomeval's iris is 76x47 */ {
				t.Errorf("image of %v", g.Rect)
			}
		})
	}
}

// TestUnwrapErrors: a record that disagrees with the request, is of the
// wrong kind or is cut short is refused with EINVALID; palms are
// EUNSUPPORTED.
func TestUnwrapErrors(t *testing.T) {
	fir := mustRead(t, "fingerprint/mosip-iso/FingerPrintLeft_Index.iso")
	iris := mustRead(t, "fingerprint/libbiomeval/iris01.iso2011")
	palm := func() []byte {
		rec, err := iso19794.Iso19794p4v2005Codec{}.Decode(fir)
		if err != nil {
			t.Fatal(err)
		}
		rec.Views[0].Position = 22 // right full palm
		b, err := iso19794.Iso19794p4v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	for _, c := range []struct {
		name string
		smp  huella.Sample
		data []byte
		code string
	}{
		{"ErrPositionDisagrees", huella.Sample{Format: isomap.FormatFingerImage, Position: 2}, fir, huella.EINVALID},
		{"ErrImpressionDisagrees", huella.Sample{Format: isomap.FormatFingerImage, Impression: huella.ImpressionRolled}, fir, huella.EINVALID},
		{"ErrPPIDisagrees", huella.Sample{Format: isomap.FormatFingerImage, PPI: 1000}, fir, huella.EINVALID},
		{"ErrModality", huella.Sample{Format: isomap.FormatFingerImage, Modality: huella.ModalityIris}, fir, huella.EINVALID},
		{"ErrWrongRecord", huella.Sample{Format: isomap.FormatFingerImage}, iris, huella.EINVALID},
		{"ErrTruncated", huella.Sample{Format: isomap.FormatFingerImage}, fir[:len(fir)/2], huella.EINVALID},
		{"ErrEmpty", huella.Sample{Format: isomap.FormatIris}, nil, huella.EINVALID},
		{"ErrPalm", huella.Sample{Format: isomap.FormatFingerImage}, palm, huella.EUNSUPPORTED},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := isomap.Unwrap(&c.smp, c.data)
			if huella.ErrorCode(err) != c.code {
				t.Errorf("err %v, want %s", err, c.code)
			}
		})
	}
	if _, _, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatFingerImage, Position: 7, PPI: 500}, fir); err != nil {
		t.Errorf("agreeing request: %v", err)
	}
	_, _, err := isomap.UnwrapAll([]*huella.Sample{{Format: "png"}, {Format: isomap.FormatFingerImage, Position: 3}}, [][]byte{{1}, fir})
	var herr *huella.Error
	if !errors.As(err, &herr) || herr.Message[:10] != "samples[1]" {
		t.Errorf("UnwrapAll error %v does not name samples[1]", err)
	}
}

// TestCBEFFRoundTrip: the encounter written as a CBEFF container (one BDB
// per sample, with its subtype) unwraps, as enrollment does with a sample
// of format cbeff, into the same samples and images.
func TestCBEFFRoundTrip(t *testing.T) {
	e, images := realEncounter(t)
	doc, err := isomap.ExportCBEFF(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil })
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cbeff.Unmarshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	wantSubtype := []string{"Right IndexFinger", "Left IndexFinger", "Right IndexFinger", "Left", ""}
	for i, r := range recs {
		if r.Subtype != wantSubtype[i] || r.FormatOwner != "257" {
			t.Errorf("BDB %d: owner %s subtype %q, want 257 %q", i, r.FormatOwner, r.Subtype, wantSubtype[i])
		}
	}
	got, gotImages, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatCBEFF}, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(e.Samples) {
		t.Fatalf("%d samples, want %d", len(got), len(e.Samples))
	}
	for i, s := range got {
		w := e.Samples[i]
		if s.Modality != w.Modality || s.Position != w.Position || s.Eye != w.Eye || !samePixels(mustGray(t, gotImages[i]), mustGray(t, images[w])) {
			t.Errorf("sample %d unwrapped as %+v, want %+v", i, s, w)
		}
	}
	if _, _, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatCBEFF, Modality: huella.ModalityIris}, doc); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("a container of fingers declared iris: %v, want EINVALID", err)
	}
}

// BenchmarkUnwrapFingerRecord: a MOSIP finger image record (JPEG 2000
// inside) turned into its sample, the image left encoded.
func BenchmarkUnwrapFingerRecord(b *testing.B) {
	data := mustRead(b, "fingerprint/mosip-iso/FingerPrintLeft_Index.iso")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatFingerImage}, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportCBEFF: the five real samples of realEncounter written as
// a CBEFF container of ISO records (the TIFF finger converted to PNG).
func BenchmarkExportCBEFF(b *testing.B) {
	e, images := realEncounter(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := isomap.ExportCBEFF(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUnwrapFace2011: libbiomeval's 2005 face (a real JPEG photograph)
// carried in an ISO/IEC 19794-5:2011 record unwraps into one face sample
// with the same JPEG; a 3-D representation is EUNSUPPORTED.
func TestUnwrapFace2011(t *testing.T) {
	old, err := iso19794.Iso19794p5v2005Codec{}.Decode(mustRead(t, "fingerprint/libbiomeval/face01.iso2005"))
	if err != nil {
		t.Fatal(err)
	}
	f := old.Images[0]
	rep := iso19794.FaceRepresentation{Gender: f.Gender, EyeColour: f.EyeColour, HairColour: f.HairColour, Properties: f.Properties,
		Expression: f.Expression, Pose: f.Pose, ImageType: f.ImageType, DataType: iso19794.Face2011JPEG, Width: f.Width, Height: f.Height,
		ColourSpace: f.ColourSpace, Data: f.Data}
	for _, p := range f.FeaturePoints {
		rep.LandmarkPoints = append(rep.LandmarkPoints, iso19794.LandmarkPoint{Type: p.Type, Code: p.Code, X: p.X, Y: p.Y})
	}
	rec, err := iso19794.Iso19794p5v2011Codec{}.Encode(&iso19794.FaceRecord2011{Representations: []iso19794.FaceRepresentation{rep}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		ss, ims, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatFace}, rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 1 || ss[0].Modality != huella.ModalityFace || string(ims[0]) != string(f.Data) {
			t.Fatalf("got %d samples (%+v), want one face with the record's JPEG", len(ss), ss)
		}
		if g := mustGray(t, ims[0]); g.Rect.Dx() != int(f.Width) || g.Rect.Dy() != int(f.Height) {
			t.Errorf("image of %v, want %dx%d", g.Rect, f.Width, f.Height)
		}
	})
	t.Run("Err3D", func(t *testing.T) {
		bad := []byte(string(rec))
		bad[len(bad)-len(f.Data)-11] = 0x81 // face image type: full frontal 3-D
		if _, _, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatFace}, bad); huella.ErrorCode(err) != huella.EUNSUPPORTED {
			t.Errorf("err %v, want %s", err, huella.EUNSUPPORTED)
		}
	})
}

// TestExportFace2011: faces written as ISO/IEC 19794-5:2011 keep a JPEG
// and a PNG as they are stored (the PNG lossless, where the 2005 edition
// would re-encode it as JPEG), convert a grey PGM losslessly to PNG, read
// back with the 2011 decoder, pixel for pixel, and unwrap as enrollment
// unwraps them into the same faces. An unknown edition is refused.
func TestExportFace2011(t *testing.T) {
	e, images := realEncounter(t)
	jpegFace := e.Samples[4]
	photo, _, err := image.Decode(bytes.NewReader(images[jpegFace]))
	if err != nil {
		t.Fatal(err)
	}
	var pngData, pgmData bytes.Buffer
	if err := png.Encode(&pngData, photo); err != nil {
		t.Fatal(err)
	}
	grey := imgproc.ToGray(photo)
	fmt.Fprintf(&pgmData, "P5\n%d %d\n255\n", grey.Rect.Dx(), grey.Rect.Dy())
	pgmData.Write(grey.Pix)
	b := photo.Bounds()
	pngFace := &huella.Sample{Modality: huella.ModalityFace, Format: "png", Width: b.Dx(), Height: b.Dy()}
	pgmFace := &huella.Sample{Modality: huella.ModalityFace, Format: "pgm", Width: b.Dx(), Height: b.Dy()}
	e.Samples = append(e.Samples, pngFace, pgmFace)
	images[pngFace], images[pgmFace] = pngData.Bytes(), pgmData.Bytes()
	get := func(s *huella.Sample) ([]byte, error) { return images[s], nil }

	recs, err := isomap.ExportWith(e, get, isomap.Options{FaceVersion: 2011})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := iso19794.Iso19794p5v2011Codec{Strict: true}.Decode(recs.Face)
	if err != nil {
		t.Fatalf("face record: %v", err)
	}
	if len(rec.Representations) != 3 {
		t.Fatalf("%d face images, want 3", len(rec.Representations))
	}
	want := []struct {
		typ    iso19794.FaceImageDataType2011
		colour uint8
		data   []byte // nil: converted
	}{{iso19794.Face2011JPEG, 1, images[jpegFace]}, {iso19794.Face2011PNG, 1, images[pngFace]}, {iso19794.Face2011PNG, 3, nil}}
	for i, f := range rec.Representations {
		w := want[i]
		if f.DataType != w.typ || f.ColourSpace != w.colour || int(f.Width) != b.Dx() || int(f.Height) != b.Dy() {
			t.Errorf("face %d: %v, colour space %d, %dx%d; want %v, %d, %dx%d", i, f.DataType, f.ColourSpace, f.Width, f.Height, w.typ, w.colour, b.Dx(), b.Dy())
		}
		if w.data != nil && !bytes.Equal(f.Data, w.data) {
			t.Errorf("face %d: the record does not hold the stored image as it is", i)
		}
		if got, _ := f.Captured.Time(); !got.Equal(e.CapturedAt) {
			t.Errorf("face %d: capture time %v, want %v", i, got, e.CapturedAt)
		}
	}
	m, err := rec.Representations[1].DecodeImage()
	if err != nil {
		t.Fatal(err)
	}
	if !sameRGB(m, photo) {
		t.Error("the PNG face does not read back pixel for pixel")
	}
	if m, err = rec.Representations[2].DecodeImage(); err != nil {
		t.Fatal(err)
	}
	if !samePixels(imgproc.ToGray(m), grey) {
		t.Error("the PGM face, as PNG, does not read back pixel for pixel")
	}

	ss, ims, err := isomap.Unwrap(&huella.Sample{Format: isomap.FormatFace}, recs.Face)
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	if len(ss) != 3 || ss[0].Modality != huella.ModalityFace || !bytes.Equal(ims[0], images[jpegFace]) || !bytes.Equal(ims[1], images[pngFace]) {
		t.Errorf("unwrapped %d samples, want the 3 faces with the stored JPEG and PNG", len(ss))
	}

	// The default stays 2005, which re-encodes the PNG as JPEG.
	if recs, err = isomap.Export(e, get); err != nil {
		t.Fatal(err)
	}
	old, err := iso19794.Iso19794p5v2005Codec{Strict: true}.Decode(recs.Face)
	if err != nil || len(old.Images) != 3 || old.Images[1].DataType != iso19794.FaceJPEG {
		t.Errorf("default face record: %v, want 2005 with the PNG as JPEG", err)
	}
	if _, err := isomap.ExportWith(e, get, isomap.Options{FaceVersion: 2008}); huella.ErrorCode(err) != huella.EINVALID {
		t.Errorf("face version 2008: %v, want EINVALID", err)
	}
}

// sameRGB says whether two images have the same 8-bit RGB pixels.
func sameRGB(a, b image.Image) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			r1, g1, b1, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			if r1>>8 != r2>>8 || g1>>8 != g2>>8 || b1>>8 != b2>>8 {
				return false
			}
		}
	}
	return true
}
