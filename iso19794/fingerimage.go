package iso19794

import (
	"fmt"
	"image"
)

// FingerImageCompression is how a finger image record's images are encoded
// (ISO/IEC 19794-4:2005, table 3).
type FingerImageCompression uint8

// Finger image encodings.
const (
	FingerUncompressed       FingerImageCompression = 0 // raw pixels, no bit packing
	FingerUncompressedPacked FingerImageCompression = 1 // raw pixels, bit packed
	FingerWSQ                FingerImageCompression = 2
	FingerJPEG               FingerImageCompression = 3
	FingerJPEG2000           FingerImageCompression = 4
	FingerPNG                FingerImageCompression = 5
)

// String names the encoding.
func (c FingerImageCompression) String() string {
	switch c {
	case FingerUncompressed:
		return "raw"
	case FingerUncompressedPacked:
		return "raw, bit packed"
	case FingerWSQ:
		return "WSQ"
	case FingerJPEG:
		return "JPEG"
	case FingerJPEG2000:
		return "JPEG 2000"
	case FingerPNG:
		return "PNG"
	}
	return fmt.Sprintf("FingerImageCompression(%d)", uint8(c))
}

// FingerImageRecord is an ISO/IEC 19794-4:2005 finger image record: the
// images of fingers (or palms) as a livescan captured them, one encoding
// and resolution for the whole record.
type FingerImageRecord struct {
	// CaptureEquipmentCompliance is the 4-bit certification field and
	// CaptureEquipmentID the vendor's 12-bit device identifier.
	CaptureEquipmentCompliance uint8
	CaptureEquipmentID         uint16
	// AcquisitionLevel is the image acquisition setting level (10, 20,
	// 30, 31, 40 or 41: resolution and grey levels of the capture).
	AcquisitionLevel uint16
	// ScaleUnits says what the resolutions count per: 1 inch, 2 cm.
	ScaleUnits uint8
	// The scanner's and the images' horizontal and vertical resolutions.
	ScanResX, ScanResY, ImageResX, ImageResY uint16
	// PixelDepth is the bits per pixel (1 to 16).
	PixelDepth  uint8
	Compression FingerImageCompression
	// Views are the finger images (at most 255).
	Views []FingerImageView
}

// FingerImageView is one finger (or palm) image of a record.
type FingerImageView struct {
	Position     FingerPosition
	CountOfViews uint8 // views of this finger in the record
	ViewNumber   uint8
	Quality      uint8 // 0 to 100, 254 not computed, 255 failed
	Impression   ImpressionType
	// Width and Height are the image's size in pixels.
	Width, Height uint16
	// Data are the image's bytes, encoded as the record's Compression says.
	Data []byte
}

// Iso19794p4v2005Codec reads and writes ISO/IEC 19794-4:2005 finger image
// records ("FIR\0", version "010\0").
type Iso19794p4v2005Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content, or whose reserved fields are not zero, instead of trusting
	// the content.
	Strict bool
}

var (
	firMagic     = []byte("FIR\x00")
	firVersion10 = []byte("010\x00")
)

const (
	firHeaderLen = 32 // general record header
	firViewLen   = 14 // finger image header
)

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p4v2005Codec) Decode(b []byte) (*FingerImageRecord, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2005: %w", err)
	}
	return rec, nil
}

