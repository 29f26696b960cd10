// Package isomap maps encounters to and from ISO/IEC 19794 biometric data
// interchange records, as nistmap does for ANSI/NIST-ITL transactions:
// Unwrap turns a record submitted as a sample into the samples and images
// it holds, and Export writes an encounter's samples as records.
package isomap

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"math"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/iso19794"
)

// Sample formats that say the image bytes are an ISO/IEC 19794 record
// rather than an image.
const (
	FormatFingerImage = "iso19794-4" // finger image record, 2005 or 2011
	FormatFace        = "iso19794-5" // face image record, 2005 or 2011
	FormatIris        = "iso19794-6" // iris image record, 2005 or 2011
)

// IsRecordFormat reports whether a sample format names an ISO/IEC 19794
// record or a CBEFF container of them, which Unwrap reads.
func IsRecordFormat(format string) bool {
	return format == FormatFingerImage || format == FormatFace || format == FormatIris || format == FormatCBEFF
}

// UnwrapAll replaces every sample whose format is a record format by the
// samples of the images its record holds (Unwrap), keeping the others and
// the order. Errors are EINVALID or EUNSUPPORTED and name the sample.
func UnwrapAll(samples []*huella.Sample, images [][]byte) ([]*huella.Sample, [][]byte, error) {
	if len(samples) != len(images) {
		return nil, nil, huella.Errorf(huella.EINVALID, "every sample needs exactly one image")
	}
	unwrapped := false
	for _, s := range samples {
		unwrapped = unwrapped || IsRecordFormat(s.Format)
	}
	if !unwrapped {
		return samples, images, nil
	}
	var outSamples []*huella.Sample
	var outImages [][]byte
	for i, s := range samples {
		if !IsRecordFormat(s.Format) {
			outSamples, outImages = append(outSamples, s), append(outImages, images[i])
			continue
		}
		ss, ims, err := Unwrap(s, images[i])
		if err != nil {
			return nil, nil, huella.Errorf(huella.ErrorCode(err), "samples[%d]: %s", i, huella.ErrorMessage(err))
		}
		outSamples, outImages = append(outSamples, ss...), append(outImages, ims...)
	}
	return outSamples, outImages, nil
}

// Unwrap reads the ISO/IEC 19794 record that a sample of a record format
// (FormatFingerImage, FormatFace, FormatIris; FormatCBEFF for a CBEFF
// container of them) arrived in and returns one
// sample per image the record holds, with the image's bytes as the record
// holds them (WSQ, JPEG, JPEG 2000, PNG; raw pixels as PNG, losslessly).
// Each sample takes the finger position, impression, resolution or eye
// from the record; a value the request states as well must agree with it,
// and one the record leaves unstated (position 0, eye undefined) is taken
// from the request. The returned samples' Format is empty: enrollment
// reads it from the image. Errors are EINVALID for a record that does not
// decode or disagrees with the request, EUNSUPPORTED for images Huella
// does not decode (bit-packed, JPEG-LS, RGB raw) or positions it does not
// enroll (palms).
func Unwrap(smp *huella.Sample, data []byte) ([]*huella.Sample, [][]byte, error) {
	if smp.Format == FormatCBEFF {
		return unwrapCBEFF(smp, data)
	}
	want := map[string]huella.Modality{FormatFingerImage: huella.ModalityFinger, FormatFace: huella.ModalityFace, FormatIris: huella.ModalityIris}[smp.Format]
	if want == "" {
		return nil, nil, huella.Errorf(huella.EINVALID, "format %q is not an ISO/IEC 19794 record format", smp.Format)
	}
	if smp.Modality != "" && smp.Modality != want {
		return nil, nil, huella.Errorf(huella.EINVALID, "a %s record holds %s samples, not %s", smp.Format, want, smp.Modality)
	}
	var magic string
	if len(data) >= 8 {
		magic = string(data[:4])
	}
	version := ""
	if len(data) >= 8 {
		version = string(data[4:7])
	}
	var (
		samples []*huella.Sample
		images  [][]byte
		err     error
	)
	switch {
	case want == huella.ModalityFinger && magic == "FIR\x00":
		samples, images, err = unwrapFinger(smp, data, version)
	case want == huella.ModalityIris && magic == "IIR\x00":
		samples, images, err = unwrapIris(smp, data, version)
	case want == huella.ModalityFace && magic == "FAC\x00":
		samples, images, err = unwrapFace(smp, data, version)
	default:
		return nil, nil, huella.Errorf(huella.EINVALID, "the image is not an ISO/IEC 19794 %s record (%q expected)", smp.Format,
			map[huella.Modality]string{huella.ModalityFinger: "FIR", huella.ModalityIris: "IIR", huella.ModalityFace: "FAC"}[want])
	}
	if err != nil {
		return nil, nil, err
	}
	if len(samples) == 0 {
		return nil, nil, huella.Errorf(huella.EINVALID, "the %s record holds no image", smp.Format)
	}
	return samples, images, nil
}

// recordError is the EINVALID error for a record that does not decode: the
// decoder's message names the field, never a biometric value.
func recordError(err error) error {
	return huella.Errorf(huella.EINVALID, "ISO/IEC 19794 record does not decode: %v", err)
}

