package iso19794

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

var (
	fmrMagic      = []byte("FMR\x00")
	fmrVersion20  = []byte(" 20\x00")
	fmrVersion030 = []byte("030\x00")
)

// Iso19794p2v2005Codec reads and writes ISO/IEC 19794-2:2005 finger minutiae
// records ("FMR\0", version " 20\0", 24-byte header, 4-byte length).
type Iso19794p2v2005Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content instead of reading what the content says.
	Strict bool
}

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p2v2005Codec) Decode(b []byte) (*FingerMinutiaeRecord, error) {
	return decodeFMR(b, FingerISO19794p2v2005, c.Strict)
}

// Encode writes r as an ISO/IEC 19794-2:2005 record; r.Format is not
// consulted, so raw angles are written as they are (convert them first with
// ConvertAngles when r came from an ANSI record).
func (c Iso19794p2v2005Codec) Encode(r *FingerMinutiaeRecord) ([]byte, error) {
	return encodeFMR(r, FingerISO19794p2v2005)
}

// Ansi378v2004Codec reads and writes ANSI INCITS 378-2004 finger minutiae
// records ("FMR\0", version " 20\0", CBEFF product identifier, 2-byte length
// or 0 followed by a 4-byte length).
type Ansi378v2004Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content instead of reading what the content says.
	Strict bool
}

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Ansi378v2004Codec) Decode(b []byte) (*FingerMinutiaeRecord, error) {
	return decodeFMR(b, FingerANSI378v2004, c.Strict)
}

// Encode writes r as an ANSI INCITS 378-2004 record (raw angles as they are).
func (c Ansi378v2004Codec) Encode(r *FingerMinutiaeRecord) ([]byte, error) {
	return encodeFMR(r, FingerANSI378v2004)
}

// Ansi378v2007Codec reads and writes the 2007 edition of ANSI INCITS 378
// ("FMR\0", version "030\0"), which stores image size, resolution and the
// quality algorithm in each finger view.
type Ansi378v2007Codec struct {
	// Strict rejects records whose length fields disagree with their
	// content instead of reading what the content says.
	Strict bool
}

// Decode reads one record. Errors wrap ErrTruncated or ErrMalformed.
func (c Ansi378v2007Codec) Decode(b []byte) (*FingerMinutiaeRecord, error) {
	return decodeFMR(b, FingerANSI378v2007, c.Strict)
}

// Encode writes r as an ANSI INCITS 378-2007 record (raw angles as they
// are). A view without its own size and resolution gets the record's.
func (c Ansi378v2007Codec) Encode(r *FingerMinutiaeRecord) ([]byte, error) {
	return encodeFMR(r, FingerANSI378v2007)
}

// DetectFingerFormat tells which finger minutiae format b is in, from its
// version and length fields, or FingerFormatUnknown.
func DetectFingerFormat(b []byte) FingerFormat {
	if len(b) < 12 || !bytes.Equal(b[:4], fmrMagic) {
		return FingerFormatUnknown
	}
	switch {
	case bytes.Equal(b[4:8], fmrVersion030):
		return FingerANSI378v2007
	case !bytes.Equal(b[4:8], fmrVersion20):
		return FingerFormatUnknown
	}
	// ISO and ANSI 2004 share the version; the record length tells them apart.
	short := int(binary.BigEndian.Uint16(b[8:]))
	long := int(binary.BigEndian.Uint32(b[8:]))
	switch {
	case short != 0 && short == len(b):
		return FingerANSI378v2004
	case long == len(b):
		return FingerISO19794p2v2005
	case short == 0 && len(b) >= 14 && int(binary.BigEndian.Uint32(b[10:])) == len(b):
		return FingerANSI378v2004
	case short == 0:
		return FingerISO19794p2v2005 // an ISO length below 64 KiB starts with two zero bytes
	}
	return FingerANSI378v2004
}

// DecodeFingerMinutiae decodes a finger minutiae record in any supported
// format, chosen by DetectFingerFormat, leniently.
func DecodeFingerMinutiae(b []byte) (*FingerMinutiaeRecord, error) {
	f := DetectFingerFormat(b)
	if f == FingerFormatUnknown {
		if len(b) < 12 {
			return nil, fmt.Errorf("iso19794: finger minutiae: %d bytes: %w", len(b), ErrTruncated)
		}
		return nil, fmt.Errorf("iso19794: finger minutiae: not an FMR record: %w", ErrMalformed)
	}
	return decodeFMR(b, f, false)
}

