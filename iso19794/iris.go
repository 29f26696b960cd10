package iso19794

import (
	"fmt"
	"image"
	"time"
)

var (
	iirMagic     = []byte("IIR\x00")
	iirVersion20 = []byte("020\x00")
)

// EyeLabel says which eye an iris image shows: 0 undefined, 1 right, 2 left.
type EyeLabel uint8

// Eye labels.
const (
	// EyeUndefined is an eye not stated.
	EyeUndefined EyeLabel = 0
	// EyeRight is the subject's right eye.
	EyeRight EyeLabel = 1
	// EyeLeft is the subject's left eye.
	EyeLeft EyeLabel = 2
)

// String names the eye.
func (e EyeLabel) String() string {
	switch e {
	case EyeUndefined:
		return "undefined"
	case EyeRight:
		return "right"
	case EyeLeft:
		return "left"
	}
	return fmt.Sprintf("EyeLabel(%d)", uint8(e))
}

// IrisImageType is how an iris image is framed: 1 uncropped, 2 VGA
// (640×480), 3 cropped, 7 cropped and masked.
type IrisImageType uint8

// String names the image type.
func (t IrisImageType) String() string {
	switch t {
	case 1:
		return "uncropped"
	case 2:
		return "VGA"
	case 3:
		return "cropped"
	case 7:
		return "cropped and masked"
	}
	return fmt.Sprintf("IrisImageType(%d)", uint8(t))
}

// IrisImageFormat is the image format code of an iris representation.
type IrisImageFormat uint8

// Iris image formats of ISO/IEC 19794-6:2011.
const (
	// IrisRaw is uncompressed monochrome pixels, row by row.
	IrisRaw IrisImageFormat = 0x02
	// IrisJPEG2000 is a JPEG 2000 file.
	IrisJPEG2000 IrisImageFormat = 0x0A
	// IrisPNG is a PNG file.
	IrisPNG IrisImageFormat = 0x0E
)

// String names the image format.
func (f IrisImageFormat) String() string {
	switch f {
	case IrisRaw:
		return "raw"
	case IrisJPEG2000:
		return "JPEG 2000"
	case IrisPNG:
		return "PNG"
	}
	return fmt.Sprintf("IrisImageFormat(%#02x)", uint8(f))
}

// CaptureDateTime is a capture time as stored, in UTC; 0xFF (0xFFFF for
// Year and Millisecond) marks a field not given.
type CaptureDateTime struct {
	// Year, Month, Day, Hour, Minute, Second and Millisecond are the date
	// and time fields.
	Year                             uint16
	Month, Day, Hour, Minute, Second uint8
	Millisecond                      uint16
}

