package isomap

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iso19794"
)

// Records are an encounter's samples as ISO/IEC 19794 records, one per
// modality, nil where the encounter has no sample of it: fingers (slaps
// included) in one finger image record of ISO/IEC 19794-4:2011, irises in
// one iris image record of ISO/IEC 19794-6:2011, faces in one face image
// record of ISO/IEC 19794-5:2005 or, asked for, :2011. The 2011 editions
// are written because each image keeps its own encoding and resolution
// there. Scar, mark and tattoo photos have no ISO/IEC 19794 record and are
// left out.
type Records struct {
	FingerImage, Iris, Face []byte
}

// FaceJPEGQuality is the JPEG quality at which a face stored in a format a
// face record cannot hold (PNG, TIFF, BMP, PGM) is re-encoded: ISO/IEC
// 19794-5:2005 holds only JPEG and JPEG 2000.
const FaceJPEGQuality = 95

// Options choose what Export writes.
type Options struct {
	// FaceVersion is the edition of the face record: 2005 (0 means 2005,
	// which holds JPEG and JPEG 2000 only: other faces are re-encoded as
	// JPEG, FaceJPEGQuality) or 2011 (which holds PNG too: a PNG face is
	// written as it is, other formats converted losslessly to PNG).
	FaceVersion int
}

// validate refuses a face version other than 0, 2005 or 2011 (EINVALID).
func (opt Options) validate() error {
	switch opt.FaceVersion {
	case 0, 2005, 2011:
		return nil
	}
	return huella.Errorf(huella.EINVALID, "face record version %d: 2005 or 2011", opt.FaceVersion)
}

// Export writes the encounter's samples as ISO/IEC 19794 records, faces
// in the 2005 edition. images returns a sample's stored image bytes.
// Images already in a format the record holds are written as they are;
// others are converted losslessly to 8-bit grey PNG (fingers, irises) or
// to JPEG (faces, FaceJPEGQuality).
func Export(e *huella.Encounter, images func(*huella.Sample) ([]byte, error)) (*Records, error) {
	return ExportWith(e, images, Options{})
}

// ExportWith is Export with the editions opt chooses. A face version
// other than 0, 2005 or 2011 is EINVALID.
func ExportWith(e *huella.Encounter, images func(*huella.Sample) ([]byte, error), opt Options) (*Records, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	var fingers iso19794.FingerImageRecord2011
	var irises iso19794.IrisRecord
	var faces iso19794.FaceRecord
	var faces2011 iso19794.FaceRecord2011
	positions := map[int]bool{}
	eyes := map[huella.Eye]bool{}
	for i, s := range e.Samples {
		if s.Modality == huella.ModalitySMT {
			continue
		}
		data, err := images(s)
		if err != nil {
			return nil, fmt.Errorf("isomap: sample %d image: %w", i, err)
		}
		switch {
		case s.Modality == huella.ModalityFinger:
			positions[s.Position] = true
			p, err := fingerRepresentation(e.CapturedAt, s, data, countPosition(e.Samples[:i], s.Position)+1)
			if err != nil {
				return nil, fmt.Errorf("isomap: sample %d: %w", i, err)
			}
			fingers.Representations = append(fingers.Representations, p)
		case s.Modality == huella.ModalityIris:
			eyes[s.Eye] = true
			p, err := irisRepresentation(e.CapturedAt, s, data, len(irises.Representations)+1)
			if err != nil {
				return nil, fmt.Errorf("isomap: sample %d: %w", i, err)
			}
			irises.Representations = append(irises.Representations, p)
		case s.Modality == huella.ModalityFace && opt.FaceVersion == 2011:
			f, err := faceRepresentation(e.CapturedAt, s, data)
			if err != nil {
				return nil, fmt.Errorf("isomap: sample %d: %w", i, err)
			}
			faces2011.Representations = append(faces2011.Representations, f)
		case s.Modality == huella.ModalityFace:
			f, err := faceImage(s, data)
			if err != nil {
				return nil, fmt.Errorf("isomap: sample %d: %w", i, err)
			}
			faces.Images = append(faces.Images, f)
		}
	}
	out := &Records{}
	var err error
	if len(fingers.Representations) > 0 {
		fingers.Positions = uint8(len(positions))
		if out.FingerImage, err = (iso19794.Iso19794p4v2011Codec{}).Encode(&fingers); err != nil {
			return nil, fmt.Errorf("isomap: %w", err)
		}
	}
	if len(irises.Representations) > 0 {
		irises.Eyes = uint8(len(eyes))
		if out.Iris, err = (iso19794.Iso19794p6v2011Codec{}).Encode(&irises); err != nil {
			return nil, fmt.Errorf("isomap: %w", err)
		}
	}
	if len(faces.Images) > 0 {
		if out.Face, err = (iso19794.Iso19794p5v2005Codec{}).Encode(&faces); err != nil {
			return nil, fmt.Errorf("isomap: %w", err)
		}
	}
	if n := len(faces2011.Representations); n > 0 {
		if n > 1 {
			faces2011.TemporalSemantics = 0xFFFF // images of one encounter, in no stated order
		}
		if out.Face, err = (iso19794.Iso19794p5v2011Codec{}).Encode(&faces2011); err != nil {
			return nil, fmt.Errorf("isomap: %w", err)
		}
	}
	return out, nil
}