// EncodeFingerMinutiae encodes r in the format r.Format names.
func EncodeFingerMinutiae(r *FingerMinutiaeRecord) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("iso19794: finger minutiae: nil record: %w", ErrMalformed)
	}
	switch r.Format {
	case FingerISO19794p2v2005, FingerANSI378v2004, FingerANSI378v2007:
		return encodeFMR(r, r.Format)
	}
	return nil, fmt.Errorf("iso19794: finger minutiae: format %v: %w", r.Format, ErrMalformed)
}

// ConvertAngles rewrites the raw minutia angles of r into the unit of format
// to and sets r.Format to it, so that r can be encoded by that format's
// codec. Extended data blocks are left as they are (core and delta blocks
// differ in layout between formats; drop or rebuild them when converting).
func (r *FingerMinutiaeRecord) ConvertAngles(to FingerFormat) {
	from := r.Format
	if from == to || from == FingerFormatUnknown {
		r.Format = to
		return
	}
	conv := func(a uint8) uint8 { return to.RawAngle(from.AngleDegrees(a)) }
	for vi := range r.Views {
		v := &r.Views[vi]
		for mi := range v.Minutiae {
			v.Minutiae[mi].Angle = conv(v.Minutiae[mi].Angle)
		}
	}
	r.Format = to
}

func decodeFMR(b []byte, f FingerFormat, strict bool) (*FingerMinutiaeRecord, error) {
	rec, err := decodeFMRBody(b, f, strict)
	if err != nil {
		return nil, fmt.Errorf("iso19794: %v: %w", f, err)
	}
	return rec, nil
}

func decodeFMRBody(b []byte, f FingerFormat, strict bool) (*FingerMinutiaeRecord, error) {
	r := &reader{b: b}
	if magic := r.take(4); r.err == nil && !bytes.Equal(magic, fmrMagic) {
		return nil, fmt.Errorf("format identifier %q is not \"FMR\\x00\": %w", magic, ErrMalformed)
	}
	want := fmrVersion20
	if f == FingerANSI378v2007 {
		want = fmrVersion030
	}
	if version := r.take(4); r.err == nil && !bytes.Equal(version, want) {
		return nil, fmt.Errorf("version %q is not %q: %w", version, want, ErrMalformed)
	}
	var length int
	switch f {
	case FingerANSI378v2004:
		length = int(r.u16())
		if length == 0 {
			length = int(r.u32())
		}
	default:
		length = int(r.u32())
	}
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if err := checkLength(length, r.off, len(b), strict); err != nil {
		return nil, err
	}
	r.b = b[:length]

	rec := &FingerMinutiaeRecord{Format: f}
	if f != FingerISO19794p2v2005 {
		rec.CBEFFProductOwner = r.u16()
		rec.CBEFFProductType = r.u16()
	}
	equipment := r.u16()
	rec.CaptureEquipmentCompliance = uint8(equipment >> 12)
	rec.CaptureEquipmentID = equipment & 0x0FFF
	if f != FingerANSI378v2007 {
		rec.Width, rec.Height = r.u16(), r.u16()
		rec.XResolution, rec.YResolution = r.u16(), r.u16()
	}
	nViews := int(r.u8())
	rec.Reserved = r.u8()
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	// Each view takes at least 6 bytes, so the count cannot force a large
	// allocation beyond what the input holds.
	if minSize := nViews * 6; minSize > r.remaining() {
		return nil, fmt.Errorf("%d views need at least %d bytes, %d left: %w", nViews, minSize, r.remaining(), ErrTruncated)
	}
	rec.Views = make([]FingerView, nViews)
	for i := range rec.Views {
		if err := decodeFingerView(r, f, strict, &rec.Views[i]); err != nil {
			return nil, fmt.Errorf("view %d: %w", i, err)
		}
	}
	if r.remaining() > 0 {
		if strict {
			return nil, fmt.Errorf("%d bytes after the last view: %w", r.remaining(), ErrMalformed)
		}
		rec.Trailing = r.clone(r.remaining())
	}
	if f == FingerANSI378v2007 && nViews > 0 {
		v := &rec.Views[0]
		rec.Width, rec.Height, rec.XResolution, rec.YResolution = v.Width, v.Height, v.XResolution, v.YResolution
	}
	return rec, nil
}

