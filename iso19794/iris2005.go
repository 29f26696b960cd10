package iso19794

import (
	"fmt"
	"image"
)

var iirVersion10 = []byte("010\x00")

// IrisImageFormat2005 is the image format code of an ISO/IEC 19794-6:2005
// record, one for all its images. The codes differ from the 2011 edition's
// (IrisImageFormat): 0x0A is JPEG-LS here, JPEG 2000 there.
type IrisImageFormat2005 uint16

// Iris image formats of ISO/IEC 19794-6:2005.
const (
	Iris2005MonoRaw      IrisImageFormat2005 = 0x0002
	Iris2005RGBRaw       IrisImageFormat2005 = 0x0004
	Iris2005MonoJPEG     IrisImageFormat2005 = 0x0006
	Iris2005RGBJPEG      IrisImageFormat2005 = 0x0008
	Iris2005MonoJPEGLS   IrisImageFormat2005 = 0x000A
	Iris2005RGBJPEGLS    IrisImageFormat2005 = 0x000C
	Iris2005MonoJPEG2000 IrisImageFormat2005 = 0x000E
	Iris2005RGBJPEG2000  IrisImageFormat2005 = 0x0010
)

// String names the image format.
func (f IrisImageFormat2005) String() string {
	switch f {
	case Iris2005MonoRaw:
		return "raw"
	case Iris2005RGBRaw:
		return "RGB raw"
	case Iris2005MonoJPEG:
		return "JPEG"
	case Iris2005RGBJPEG:
		return "RGB JPEG"
	case Iris2005MonoJPEGLS:
		return "JPEG-LS"
	case Iris2005RGBJPEGLS:
		return "RGB JPEG-LS"
	case Iris2005MonoJPEG2000:
		return "JPEG 2000"
	case Iris2005RGBJPEG2000:
		return "RGB JPEG 2000"
	}
	return fmt.Sprintf("IrisImageFormat2005(%#04x)", uint16(f))
}

// IrisRecord2005 is an ISO/IEC 19794-6:2005 iris image record (rectilinear
// images): one header with the format, size and depth of every image, then
// per eye ("biometric subtype") its images.
type IrisRecord2005 struct {
	// CaptureDeviceID is the vendor's capture device identifier (0 unknown).
	CaptureDeviceID uint16
	// Properties is the raw image property bit field; HorizontalOrientation,
	// VerticalOrientation, ScanType, IrisOcclusion, OcclusionFilling and
	// BoundaryExtraction decode it.
	Properties uint16
	// IrisDiameter is the expected iris diameter in pixels.
	IrisDiameter uint16
	// ImageFormat is the encoding of every image's Data.
	ImageFormat IrisImageFormat2005
	// Width and Height are the raw image size in pixels.
	Width, Height uint16
	// IntensityDepth is the bits per pixel and colour.
	IntensityDepth uint8
	// ImageTransformation is 0 undefined, 1 standard (polar images only).
	ImageTransformation uint8
	// DeviceUniqueID is 16 characters: 'D' serial number, 'M' MAC address
	// or 'P' processor ID, then the value; all zeros when not given.
	DeviceUniqueID [16]byte
	// Subtypes are the eyes of the record, at most two.
	Subtypes []IrisSubtype2005
}

// IrisSubtype2005 is one eye of an ISO/IEC 19794-6:2005 record and its
// images.
type IrisSubtype2005 struct {
	// Eye is which eye the images show.
	Eye EyeLabel
	// Images are the eye's images (at most 65,535).
	Images []IrisImage2005
}

// IrisImage2005 is one iris image of an ISO/IEC 19794-6:2005 record.
type IrisImage2005 struct {
	// Number is the image sequence number.
	Number uint16
	// Quality is 0–100, 254 not computed, 255 not available.
	Quality uint8
	// RotationAngle is the eye's rotation in units of 360/65536 degrees and
	// RotationUncertainty its uncertainty in units of 180/65536 degrees;
	// UndefinedAngle when not given.
	RotationAngle, RotationUncertainty uint16
	// Data is the image, exactly as stored.
	Data []byte
}