// base copies the request's sample without its format: the image's own
// format is read at inspection.
func base(smp *huella.Sample, modality huella.Modality) *huella.Sample {
	s := *smp
	s.Modality, s.Format, s.Template = modality, "", nil
	return &s
}

func unwrapFinger(smp *huella.Sample, data []byte, version string) ([]*huella.Sample, [][]byte, error) {
	type view struct {
		position   iso19794.FingerPosition
		impression iso19794.ImpressionType
		scale      uint8
		resX       uint16
		encoding   iso19794.FingerImageCompression
		depth      uint8
		width      uint16
		height     uint16
		data       []byte
	}
	var views []view
	switch version {
	case "010":
		rec, err := iso19794.Iso19794p4v2005Codec{}.Decode(data)
		if err != nil {
			return nil, nil, recordError(err)
		}
		for _, v := range rec.Views {
			views = append(views, view{v.Position, v.Impression, rec.ScaleUnits, rec.ImageResX, rec.Compression, rec.PixelDepth, v.Width, v.Height, v.Data})
		}
	case "020":
		rec, err := iso19794.Iso19794p4v2011Codec{}.Decode(data)
		if err != nil {
			return nil, nil, recordError(err)
		}
		for _, p := range rec.Representations {
			enc, ok := p.Compression.Encoding()
			if !ok {
				return nil, nil, huella.Errorf(huella.EINVALID, "finger image of compression code %d", uint8(p.Compression))
			}
			views = append(views, view{p.Position, p.Impression, p.ScaleUnits, p.ImageResX, enc, p.BitDepth, p.Width, p.Height, p.Data})
		}
	default:
		return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "finger image record of version %q: only ISO/IEC 19794-4:2005 (010) and 2011 (020) are read", version)
	}
	var samples []*huella.Sample
	var images [][]byte
	for i, v := range views {
		s := base(smp, huella.ModalityFinger)
		position, err := fingerPosition(v.position)
		if err != nil {
			return nil, nil, err
		}
		if position != huella.FingerUnknown {
			if s.Position != huella.FingerUnknown && s.Position != position {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: position %d declared, the record says %d", i+1, s.Position, position)
			}
			s.Position = position
		}
		if v.position == 11 || v.position == 12 { // plain thumbs, enrolled as plain impressions of the thumb
			v.impression = 0
		}
		switch v.impression {
		case 0, 2: // live-scan and non-live-scan plain
			if s.Impression != "" && s.Impression != huella.ImpressionPlain {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: impression %s declared, the record says plain", i+1, s.Impression)
			}
			s.Impression = huella.ImpressionPlain
		case 1, 3: // live-scan and non-live-scan rolled
			if s.Impression != "" && s.Impression != huella.ImpressionRolled {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: impression %s declared, the record says rolled", i+1, s.Impression)
			}
			s.Impression = huella.ImpressionRolled
		default:
			if s.Impression == "" {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: impression type %d (%v) is neither plain nor rolled: declare the impression", i+1, uint8(v.impression), v.impression)
			}
		}
		if ppi := recordPPI(v.scale, v.resX); ppi > 0 {
			if s.PPI != 0 && math.Abs(float64(s.PPI-ppi)) > 0.02*float64(ppi) {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: %d ppi declared, the record says %d", i+1, s.PPI, ppi)
			}
			s.PPI = ppi
		}
		img, err := fingerImageBytes(v.encoding, v.depth, int(v.width), int(v.height), v.data)
		if err != nil {
			return nil, nil, huella.Errorf(huella.ErrorCode(err), "image %d: %s", i+1, huella.ErrorMessage(err))
		}
		samples, images = append(samples, s), append(images, img)
	}
	return samples, images, nil
}

// fingerPosition maps an ISO/IEC 19794-4 finger position to the FGP code
// a sample carries: the codes are ANSI/NIST's, and the plain thumbs (11,
// 12) become the thumbs. Palms and the other multi-finger codes are
// EUNSUPPORTED.
func fingerPosition(p iso19794.FingerPosition) (int, error) {
	switch {
	case p <= 10:
		return int(p), nil
	case p == 11:
		return huella.FingerRightThumb, nil
	case p == 12:
		return huella.FingerLeftThumb, nil
	case p >= 13 && p <= 15:
		return int(p), nil
	}
	return 0, huella.Errorf(huella.EUNSUPPORTED, "finger position %d is not enrolled (fingers 0-12 and slaps 13-15 are)", uint8(p))
}

// recordPPI converts a record's image resolution to pixels per inch
// (scale units 1 per inch, 2 per centimetre); 0 when not given.
func recordPPI(scale uint8, res uint16) int {
	switch scale {
	case 1:
		return int(res)
	case 2:
		return int(math.Round(float64(res) * 2.54))
	}
	return 0
}