func (c Iso19794p4v2005Codec) decode(b []byte) (*FingerImageRecord, error) {
	r := &reader{b: b}
	if err := r.header(firMagic, firVersion10); err != nil {
		return nil, err
	}
	length := int(r.u16())<<32 | int(r.u32())
	device := r.u16()
	rec := &FingerImageRecord{CaptureEquipmentCompliance: uint8(device >> 12), CaptureEquipmentID: device & 0x0FFF,
		AcquisitionLevel: r.u16()}
	n := int(r.u8())
	rec.ScaleUnits = r.u8()
	rec.ScanResX, rec.ScanResY, rec.ImageResX, rec.ImageResY = r.u16(), r.u16(), r.u16(), r.u16()
	rec.PixelDepth = r.u8()
	rec.Compression = FingerImageCompression(r.u8())
	reserved := r.u16()
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if reserved != 0 && c.Strict {
		return nil, fmt.Errorf("reserved header bytes %#04x are not zero: %w", reserved, ErrMalformed)
	}
	if err := checkLength(length, firHeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * firViewLen; minSize > r.remaining() {
		return nil, fmt.Errorf("%d finger images need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec.Views = make([]FingerImageView, n)
	for i := range rec.Views {
		v := &rec.Views[i]
		declared := int(r.u32())
		v.Position = FingerPosition(r.u8())
		v.CountOfViews, v.ViewNumber, v.Quality = r.u8(), r.u8(), r.u8()
		v.Impression = ImpressionType(r.u8())
		v.Width, v.Height = r.u16(), r.u16()
		reserved := r.u8()
		if r.err != nil {
			return nil, fmt.Errorf("finger image %d: %w", i, r.err)
		}
		if reserved != 0 && c.Strict {
			return nil, fmt.Errorf("finger image %d: reserved byte %#02x is not zero: %w", i, reserved, ErrMalformed)
		}
		if declared < firViewLen || declared-firViewLen > r.remaining() {
			return nil, fmt.Errorf("finger image %d: length %d, %d bytes left: %w", i, declared, r.remaining()+firViewLen, ErrTruncated)
		}
		v.Data = r.clone(declared - firViewLen)
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last finger image: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

// Encode writes rec as an ISO/IEC 19794-4:2005 record.
func (c Iso19794p4v2005Codec) Encode(rec *FingerImageRecord) ([]byte, error) {
	if len(rec.Views) > 255 {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2005: %d finger images, at most 255: %w", len(rec.Views), ErrMalformed)
	}
	if rec.CaptureEquipmentCompliance > 0x0F || rec.CaptureEquipmentID > 0x0FFF {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2005: capture device %d/%d out of range: %w", rec.CaptureEquipmentCompliance, rec.CaptureEquipmentID, ErrMalformed)
	}
	length := firHeaderLen
	for _, v := range rec.Views {
		length += firViewLen + len(v.Data)
	}
	if length >= 1<<48 {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2005: record of %d bytes: %w", length, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, length)}
	w.bytes(firMagic)
	w.bytes(firVersion10)
	w.u16(uint16(length >> 32))
	w.u32(uint32(length))
	w.u16(uint16(rec.CaptureEquipmentCompliance)<<12 | rec.CaptureEquipmentID)
	w.u16(rec.AcquisitionLevel)
	w.u8(uint8(len(rec.Views)))
	w.u8(rec.ScaleUnits)
	w.u16(rec.ScanResX)
	w.u16(rec.ScanResY)
	w.u16(rec.ImageResX)
	w.u16(rec.ImageResY)
	w.u8(rec.PixelDepth)
	w.u8(uint8(rec.Compression))
	w.u16(0)
	for _, v := range rec.Views {
		if uint64(firViewLen+len(v.Data)) > 1<<32-1 {
			return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2005: an image of %d bytes: %w", len(v.Data), ErrMalformed)
		}
		w.u32(uint32(firViewLen + len(v.Data)))
		w.u8(uint8(v.Position))
		w.u8(v.CountOfViews)
		w.u8(v.ViewNumber)
		w.u8(v.Quality)
		w.u8(uint8(v.Impression))
		w.u16(v.Width)
		w.u16(v.Height)
		w.u8(0)
		w.bytes(v.Data)
	}
	return w.b, nil
}

// DecodeImage decodes the view's image: raw 8-bit pixels, PNG or JPEG.
// WSQ, JPEG 2000 and bit-packed images are ErrUnsupportedImage here (this
// package depends only on the standard library): decode their Data with
// the project's WSQ and JPEG 2000 decoders.
func (r *FingerImageRecord) DecodeImage(v *FingerImageView) (image.Image, error) {
	switch r.Compression {
	case FingerUncompressed:
		w, h := int(v.Width), int(v.Height)
		if r.PixelDepth != 8 || w == 0 || h == 0 || w*h != len(v.Data) {
			return nil, fmt.Errorf("iso19794: finger image: raw %dx%d at %d bits in %d bytes: %w", w, h, r.PixelDepth, len(v.Data), ErrUnsupportedImage)
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, v.Data)
		return img, nil
	case FingerJPEG, FingerPNG:
		img, err := decodeEmbedded(v.Data)
		if err != nil {
			return nil, fmt.Errorf("iso19794: finger image: %w", err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("iso19794: finger image: %v: %w", r.Compression, ErrUnsupportedImage)
}