func decodeFingerView(r *reader, f FingerFormat, strict bool, v *FingerView) error {
	v.Position = FingerPosition(r.u8())
	if f == FingerANSI378v2007 {
		v.ViewNumber = r.u8()
		v.Impression = ImpressionType(r.u8())
		v.Quality = r.u8()
		v.QualityVendorID, v.QualityAlgorithmID = r.u16(), r.u16()
		v.Width, v.Height = r.u16(), r.u16()
		v.XResolution, v.YResolution = r.u16(), r.u16()
	} else {
		vi := r.u8()
		v.ViewNumber, v.Impression = vi>>4, ImpressionType(vi&0x0F)
		v.Quality = r.u8()
	}
	n := int(r.u8())
	data := r.take(6 * n)
	if r.err != nil {
		return fmt.Errorf("header and %d minutiae: %w", n, r.err)
	}
	v.Minutiae = make([]Minutia, n)
	for i := range v.Minutiae {
		p := data[6*i:]
		x := binary.BigEndian.Uint16(p)
		y := binary.BigEndian.Uint16(p[2:])
		v.Minutiae[i] = Minutia{
			Type:     MinutiaType(x >> 14),
			X:        x & 0x3FFF,
			Y:        y & 0x3FFF,
			Reserved: uint8(y >> 14),
			Angle:    p[4],
			Quality:  p[5],
		}
	}
	areaLen := int(r.u16())
	if r.err != nil {
		return fmt.Errorf("extended data length: %w", r.err)
	}
	if areaLen > r.remaining() {
		if strict {
			return fmt.Errorf("extended data of %d bytes, %d left: %w", areaLen, r.remaining(), ErrTruncated)
		}
		areaLen = r.remaining() // libbiomeval's ISO sample overstates it by one byte
	}
	area := r.take(areaLen)
	for len(area) > 0 {
		if len(area) < 4 {
			return fmt.Errorf("extended data: %d bytes left, a block header needs 4: %w", len(area), ErrTruncated)
		}
		typ := binary.BigEndian.Uint16(area)
		blockLen := int(binary.BigEndian.Uint16(area[2:]))
		if blockLen < 4 {
			return fmt.Errorf("extended data block %#04x: length %d: %w", typ, blockLen, ErrMalformed)
		}
		if blockLen > len(area) {
			if strict {
				return fmt.Errorf("extended data block %#04x of %d bytes, %d left: %w", typ, blockLen, len(area), ErrTruncated)
			}
			blockLen = len(area)
		}
		v.Extended = append(v.Extended, ExtendedDataBlock{Type: typ, Data: append([]byte(nil), area[4:blockLen]...)})
		area = area[blockLen:]
	}
	return nil
}

func encodeFMR(rec *FingerMinutiaeRecord, f FingerFormat) ([]byte, error) {
	out, err := encodeFMRBody(rec, f)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode %v: %w", f, err)
	}
	return out, nil
}

