package iso19794

import (
	"fmt"
	"image"
)

var firVersion20 = []byte("020\x00")

// FingerImageCompression2011 is how an ISO/IEC 19794-4:2011 representation's
// image is encoded (its table of compression algorithm codes). The codes
// differ from the 2005 edition's from 4 on: 2011 tells lossy from lossless
// JPEG 2000, so PNG is 6 here and 5 there. Encoding maps them onto the
// 2005 enumeration.
type FingerImageCompression2011 uint8

// Finger image encodings of ISO/IEC 19794-4:2011.
const (
	Finger2011Uncompressed       FingerImageCompression2011 = 0 // raw pixels, no bit packing
	Finger2011UncompressedPacked FingerImageCompression2011 = 1 // raw pixels, bit packed
	Finger2011WSQ                FingerImageCompression2011 = 2
	Finger2011JPEG               FingerImageCompression2011 = 3 // lossy JPEG
	Finger2011JPEG2000Lossy      FingerImageCompression2011 = 4
	Finger2011JPEG2000Lossless   FingerImageCompression2011 = 5
	Finger2011PNG                FingerImageCompression2011 = 6
)

// String names the encoding.
func (c FingerImageCompression2011) String() string {
	switch c {
	case Finger2011JPEG2000Lossy:
		return "JPEG 2000 lossy"
	case Finger2011JPEG2000Lossless:
		return "JPEG 2000 lossless"
	}
	if e, ok := c.Encoding(); ok {
		return e.String()
	}
	return fmt.Sprintf("FingerImageCompression2011(%d)", uint8(c))
}

// Encoding returns the same encoding in the 2005 edition's enumeration
// (both JPEG 2000 codes are FingerJPEG2000), and false for an unknown code.
func (c FingerImageCompression2011) Encoding() (FingerImageCompression, bool) {
	switch c {
	case Finger2011Uncompressed, Finger2011UncompressedPacked, Finger2011WSQ, Finger2011JPEG:
		return FingerImageCompression(c), true
	case Finger2011JPEG2000Lossy, Finger2011JPEG2000Lossless:
		return FingerJPEG2000, true
	case Finger2011PNG:
		return FingerPNG, true
	}
	return 0, false
}

// QualityBlock is one quality score of the 2011 editions' representations
// (finger image, iris): a score and the algorithm that gave it.
type QualityBlock = IrisQuality

// CertificationBlock names a certification a capture device holds.
type CertificationBlock struct {
	// AuthorityID is the certification authority and SchemeID the scheme.
	AuthorityID uint16
	SchemeID    uint8
}

// FingerImageRecord2011 is an ISO/IEC 19794-4:2011 finger image record: one
// representation per finger or palm image, each with its own capture
// device, resolution and encoding.
type FingerImageRecord2011 struct {
	// CertificationFlag is 1 when representations carry certification
	// blocks, else 0.
	CertificationFlag uint8
	// Positions is the number of distinct finger or palm positions.
	Positions uint8
	// Representations are the images (at most 65,535).
	Representations []FingerImageRepresentation
}

// FingerImageRepresentation is one finger or palm image of an ISO/IEC
// 19794-4:2011 record.
type FingerImageRepresentation struct {
	// Captured is when the image was taken.
	Captured CaptureDateTime
	// DeviceTechnology is the capture technology (0 unknown, 1 white light
	// optical TIR, …); DeviceVendorID and DeviceTypeID identify the device.
	DeviceTechnology             uint8
	DeviceVendorID, DeviceTypeID uint16
	// Quality holds the quality blocks (at most 255).
	Quality []QualityBlock
	// Certifications are the device's certification blocks (at most 255),
	// stored only when the record's CertificationFlag is set.
	Certifications []CertificationBlock
	Position       FingerPosition
	// Number is the representation number.
	Number uint8
	// ScaleUnits says what the resolutions count per: 1 inch, 2 cm.
	ScaleUnits uint8
	// The capture device's and the image's horizontal and vertical
	// sampling rates.
	ScanResX, ScanResY, ImageResX, ImageResY uint16
	// BitDepth is the bits per pixel.
	BitDepth    uint8
	Compression FingerImageCompression2011
	Impression  ImpressionType
	// Width and Height are the image's size in pixels.
	Width, Height uint16
	// Data are the image's bytes, encoded as Compression says.
	Data []byte
	// Extended are the extended data blocks (segmentation, annotation,
	// comments) that follow the image, kept as stored.
	Extended []byte
}