// SampleRecord writes one sample as an ISO/IEC 19794 record of its own,
// the edition Export writes for its modality: the one-image records that a
// CBEFF container holds one per BDB. SMT photos are EUNSUPPORTED.
func SampleRecord(captured time.Time, s *huella.Sample, data []byte) ([]byte, error) {
	return sampleRecord(captured, s, data, Options{})
}

// sampleRecord is SampleRecord in the editions opt chooses.
func sampleRecord(captured time.Time, s *huella.Sample, data []byte, opt Options) ([]byte, error) {
	switch {
	case s.Modality == huella.ModalityFinger:
		p, err := fingerRepresentation(captured, s, data, 1)
		if err != nil {
			return nil, err
		}
		return iso19794.Iso19794p4v2011Codec{}.Encode(&iso19794.FingerImageRecord2011{Positions: 1, Representations: []iso19794.FingerImageRepresentation{p}})
	case s.Modality == huella.ModalityIris:
		p, err := irisRepresentation(captured, s, data, 1)
		if err != nil {
			return nil, err
		}
		return iso19794.Iso19794p6v2011Codec{}.Encode(&iso19794.IrisRecord{Eyes: 1, Representations: []iso19794.IrisRepresentation{p}})
	case s.Modality == huella.ModalityFace && opt.FaceVersion == 2011:
		f, err := faceRepresentation(captured, s, data)
		if err != nil {
			return nil, err
		}
		return iso19794.Iso19794p5v2011Codec{}.Encode(&iso19794.FaceRecord2011{Representations: []iso19794.FaceRepresentation{f}})
	case s.Modality == huella.ModalityFace:
		f, err := faceImage(s, data)
		if err != nil {
			return nil, err
		}
		return iso19794.Iso19794p5v2005Codec{}.Encode(&iso19794.FaceRecord{Images: []iso19794.FaceImage{f}})
	}
	return nil, huella.Errorf(huella.EUNSUPPORTED, "%s samples have no ISO/IEC 19794 record", s.Modality)
}

func countPosition(samples []*huella.Sample, position int) int {
	n := 0
	for _, s := range samples {
		if s.Modality == huella.ModalityFinger && s.Position == position {
			n++
		}
	}
	return n
}

// captureTime is the encounter's capture time as a record stores it, in
// UTC; all fields unspecified for a zero time.
func captureTime(t time.Time) iso19794.CaptureDateTime {
	if t.IsZero() {
		return iso19794.CaptureDateTime{Year: 0xFFFF, Month: 0xFF, Day: 0xFF, Hour: 0xFF, Minute: 0xFF, Second: 0xFF, Millisecond: 0xFFFF}
	}
	t = t.UTC()
	return iso19794.CaptureDateTime{Year: uint16(t.Year()), Month: uint8(t.Month()), Day: uint8(t.Day()),
		Hour: uint8(t.Hour()), Minute: uint8(t.Minute()), Second: uint8(t.Second()), Millisecond: uint16(t.Nanosecond() / 1e6)}
}