func encodeFMRBody(rec *FingerMinutiaeRecord, f FingerFormat) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Views) > 255 {
		return nil, fmt.Errorf("%d views, at most 255: %w", len(rec.Views), ErrMalformed)
	}
	if rec.CaptureEquipmentCompliance > 0x0F || rec.CaptureEquipmentID > 0x0FFF {
		return nil, fmt.Errorf("capture equipment compliance %d / id %d out of range: %w", rec.CaptureEquipmentCompliance, rec.CaptureEquipmentID, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, fmrSizeHint(rec))}
	w.bytes(fmrMagic)
	if f == FingerANSI378v2007 {
		w.bytes(fmrVersion030)
	} else {
		w.bytes(fmrVersion20)
	}
	lengthAt := len(w.b)
	switch f {
	case FingerANSI378v2004:
		w.u16(0) // patched below; widened to 0 + 4 bytes when needed
	default:
		w.u32(0)
	}
	if f != FingerISO19794p2v2005 {
		w.u16(rec.CBEFFProductOwner)
		w.u16(rec.CBEFFProductType)
	}
	w.u16(uint16(rec.CaptureEquipmentCompliance)<<12 | rec.CaptureEquipmentID)
	if f != FingerANSI378v2007 {
		w.u16(rec.Width)
		w.u16(rec.Height)
		w.u16(rec.XResolution)
		w.u16(rec.YResolution)
	}
	w.u8(uint8(len(rec.Views)))
	w.u8(rec.Reserved)
	for i := range rec.Views {
		if err := encodeFingerView(w, rec, &rec.Views[i], f); err != nil {
			return nil, fmt.Errorf("view %d: %w", i, err)
		}
	}
	w.bytes(rec.Trailing)
	switch {
	case f != FingerANSI378v2004:
		if uint64(len(w.b)) > 0xFFFFFFFF {
			return nil, fmt.Errorf("record of %d bytes: %w", len(w.b), ErrMalformed)
		}
		w.putU32(lengthAt, uint32(len(w.b)))
	case len(w.b) <= 0xFFFF:
		w.putU16(lengthAt, uint16(len(w.b)))
	default:
		// Long form: two zero bytes, then the 4-byte length of the whole record.
		total := len(w.b) + 4
		long := make([]byte, 0, total)
		long = append(long, w.b[:lengthAt+2]...)
		long = binary.BigEndian.AppendUint32(long, uint32(total))
		long = append(long, w.b[lengthAt+2:]...)
		w.b = long
	}
	return w.b, nil
}

func fmrSizeHint(rec *FingerMinutiaeRecord) int {
	n := 32 + len(rec.Trailing)
	for i := range rec.Views {
		n += 19 + 6*len(rec.Views[i].Minutiae)
		for _, e := range rec.Views[i].Extended {
			n += 4 + len(e.Data)
		}
	}
	return n
}

func encodeFingerView(w *writer, rec *FingerMinutiaeRecord, v *FingerView, f FingerFormat) error {
	if len(v.Minutiae) > 255 {
		return fmt.Errorf("%d minutiae, at most 255: %w", len(v.Minutiae), ErrMalformed)
	}
	w.u8(uint8(v.Position))
	if f == FingerANSI378v2007 {
		w.u8(v.ViewNumber)
		w.u8(uint8(v.Impression))
		w.u8(v.Quality)
		w.u16(v.QualityVendorID)
		w.u16(v.QualityAlgorithmID)
		width, height, xres, yres := v.Width, v.Height, v.XResolution, v.YResolution
		if width == 0 && height == 0 && xres == 0 && yres == 0 {
			width, height, xres, yres = rec.Width, rec.Height, rec.XResolution, rec.YResolution
		}
		w.u16(width)
		w.u16(height)
		w.u16(xres)
		w.u16(yres)
	} else {
		if v.ViewNumber > 0x0F || v.Impression > 0x0F {
			return fmt.Errorf("view number %d / impression %d do not fit 4 bits: %w", v.ViewNumber, v.Impression, ErrMalformed)
		}
		w.u8(v.ViewNumber<<4 | uint8(v.Impression))
		w.u8(v.Quality)
	}
	w.u8(uint8(len(v.Minutiae)))
	for i, m := range v.Minutiae {
		if m.Type > 3 || m.Reserved > 3 || m.X > 0x3FFF || m.Y > 0x3FFF {
			return fmt.Errorf("minutia %d: type %d, x %d, y %d out of range: %w", i, m.Type, m.X, m.Y, ErrMalformed)
		}
		w.u16(uint16(m.Type)<<14 | m.X)
		w.u16(uint16(m.Reserved)<<14 | m.Y)
		w.u8(m.Angle)
		w.u8(m.Quality)
	}
	area := 0
	for _, e := range v.Extended {
		if len(e.Data) > 0xFFFF-4 {
			return fmt.Errorf("extended data block %#04x of %d bytes: %w", e.Type, len(e.Data), ErrMalformed)
		}
		area += 4 + len(e.Data)
	}
	if area > 0xFFFF {
		return fmt.Errorf("extended data of %d bytes: %w", area, ErrMalformed)
	}
	w.u16(uint16(area))
	for _, e := range v.Extended {
		w.u16(e.Type)
		w.u16(uint16(4 + len(e.Data)))
		w.bytes(e.Data)
	}
	return nil
}