// HorizontalOrientation returns bits 0–1 of Properties: 0 undefined, 1 base,
// 2 flipped.
func (r *IrisRecord2005) HorizontalOrientation() uint8 { return uint8(r.Properties & 0x03) }

// VerticalOrientation returns bits 2–3 of Properties: 0 undefined, 1 base,
// 2 flipped.
func (r *IrisRecord2005) VerticalOrientation() uint8 { return uint8(r.Properties >> 2 & 0x03) }

// ScanType returns bits 4–6 of Properties: 0 undefined, 1 progressive,
// 2 interlace frame, 3 interlace field, 4 corrected.
func (r *IrisRecord2005) ScanType() uint8 { return uint8(r.Properties >> 4 & 0x07) }

// IrisOcclusion returns bit 7 of Properties: 1 when occlusions were
// processed (polar images).
func (r *IrisRecord2005) IrisOcclusion() uint8 { return uint8(r.Properties >> 7 & 1) }

// OcclusionFilling returns bit 8 of Properties: 0 zero fill, 1 unit fill.
func (r *IrisRecord2005) OcclusionFilling() uint8 { return uint8(r.Properties >> 8 & 1) }

// BoundaryExtraction returns bit 9 of Properties: 1 when the iris
// boundary was extracted.
func (r *IrisRecord2005) BoundaryExtraction() uint8 { return uint8(r.Properties >> 9 & 1) }

// Images returns the number of images of all eyes.
func (r *IrisRecord2005) Images() int {
	n := 0
	for _, s := range r.Subtypes {
		n += len(s.Images)
	}
	return n
}

// DecodeImage decodes one image of the record: raw 8-bit grey pixels into
// an image.Gray of Width×Height, JPEG and PNG through the standard
// library. JPEG 2000, JPEG-LS and raw RGB give ErrUnsupportedImage (decode
// JPEG 2000 Data with the project's decoder).
func (r *IrisRecord2005) DecodeImage(img *IrisImage2005) (image.Image, error) {
	if r.ImageFormat == Iris2005MonoRaw && DetectImageEncoding(img.Data) == EncodingUnknown {
		w, h := int(r.Width), int(r.Height)
		if r.IntensityDepth != 8 || w == 0 || h == 0 || w*h != len(img.Data) {
			return nil, fmt.Errorf("iso19794: iris image: raw %dx%d at %d bits in %d bytes: %w", w, h, r.IntensityDepth, len(img.Data), ErrUnsupportedImage)
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, img.Data)
		return g, nil
	}
	m, err := decodeEmbedded(img.Data)
	if err != nil {
		return nil, fmt.Errorf("iso19794: iris image: %w", err)
	}
	return m, nil
}

// Iso19794p6v2005Codec reads and writes ISO/IEC 19794-6:2005 iris image
// records ("IIR\0", version "010\0"), the edition of ICAO passports' DG4.
type Iso19794p6v2005Codec struct {
	// Strict rejects records whose record length disagrees with their
	// content.
	Strict bool
}

const (
	iir2005HeaderLen  = 45
	iir2005SubtypeLen = 3
	iir2005ImageLen   = 11
)

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p6v2005Codec) Decode(b []byte) (*IrisRecord2005, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-6:2005: %w", err)
	}
	return rec, nil
}