// DecodeImage decodes the representation's image: raw 8-bit pixels, PNG
// or JPEG. WSQ, JPEG 2000 and bit-packed images are ErrUnsupportedImage
// here: decode their Data with the project's WSQ and JPEG 2000 decoders.
func (p *FingerImageRepresentation) DecodeImage() (image.Image, error) {
	switch p.Compression {
	case Finger2011Uncompressed:
		w, h := int(p.Width), int(p.Height)
		if p.BitDepth != 8 || w == 0 || h == 0 || w*h != len(p.Data) {
			return nil, fmt.Errorf("iso19794: finger image: raw %dx%d at %d bits in %d bytes: %w", w, h, p.BitDepth, len(p.Data), ErrUnsupportedImage)
		}
		img := image.NewGray(image.Rect(0, 0, w, h))
		copy(img.Pix, p.Data)
		return img, nil
	case Finger2011JPEG, Finger2011PNG:
		img, err := decodeEmbedded(p.Data)
		if err != nil {
			return nil, fmt.Errorf("iso19794: finger image: %w", err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("iso19794: finger image: %v: %w", p.Compression, ErrUnsupportedImage)
}

// Iso19794p4v2011Codec reads and writes ISO/IEC 19794-4:2011 finger image
// records ("FIR\0", version "020\0"), the edition MOSIP and other national
// ID platforms exchange.
type Iso19794p4v2011Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content; otherwise an inconsistent representation length is ignored
	// (and its extended data with it) and the content read as it is.
	Strict bool
}

const (
	fir2011HeaderLen = 16
	// fir2011FixedLen is a representation's bytes without quality and
	// certification blocks, image and extended data.
	fir2011FixedLen   = 41
	fir2011CertLen    = 3
	fir2011QualityLen = 5
)

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p4v2011Codec) Decode(b []byte) (*FingerImageRecord2011, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-4:2011: %w", err)
	}
	return rec, nil
}