func fingerRepresentation(captured time.Time, s *huella.Sample, data []byte, number int) (iso19794.FingerImageRepresentation, error) {
	p := iso19794.FingerImageRepresentation{Captured: captureTime(captured), Position: iso19794.FingerPosition(s.Position),
		Number: uint8(min(number, 255)), ScaleUnits: 1, BitDepth: 8}
	if s.Impression == huella.ImpressionRolled {
		p.Impression = 1 // live-scan rolled
	}
	var err error
	p.Data, p.Width, p.Height, err = keptOrGrayPNG(s, data, "wsq", "jp2", "jpeg")
	if err != nil {
		return p, err
	}
	switch {
	case s.Format == "wsq":
		p.Compression = iso19794.Finger2011WSQ
	case s.Format == "jp2":
		p.Compression = iso19794.Finger2011JPEG2000Lossy // not known to be lossless
	case s.Format == "jpeg":
		p.Compression = iso19794.Finger2011JPEG
	default:
		p.Compression = iso19794.Finger2011PNG
	}
	ppi := s.PPI
	if ppi <= 0 || ppi > 0xFFFF {
		return p, huella.Errorf(huella.EINVALID, "finger sample without a resolution (ppi)")
	}
	p.ScanResX, p.ScanResY, p.ImageResX, p.ImageResY = uint16(ppi), uint16(ppi), uint16(ppi), uint16(ppi)
	return p, nil
}

func irisRepresentation(captured time.Time, s *huella.Sample, data []byte, number int) (iso19794.IrisRepresentation, error) {
	p := iso19794.IrisRepresentation{Captured: captureTime(captured), Number: uint16(min(number, 0xFFFF)), ImageType: 1, BitDepth: 8,
		RollAngle: iso19794.UndefinedAngle, RollAngleUncertainty: iso19794.UndefinedAngle}
	switch s.Eye {
	case huella.EyeRight:
		p.Eye = iso19794.EyeRight
	case huella.EyeLeft:
		p.Eye = iso19794.EyeLeft
	}
	var err error
	p.Data, p.Width, p.Height, err = keptOrGrayPNG(s, data, "jp2")
	if err != nil {
		return p, err
	}
	p.ImageFormat = iso19794.IrisPNG
	if s.Format == "jp2" {
		p.ImageFormat = iso19794.IrisJPEG2000
	}
	if p.Width == 640 && p.Height == 480 {
		p.ImageType = 2 // VGA
	}
	return p, nil
}

func faceImage(s *huella.Sample, data []byte) (iso19794.FaceImage, error) {
	f := iso19794.FaceImage{Data: data, ColourSpace: 1} // 24-bit RGB
	switch s.Format {
	case "jpeg":
		f.DataType = iso19794.FaceJPEG
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.ColorModel == color.GrayModel {
			f.ColourSpace = 3
		}
	case "jp2":
		f.DataType = iso19794.FaceJPEG2000
		f.ColourSpace = 0 // unspecified
	default:
		var img image.Image
		img, _, err := imgproc.Decode(data, imgproc.MaxPixels)
		if s.Format == "pgm" {
			img, err = imgproc.DecodeGray(data)
		}
		if err != nil {
			return f, huella.Errorf(huella.EINVALID, "face image does not decode: %v", err)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: FaceJPEGQuality}); err != nil {
			return f, err
		}
		f.Data, f.DataType = buf.Bytes(), iso19794.FaceJPEG
		if _, ok := img.(*image.Gray); ok {
			f.ColourSpace = 3
		}
	}
	if s.Width <= 0 || s.Width > 0xFFFF || s.Height <= 0 || s.Height > 0xFFFF {
		return f, huella.Errorf(huella.EINVALID, "face image of %dx%d pixels", s.Width, s.Height)
	}
	f.Width, f.Height = uint16(s.Width), uint16(s.Height)
	return f, nil
}