func (c Iso19794p6v2005Codec) decode(b []byte) (*IrisRecord2005, error) {
	r := &reader{b: b}
	if err := r.header(iirMagic, iirVersion10); err != nil {
		return nil, err
	}
	length := int(r.u32())
	rec := &IrisRecord2005{CaptureDeviceID: r.u16()}
	n := int(r.u8())
	headerLen := int(r.u16())
	rec.Properties, rec.IrisDiameter = r.u16(), r.u16()
	rec.ImageFormat = IrisImageFormat2005(r.u16())
	rec.Width, rec.Height = r.u16(), r.u16()
	rec.IntensityDepth, rec.ImageTransformation = r.u8(), r.u8()
	copy(rec.DeviceUniqueID[:], r.take(16))
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if headerLen != iir2005HeaderLen {
		return nil, fmt.Errorf("record header length %d, the edition's is %d: %w", headerLen, iir2005HeaderLen, ErrMalformed)
	}
	if err := checkLength(length, iir2005HeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * iir2005SubtypeLen; minSize > r.remaining() {
		return nil, fmt.Errorf("%d eyes need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec.Subtypes = make([]IrisSubtype2005, n)
	for i := range rec.Subtypes {
		s := &rec.Subtypes[i]
		s.Eye = EyeLabel(r.u8())
		m := int(r.u16())
		if r.err != nil {
			return nil, fmt.Errorf("eye %d: %w", i, r.err)
		}
		if minSize := m * iir2005ImageLen; minSize > r.remaining() {
			return nil, fmt.Errorf("eye %d: %d images need at least %d bytes, %d left: %w", i, m, minSize, r.remaining(), ErrTruncated)
		}
		s.Images = make([]IrisImage2005, m)
		for j := range s.Images {
			img := &s.Images[j]
			img.Number, img.Quality = r.u16(), r.u8()
			img.RotationAngle, img.RotationUncertainty = r.u16(), r.u16()
			size := int64(r.u32())
			if r.err != nil {
				return nil, fmt.Errorf("eye %d image %d: %w", i, j, r.err)
			}
			if size > int64(r.remaining()) {
				return nil, fmt.Errorf("eye %d image %d: %d bytes, %d left: %w", i, j, size, r.remaining(), ErrTruncated)
			}
			img.Data = r.clone(int(size))
		}
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last image: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

// Encode writes rec as an ISO/IEC 19794-6:2005 record.
func (c Iso19794p6v2005Codec) Encode(rec *IrisRecord2005) ([]byte, error) {
	out, err := encodeIris2005(rec)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode ISO/IEC 19794-6:2005: %w", err)
	}
	return out, nil
}

func encodeIris2005(rec *IrisRecord2005) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Subtypes) > 255 {
		return nil, fmt.Errorf("%d eyes: %w", len(rec.Subtypes), ErrMalformed)
	}
	total := uint64(iir2005HeaderLen)
	for i, s := range rec.Subtypes {
		if len(s.Images) > 0xFFFF {
			return nil, fmt.Errorf("eye %d: %d images, at most 65535: %w", i, len(s.Images), ErrMalformed)
		}
		total += iir2005SubtypeLen
		for _, img := range s.Images {
			total += iir2005ImageLen + uint64(len(img.Data))
		}
	}
	if total > 0xFFFFFFFF {
		return nil, fmt.Errorf("record of %d bytes: %w", total, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, total)}
	w.bytes(iirMagic)
	w.bytes(iirVersion10)
	w.u32(uint32(total))
	w.u16(rec.CaptureDeviceID)
	w.u8(uint8(len(rec.Subtypes)))
	w.u16(iir2005HeaderLen)
	w.u16(rec.Properties)
	w.u16(rec.IrisDiameter)
	w.u16(uint16(rec.ImageFormat))
	w.u16(rec.Width)
	w.u16(rec.Height)
	w.u8(rec.IntensityDepth)
	w.u8(rec.ImageTransformation)
	w.bytes(rec.DeviceUniqueID[:])
	for _, s := range rec.Subtypes {
		w.u8(uint8(s.Eye))
		w.u16(uint16(len(s.Images)))
		for _, img := range s.Images {
			w.u16(img.Number)
			w.u8(img.Quality)
			w.u16(img.RotationAngle)
			w.u16(img.RotationUncertainty)
			w.u32(uint32(len(img.Data)))
			w.bytes(img.Data)
		}
	}
	return w.b, nil
}