func (c Iso19794p4v2011Codec) decode(b []byte) (*FingerImageRecord2011, error) {
	r := &reader{b: b}
	if err := r.header(firMagic, firVersion20); err != nil {
		return nil, err
	}
	length := int(r.u32())
	n := int(r.u16())
	rec := &FingerImageRecord2011{CertificationFlag: r.u8(), Positions: r.u8()}
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if err := checkLength(length, fir2011HeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * fir2011FixedLen; minSize > r.remaining() {
		return nil, fmt.Errorf("%d representations need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec.Representations = make([]FingerImageRepresentation, n)
	for i := range rec.Representations {
		if err := c.decodeRepresentation(r, rec.CertificationFlag != 0, &rec.Representations[i]); err != nil {
			return nil, fmt.Errorf("representation %d: %w", i, err)
		}
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last representation: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

func (c Iso19794p4v2011Codec) decodeRepresentation(r *reader, certified bool, p *FingerImageRepresentation) error {
	start := r.off
	declared := int64(r.u32())
	p.Captured = CaptureDateTime{Year: r.u16(), Month: r.u8(), Day: r.u8(), Hour: r.u8(), Minute: r.u8(), Second: r.u8(), Millisecond: r.u16()}
	p.DeviceTechnology = r.u8()
	p.DeviceVendorID, p.DeviceTypeID = r.u16(), r.u16()
	nq := int(r.u8())
	quality := r.take(fir2011QualityLen * nq)
	if r.err != nil {
		return fmt.Errorf("header and %d quality blocks: %w", nq, r.err)
	}
	if nq > 0 {
		p.Quality = make([]QualityBlock, nq)
	}
	for i := range p.Quality {
		q := &reader{b: quality[fir2011QualityLen*i : fir2011QualityLen*(i+1)]}
		p.Quality[i] = QualityBlock{Score: q.u8(), AlgorithmVendorID: q.u16(), AlgorithmID: q.u16()}
	}
	if certified {
		nc := int(r.u8())
		certs := r.take(fir2011CertLen * nc)
		if r.err != nil {
			return fmt.Errorf("%d certification blocks: %w", nc, r.err)
		}
		if nc > 0 {
			p.Certifications = make([]CertificationBlock, nc)
		}
		for i := range p.Certifications {
			q := &reader{b: certs[fir2011CertLen*i : fir2011CertLen*(i+1)]}
			p.Certifications[i] = CertificationBlock{AuthorityID: q.u16(), SchemeID: q.u8()}
		}
	}
	p.Position = FingerPosition(r.u8())
	p.Number, p.ScaleUnits = r.u8(), r.u8()
	p.ScanResX, p.ScanResY, p.ImageResX, p.ImageResY = r.u16(), r.u16(), r.u16(), r.u16()
	p.BitDepth = r.u8()
	p.Compression = FingerImageCompression2011(r.u8())
	p.Impression = ImpressionType(r.u8())
	p.Width, p.Height = r.u16(), r.u16()
	imageLen := int64(r.u32())
	if r.err != nil {
		return fmt.Errorf("image information: %w", r.err)
	}
	if imageLen > int64(r.remaining()) {
		return fmt.Errorf("image of %d bytes, %d left: %w", imageLen, r.remaining(), ErrTruncated)
	}
	p.Data = r.clone(int(imageLen))
	consumed := int64(r.off - start)
	switch {
	case declared == consumed:
	case declared > consumed && declared-consumed <= int64(r.remaining()):
		p.Extended = r.clone(int(declared - consumed))
	case c.Strict:
		return fmt.Errorf("representation length %d, content %d bytes and %d left: %w", declared, consumed, r.remaining(), ErrMalformed)
	}
	return nil
}

// Encode writes rec as an ISO/IEC 19794-4:2011 record. Certification blocks
// are written only when rec.CertificationFlag is set.
func (c Iso19794p4v2011Codec) Encode(rec *FingerImageRecord2011) ([]byte, error) {
	out, err := encodeFingerImage2011(rec)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode ISO/IEC 19794-4:2011: %w", err)
	}
	return out, nil
}

func (p *FingerImageRepresentation) encodedLen(certified bool) uint64 {
	n := uint64(fir2011FixedLen + fir2011QualityLen*len(p.Quality) + len(p.Data) + len(p.Extended))
	if certified {
		n += 1 + fir2011CertLen*uint64(len(p.Certifications))
	}
	return n
}

func encodeFingerImage2011(rec *FingerImageRecord2011) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Representations) > 0xFFFF {
		return nil, fmt.Errorf("%d representations, at most 65535: %w", len(rec.Representations), ErrMalformed)
	}
	certified := rec.CertificationFlag != 0
	total := uint64(fir2011HeaderLen)
	for i := range rec.Representations {
		p := &rec.Representations[i]
		if len(p.Quality) > 255 || len(p.Certifications) > 255 {
			return nil, fmt.Errorf("representation %d: %d quality and %d certification blocks, at most 255 each: %w", i, len(p.Quality), len(p.Certifications), ErrMalformed)
		}
		if !certified && len(p.Certifications) > 0 {
			return nil, fmt.Errorf("representation %d: certification blocks in a record without the certification flag: %w", i, ErrMalformed)
		}
		total += p.encodedLen(certified)
	}
	if total > 0xFFFFFFFF {
		return nil, fmt.Errorf("record of %d bytes: %w", total, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, total)}
	w.bytes(firMagic)
	w.bytes(firVersion20)
	w.u32(uint32(total))
	w.u16(uint16(len(rec.Representations)))
	w.u8(rec.CertificationFlag)
	w.u8(rec.Positions)
	for i := range rec.Representations {
		p := &rec.Representations[i]
		w.u32(uint32(p.encodedLen(certified)))
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
		if certified {
			w.u8(uint8(len(p.Certifications)))
			for _, cb := range p.Certifications {
				w.u16(cb.AuthorityID)
				w.u8(cb.SchemeID)
			}
		}
		w.bytes([]byte{uint8(p.Position), p.Number, p.ScaleUnits})
		for _, v := range []uint16{p.ScanResX, p.ScanResY, p.ImageResX, p.ImageResY} {
			w.u16(v)
		}
		w.bytes([]byte{p.BitDepth, uint8(p.Compression), uint8(p.Impression)})
		w.u16(p.Width)
		w.u16(p.Height)
		w.u32(uint32(len(p.Data)))
		w.bytes(p.Data)
		w.bytes(p.Extended)
	}
	return w.b, nil
}