// faceRepresentation is a face as an ISO/IEC 19794-5:2011 basic image:
// JPEG, JPEG 2000 and PNG as stored, anything else converted losslessly
// to PNG (8-bit grey when the image is grey, else 8-bit RGB). What
// Huella does not record (device, gender, eye and hair colour, pose,
// landmarks) is written unspecified.
func faceRepresentation(captured time.Time, s *huella.Sample, data []byte) (iso19794.FaceRepresentation, error) {
	f := iso19794.FaceRepresentation{Captured: captureTime(captured), Data: data, ColourSpace: 1} // 24-bit sRGB
	width, height := s.Width, s.Height
	switch s.Format {
	case "jpeg":
		f.DataType = iso19794.Face2011JPEG
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.ColorModel == color.GrayModel {
			f.ColourSpace = 3
		}
	case "jp2":
		f.DataType = iso19794.Face2011JPEG2000Lossy // not known to be lossless
		f.ColourSpace = 0                           // unspecified
	default:
		f.DataType = iso19794.Face2011PNG
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		switch {
		case s.Format == "png" && err == nil:
			// Kept as it is, whatever its depth: the colour space says
			// grey, truecolour without alpha, or other (palette, alpha).
			width, height = cfg.Width, cfg.Height
			switch cfg.ColorModel {
			case color.GrayModel, color.Gray16Model:
				f.ColourSpace = 3
			case color.RGBAModel, color.RGBA64Model:
			default:
				f.ColourSpace = 4
			}
		default:
			img, _, err := imgproc.Decode(data, imgproc.MaxPixels)
			if s.Format == "pgm" {
				img, err = imgproc.DecodeGray(data)
			}
			if err != nil {
				return f, huella.Errorf(huella.EINVALID, "face image does not decode: %v", err)
			}
			if _, ok := img.(*image.Gray); ok {
				f.ColourSpace = 3
			} else {
				rgba := image.NewRGBA(img.Bounds())
				draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
				if !rgba.Opaque() {
					f.ColourSpace = 4 // other: the PNG keeps the alpha channel
				}
				img = rgba
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return f, err
			}
			f.Data, width, height = buf.Bytes(), img.Bounds().Dx(), img.Bounds().Dy()
		}
	}
	if width <= 0 || width > 0xFFFF || height <= 0 || height > 0xFFFF {
		return f, huella.Errorf(huella.EINVALID, "face image of %dx%d pixels", width, height)
	}
	f.Width, f.Height = uint16(width), uint16(height)
	return f, nil
}

// keptOrGrayPNG returns the sample's image bytes when its format is one of
// kept or a grey PNG, else the image converted losslessly to 8-bit grey
// PNG, with the image's size.
func keptOrGrayPNG(s *huella.Sample, data []byte, kept ...string) ([]byte, uint16, uint16, error) {
	size := func(w, h int) (uint16, uint16, error) {
		if w <= 0 || w > 0xFFFF || h <= 0 || h > 0xFFFF {
			return 0, 0, huella.Errorf(huella.EINVALID, "image of %dx%d pixels", w, h)
		}
		return uint16(w), uint16(h), nil
	}
	for _, k := range kept {
		if s.Format == k {
			w, h, err := size(s.Width, s.Height)
			return data, w, h, err
		}
	}
	if s.Format == "png" {
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.ColorModel == color.GrayModel {
			w, h, err := size(cfg.Width, cfg.Height)
			return data, w, h, err
		}
	}
	g, err := imgproc.DecodeGray(data)
	if err != nil {
		return nil, 0, 0, huella.Errorf(huella.EINVALID, "image does not decode: %v", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return nil, 0, 0, err
	}
	w, h, err := size(g.Rect.Dx(), g.Rect.Dy())
	return buf.Bytes(), w, h, err
}