// Time returns the capture time, with an unspecified millisecond taken as
// zero, and false when the date or time of day is not specified or invalid.
func (d CaptureDateTime) Time() (time.Time, bool) {
	if d.Year == 0xFFFF || d.Month == 0xFF || d.Day == 0xFF || d.Hour == 0xFF || d.Minute == 0xFF || d.Second == 0xFF {
		return time.Time{}, false
	}
	ms := int(d.Millisecond)
	if d.Millisecond == 0xFFFF {
		ms = 0
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || d.Hour > 23 || d.Minute > 59 || d.Second > 59 || ms > 999 {
		return time.Time{}, false
	}
	t := time.Date(int(d.Year), time.Month(d.Month), int(d.Day), int(d.Hour), int(d.Minute), int(d.Second), ms*int(time.Millisecond), time.UTC)
	if t.Day() != int(d.Day) {
		return time.Time{}, false // such as 31 April
	}
	return t, true
}

// IrisQuality is one quality block: a score and the algorithm that gave it.
type IrisQuality struct {
	// Score is 0–100, 254 failed, 255 not computed.
	Score uint8
	// AlgorithmVendorID and AlgorithmID name the quality algorithm.
	AlgorithmVendorID, AlgorithmID uint16
}

// UndefinedAngle marks a roll angle or uncertainty that is not given.
const UndefinedAngle = 0xFFFF

// IrisRepresentation is one iris image with its capture and image
// information.
type IrisRepresentation struct {
	// Captured is when the image was taken.
	Captured CaptureDateTime
	// DeviceTechnology is 0 unknown, 1 CMOS/CCD.
	DeviceTechnology uint8
	// DeviceVendorID and DeviceTypeID identify the capture device.
	DeviceVendorID, DeviceTypeID uint16
	// Quality holds the quality blocks (at most 255).
	Quality []IrisQuality
	// Number is the representation number (1, 2, …).
	Number uint16
	// Eye is which eye this is.
	Eye EyeLabel
	// ImageType is how the image is framed.
	ImageType IrisImageType
	// ImageFormat is the format code of Data.
	ImageFormat IrisImageFormat
	// Properties is the raw image property bit field; HorizontalOrientation,
	// VerticalOrientation and CompressionHistory decode it.
	Properties uint8
	// Width and Height are the image size in pixels.
	Width, Height uint16
	// BitDepth is the bits per pixel (8 for grey, 24 for RGB).
	BitDepth uint8
	// Range is the camera-to-iris distance in centimetres; 0 unassigned,
	// 1 failed, 2 overflow.
	Range uint16
	// RollAngle is the eye's roll in units of 360/65536 degrees, and
	// RollAngleUncertainty its uncertainty in the same units; UndefinedAngle
	// when not given. RollDegrees converts them.
	RollAngle, RollAngleUncertainty uint16
	// IrisCentreSmallestX, IrisCentreLargestX, IrisCentreSmallestY and
	// IrisCentreLargestY bound the iris centre in pixels (0: not given).
	IrisCentreSmallestX, IrisCentreLargestX, IrisCentreSmallestY, IrisCentreLargestY uint16
	// IrisDiameterSmallest and IrisDiameterLargest bound the iris diameter
	// in pixels (0: not given).
	IrisDiameterSmallest, IrisDiameterLargest uint16
	// Data is the image, exactly as stored.
	Data []byte
}

// HorizontalOrientation returns bits 0–1 of Properties: 0 undefined, 1 base,
// 2 flipped.
func (r *IrisRepresentation) HorizontalOrientation() uint8 { return r.Properties & 0x03 }

// VerticalOrientation returns bits 2–3 of Properties: 0 undefined, 1 base,
// 2 flipped.
func (r *IrisRepresentation) VerticalOrientation() uint8 { return r.Properties >> 2 & 0x03 }

// CompressionHistory returns bits 6–7 of Properties: 0 undefined,
// 1 lossless or none, 2 lossy.
func (r *IrisRepresentation) CompressionHistory() uint8 { return r.Properties >> 6 }

// RollDegrees returns the roll angle and its uncertainty in degrees, and
// false when the angle is undefined.
func (r *IrisRepresentation) RollDegrees() (angle, uncertainty float64, ok bool) {
	if r.RollAngle == UndefinedAngle {
		return 0, 0, false
	}
	angle = float64(r.RollAngle) * 360 / 65536
	if r.RollAngleUncertainty != UndefinedAngle {
		uncertainty = float64(r.RollAngleUncertainty) * 360 / 65536
	}
	return angle, uncertainty, true
}

// DecodeImage decodes Data to pixels: PNG and JPEG through the standard
// library, raw 8-bit data into an image.Gray of Width×Height. JPEG 2000
// gives ErrUnsupportedImage.
func (r *IrisRepresentation) DecodeImage() (image.Image, error) {
	if r.ImageFormat == IrisRaw && DetectImageEncoding(r.Data) == EncodingUnknown {
		w, h := int(r.Width), int(r.Height)
		if r.BitDepth != 8 || w*h != len(r.Data) || w == 0 || h == 0 {
			return nil, fmt.Errorf("iso19794: iris image: raw %dx%d at %d bits in %d bytes: %w", w, h, r.BitDepth, len(r.Data), ErrUnsupportedImage)
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, r.Data)
		return img, nil
	}
	img, err := decodeEmbedded(r.Data)
	if err != nil {
		return nil, fmt.Errorf("iso19794: iris image: %w", err)
	}
	return img, nil
}

// IrisRecord is an ISO/IEC 19794-6:2011 iris image record.
type IrisRecord struct {
	// CertificationFlag is the certification flag (0 in this edition).
	CertificationFlag uint8
	// Eyes is the number of eyes represented: 0 unknown, 1 or 2.
	Eyes uint8
	// Representations are the iris images (at most 65,535).
	Representations []IrisRepresentation
}

// Iso19794p6v2011Codec reads and writes ISO/IEC 19794-6:2011 iris image
// records ("IIR\0", version "020\0").
type Iso19794p6v2011Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content; otherwise representation lengths are read from the content,
	// as libbiomeval does (its own sample understates one by 5 bytes).
	Strict bool
}

const (
	irisHeaderLen  = 16
	irisFixedLen   = 52 // representation header and length fields, without quality blocks
	irisQualityLen = 5
)

// Decode reads one iris record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p6v2011Codec) Decode(b []byte) (*IrisRecord, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-6:2011: %w", err)
	}
	return rec, nil
}