// fingerImageBytes returns the bytes of a finger image as enrollment
// takes them: encoded images as they are, raw 8-bit pixels as PNG.
func fingerImageBytes(enc iso19794.FingerImageCompression, depth uint8, w, h int, data []byte) ([]byte, error) {
	switch enc {
	case iso19794.FingerWSQ, iso19794.FingerJPEG, iso19794.FingerJPEG2000, iso19794.FingerPNG:
		return data, nil
	case iso19794.FingerUncompressed:
		if depth != 8 || w <= 0 || h <= 0 || w*h != len(data) {
			return nil, huella.Errorf(huella.EINVALID, "raw image of %dx%d pixels at %d bits in %d bytes", w, h, depth, len(data))
		}
		return grayPNG(w, h, data)
	}
	return nil, huella.Errorf(huella.EUNSUPPORTED, "%v finger images are not read", enc)
}

// grayPNG encodes raw 8-bit grey pixels, row by row, as PNG.
func grayPNG(w, h int, pix []byte) ([]byte, error) {
	if int64(w)*int64(h) > iso19794.MaxImagePixels {
		return nil, huella.Errorf(huella.EINVALID, "raw image of %dx%d pixels is too large", w, h)
	}
	img := &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unwrapIris(smp *huella.Sample, data []byte, version string) ([]*huella.Sample, [][]byte, error) {
	type iris struct {
		eye  iso19794.EyeLabel
		data []byte
		raw  func() (image.Image, error) // nil unless raw pixels
	}
	var irises []iris
	switch version {
	case "020":
		rec, err := iso19794.Iso19794p6v2011Codec{}.Decode(data)
		if err != nil {
			return nil, nil, recordError(err)
		}
		for i := range rec.Representations {
			p := &rec.Representations[i]
			it := iris{eye: p.Eye, data: p.Data}
			switch {
			case p.ImageFormat == iso19794.IrisRaw && iso19794.DetectImageEncoding(p.Data) == iso19794.EncodingUnknown:
				it.raw = p.DecodeImage
			case iso19794.DetectImageEncoding(p.Data) == iso19794.EncodingUnknown:
				return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "iris image %d: %v images are not read", i+1, p.ImageFormat)
			}
			irises = append(irises, it)
		}
	case "010":
		rec, err := iso19794.Iso19794p6v2005Codec{}.Decode(data)
		if err != nil {
			return nil, nil, recordError(err)
		}
		for _, st := range rec.Subtypes {
			for j := range st.Images {
				img := &st.Images[j]
				it := iris{eye: st.Eye, data: img.Data}
				switch {
				case rec.ImageFormat == iso19794.Iris2005MonoRaw && iso19794.DetectImageEncoding(img.Data) == iso19794.EncodingUnknown:
					it.raw = func() (image.Image, error) { return rec.DecodeImage(img) }
				case iso19794.DetectImageEncoding(img.Data) == iso19794.EncodingUnknown:
					return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "%v iris images are not read", rec.ImageFormat)
				}
				irises = append(irises, it)
			}
		}
	default:
		return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "iris record of version %q: only ISO/IEC 19794-6:2005 (010) and 2011 (020) are read", version)
	}
	var samples []*huella.Sample
	var images [][]byte
	for i, it := range irises {
		s := base(smp, huella.ModalityIris)
		var eye huella.Eye
		switch it.eye {
		case iso19794.EyeRight:
			eye = huella.EyeRight
		case iso19794.EyeLeft:
			eye = huella.EyeLeft
		}
		if eye != "" {
			if s.Eye != "" && s.Eye != eye {
				return nil, nil, huella.Errorf(huella.EINVALID, "image %d: %s eye declared, the record says %s", i+1, s.Eye, eye)
			}
			s.Eye = eye
		}
		img := it.data
		if it.raw != nil {
			m, err := it.raw()
			if err != nil {
				if errors.Is(err, iso19794.ErrUnsupportedImage) {
					return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "iris image %d: %v", i+1, err)
				}
				return nil, nil, recordError(err)
			}
			g := m.(*image.Gray)
			if img, err = grayPNG(g.Rect.Dx(), g.Rect.Dy(), g.Pix); err != nil {
				return nil, nil, err
			}
		}
		samples, images = append(samples, s), append(images, img)
	}
	return samples, images, nil
}

func unwrapFace(smp *huella.Sample, data []byte, version string) ([]*huella.Sample, [][]byte, error) {
	var images [][]byte
	switch version {
	case "010":
		rec, err := iso19794.Iso19794p5v2005Codec{}.Decode(data)
		if err != nil {
			return nil, nil, recordError(err)
		}
		for _, f := range rec.Images {
			images = append(images, f.Data)
		}
	case "030":
		rec, err := iso19794.Iso19794p5v2011Codec{}.Decode(data)
		if errors.Is(err, iso19794.ErrUnsupportedRecord) {
			return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "face record: %v", err)
		}
		if err != nil {
			return nil, nil, recordError(err)
		}
		for _, f := range rec.Representations {
			images = append(images, f.Data)
		}
	default:
		return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "face record of version %q: only ISO/IEC 19794-5:2005 (010) and 2011 (030) are read", version)
	}
	samples := make([]*huella.Sample, len(images))
	for i := range images {
		samples[i] = base(smp, huella.ModalityFace)
	}
	return samples, images, nil
}