func (c Iso19794p6v2011Codec) decode(b []byte) (*IrisRecord, error) {
	r := &reader{b: b}
	if err := r.header(iirMagic, iirVersion20); err != nil {
		return nil, err
	}
	length := int(r.u32())
	n := int(r.u16())
	rec := &IrisRecord{CertificationFlag: r.u8(), Eyes: r.u8()}
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if err := checkLength(length, irisHeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * irisFixedLen; minSize > r.remaining() {
		return nil, fmt.Errorf("%d representations need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec.Representations = make([]IrisRepresentation, n)
	for i := range rec.Representations {
		if err := c.decodeRepresentation(r, &rec.Representations[i]); err != nil {
			return nil, fmt.Errorf("representation %d: %w", i, err)
		}
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last representation: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

func (c Iso19794p6v2011Codec) decodeRepresentation(r *reader, p *IrisRepresentation) error {
	start := r.off
	declared := int(r.u32())
	p.Captured = CaptureDateTime{Year: r.u16(), Month: r.u8(), Day: r.u8(), Hour: r.u8(), Minute: r.u8(), Second: r.u8(), Millisecond: r.u16()}
	p.DeviceTechnology = r.u8()
	p.DeviceVendorID, p.DeviceTypeID = r.u16(), r.u16()
	nq := int(r.u8())
	quality := r.take(irisQualityLen * nq)
	if r.err != nil {
		return fmt.Errorf("header and %d quality blocks: %w", nq, r.err)
	}
	p.Quality = make([]IrisQuality, nq)
	for i := range p.Quality {
		q := &reader{b: quality[irisQualityLen*i : irisQualityLen*(i+1)]}
		p.Quality[i] = IrisQuality{Score: q.u8(), AlgorithmVendorID: q.u16(), AlgorithmID: q.u16()}
	}
	p.Number = r.u16()
	p.Eye = EyeLabel(r.u8())
	p.ImageType = IrisImageType(r.u8())
	p.ImageFormat = IrisImageFormat(r.u8())
	p.Properties = r.u8()
	p.Width, p.Height = r.u16(), r.u16()
	p.BitDepth = r.u8()
	p.Range = r.u16()
	p.RollAngle, p.RollAngleUncertainty = r.u16(), r.u16()
	p.IrisCentreSmallestX, p.IrisCentreLargestX = r.u16(), r.u16()
	p.IrisCentreSmallestY, p.IrisCentreLargestY = r.u16(), r.u16()
	p.IrisDiameterSmallest, p.IrisDiameterLargest = r.u16(), r.u16()
	imageLen := int(r.u32())
	if r.err != nil {
		return fmt.Errorf("image information: %w", r.err)
	}
	if imageLen > r.remaining() {
		return fmt.Errorf("image of %d bytes, %d left: %w", imageLen, r.remaining(), ErrTruncated)
	}
	p.Data = r.clone(imageLen)
	if actual := r.off - start; declared != actual && c.Strict {
		return fmt.Errorf("representation length %d, content %d bytes: %w", declared, actual, ErrMalformed)
	}
	return nil
}

// Encode writes rec as an ISO/IEC 19794-6:2011 record.
func (c Iso19794p6v2011Codec) Encode(rec *IrisRecord) ([]byte, error) {
	out, err := encodeIris(rec)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode ISO/IEC 19794-6:2011: %w", err)
	}
	return out, nil
}

func encodeIris(rec *IrisRecord) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Representations) > 0xFFFF {
		return nil, fmt.Errorf("%d representations, at most 65535: %w", len(rec.Representations), ErrMalformed)
	}
	total := uint64(irisHeaderLen)
	for i := range rec.Representations {
		p := &rec.Representations[i]
		if len(p.Quality) > 255 {
			return nil, fmt.Errorf("representation %d: %d quality blocks, at most 255: %w", i, len(p.Quality), ErrMalformed)
		}
		total += uint64(irisFixedLen + irisQualityLen*len(p.Quality) + len(p.Data))
	}
	if total > 0xFFFFFFFF {
		return nil, fmt.Errorf("record of %d bytes: %w", total, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, total)}
	w.bytes(iirMagic)
	w.bytes(iirVersion20)
	w.u32(uint32(total))
	w.u16(uint16(len(rec.Representations)))
	w.u8(rec.CertificationFlag)
	w.u8(rec.Eyes)
	for i := range rec.Representations {
		p := &rec.Representations[i]
		w.u32(uint32(irisFixedLen + irisQualityLen*len(p.Quality) + len(p.Data)))
		d := p.Captured
		w.u16(d.Year)
		w.bytes([]byte{d.Month, d.Day, d.Hour, d.Minute, d.Second})
		w.u16(d.Millisecond)
		w.u8(p.DeviceTechnology)
		w.u16(p.DeviceVendorID)
		w.u16(p.DeviceTypeID)
		w.u8(uint8(len(p.Quality)))
		for _, q := range p.Quality {
			w.u8(q.Score)
			w.u16(q.AlgorithmVendorID)
			w.u16(q.AlgorithmID)
		}
		w.u16(p.Number)
		w.bytes([]byte{uint8(p.Eye), uint8(p.ImageType), uint8(p.ImageFormat), p.Properties})
		w.u16(p.Width)
		w.u16(p.Height)
		w.u8(p.BitDepth)
		for _, v := range []uint16{p.Range, p.RollAngle, p.RollAngleUncertainty,
			p.IrisCentreSmallestX, p.IrisCentreLargestX, p.IrisCentreSmallestY, p.IrisCentreLargestY,
			p.IrisDiameterSmallest, p.IrisDiameterLargest} {
			w.u16(v)
		}
		w.u32(uint32(len(p.Data)))
		w.bytes(p.Data)
	}
	return w.b, nil
}
