package iso19794

import (
	"fmt"
	"math"
)

// FingerFormat names the standard and version a finger minutiae record follows.
type FingerFormat uint8

// The finger minutiae record formats this package reads and writes.
const (
	// FingerFormatUnknown is the zero value: no format chosen.
	FingerFormatUnknown FingerFormat = iota
	// FingerISO19794p2v2005 is ISO/IEC 19794-2:2005, version " 20".
	FingerISO19794p2v2005
	// FingerANSI378v2004 is ANSI INCITS 378-2004, version " 20".
	FingerANSI378v2004
	// FingerANSI378v2007 is the 2007 edition of ANSI INCITS 378, version "030".
	FingerANSI378v2007
)

// String names the format as its standard does.
func (f FingerFormat) String() string {
	switch f {
	case FingerISO19794p2v2005:
		return "ISO/IEC 19794-2:2005"
	case FingerANSI378v2004:
		return "ANSI INCITS 378-2004"
	case FingerANSI378v2007:
		return "ANSI INCITS 378-2007"
	}
	return fmt.Sprintf("FingerFormat(%d)", uint8(f))
}

// AngleUnitDegrees returns the size in degrees of one unit of a raw minutia
// angle: 360/256 for ISO/IEC 19794-2, 2 for ANSI INCITS 378. Angles count
// counter-clockwise from the horizontal axis pointing right.
func (f FingerFormat) AngleUnitDegrees() float64 {
	if f == FingerISO19794p2v2005 {
		return 360.0 / 256
	}
	return 2
}

// AngleDegrees converts a raw angle of this format to degrees.
func (f FingerFormat) AngleDegrees(raw uint8) float64 {
	return float64(raw) * f.AngleUnitDegrees()
}

// AngleRadians converts a raw angle of this format to radians in [0, 2π).
func (f FingerFormat) AngleRadians(raw uint8) float64 {
	return f.AngleDegrees(raw) * math.Pi / 180
}

// RawAngle converts an angle in degrees (any value; it is wrapped to
// [0, 360)) to the nearest raw unit of this format.
func (f FingerFormat) RawAngle(degrees float64) uint8 {
	d := math.Mod(degrees, 360)
	if d < 0 {
		d += 360
	}
	unit := f.AngleUnitDegrees()
	steps := int(math.Round(d/unit)) % int(math.Round(360/unit))
	return uint8(steps)
}

// MinutiaType is the kind of ridge event a minutia marks.
type MinutiaType uint8

// Minutia types as coded in the two type bits.
const (
	// MinutiaOther is a minutia of another or unknown kind.
	MinutiaOther MinutiaType = 0
	// MinutiaEnding is a ridge ending.
	MinutiaEnding MinutiaType = 1
	// MinutiaBifurcation is a ridge bifurcation.
	MinutiaBifurcation MinutiaType = 2
)

// String names the minutia type.
func (t MinutiaType) String() string {
	switch t {
	case MinutiaOther:
		return "other"
	case MinutiaEnding:
		return "ending"
	case MinutiaBifurcation:
		return "bifurcation"
	}
	return fmt.Sprintf("MinutiaType(%d)", uint8(t))
}

// Minutia is one minutia point of a finger view.
type Minutia struct {
	// Type is ending, bifurcation or other (two bits; 3 is reserved).
	Type MinutiaType
	// X and Y are the position in pixels from the top-left corner (14 bits).
	X, Y uint16
	// Angle is the direction in the record's raw unit (see
	// FingerFormat.AngleUnitDegrees); Degrees and Radians convert it.
	Angle uint8
	// Quality is 1 (worst) to 100 (best); 0 means not reported.
	Quality uint8
	// Reserved holds the two reserved bits above Y, kept so that a record
	// re-encodes byte for byte; writers set it to zero.
	Reserved uint8
}

// Degrees returns the minutia direction in degrees for a record of format f.
func (m Minutia) Degrees(f FingerFormat) float64 { return f.AngleDegrees(m.Angle) }

// Radians returns the minutia direction in radians for a record of format f.
func (m Minutia) Radians(f FingerFormat) float64 { return f.AngleRadians(m.Angle) }

// FingerPosition is the finger position code shared by ISO/IEC 19794 and
// ANSI/NIST: 0 unknown, 1–5 right thumb to little, 6–10 left thumb to
// little, 11–14 plain thumbs and plain four-finger slaps.
type FingerPosition uint8

var fingerPositionNames = [...]string{
	"unknown", "right thumb", "right index", "right middle", "right ring", "right little",
	"left thumb", "left index", "left middle", "left ring", "left little",
	"plain right thumb", "plain left thumb", "plain right four fingers", "plain left four fingers",
}

// String names the finger position.
func (p FingerPosition) String() string {
	if int(p) < len(fingerPositionNames) {
		return fingerPositionNames[p]
	}
	return fmt.Sprintf("FingerPosition(%d)", uint8(p))
}

// ImpressionType says how a finger image was captured: 0 live-scan plain,
// 1 live-scan rolled, 2 non-live-scan plain, 3 non-live-scan rolled,
// 8 live-scan swipe (ANSI), 9 live-scan contactless.
type ImpressionType uint8

// String names the impression type.
func (t ImpressionType) String() string {
	switch t {
	case 0:
		return "live-scan plain"
	case 1:
		return "live-scan rolled"
	case 2:
		return "non-live-scan plain"
	case 3:
		return "non-live-scan rolled"
	case 8:
		return "live-scan swipe"
	case 9:
		return "live-scan contactless"
	}
	return fmt.Sprintf("ImpressionType(%d)", uint8(t))
}

// Extended data block type identifiers defined by the standards; other
// values are vendor-defined.
const (
	// ExtendedRidgeCount identifies a ridge count data block.
	ExtendedRidgeCount uint16 = 0x0001
	// ExtendedCoreDelta identifies a core and delta data block.
	ExtendedCoreDelta uint16 = 0x0002
)

// ExtendedDataBlock is one block of a finger view's extended data area, kept
// as raw bytes. RidgeCounts and CoresDeltas decode the two standard kinds.
type ExtendedDataBlock struct {
	// Type is the block type identifier (ExtendedRidgeCount, ExtendedCoreDelta
	// or a vendor-defined value).
	Type uint16
	// Data is the block content after its 4-byte type and length header.
	Data []byte
}

// FingerView is one finger view: a finger, an impression and its minutiae.
type FingerView struct {
	// Position is the finger.
	Position FingerPosition
	// ViewNumber tells apart several views of one finger (4 bits, except a
	// full byte in ANSI INCITS 378-2007).
	ViewNumber uint8
	// Impression says how the image was captured (4 bits, except a full byte
	// in ANSI INCITS 378-2007).
	Impression ImpressionType
	// Quality is the finger image quality, 0 to 100.
	Quality uint8
	// QualityVendorID and QualityAlgorithmID name the algorithm that scored
	// Quality (ANSI INCITS 378-2007 only; zero elsewhere).
	QualityVendorID, QualityAlgorithmID uint16
	// Width, Height, XResolution and YResolution describe this view's image
	// (ANSI INCITS 378-2007 only, which stores them per view; zero for the
	// other formats, where the record header holds them). Resolutions are in
	// pixels per centimetre.
	Width, Height, XResolution, YResolution uint16
	// Minutiae are the minutiae in record order (at most 255).
	Minutiae []Minutia
	// Extended holds the extended data blocks in record order.
	Extended []ExtendedDataBlock
}

// FingerMinutiaeRecord is a finger minutiae record in any of the supported
// formats: a header about the capture and one or more finger views.
type FingerMinutiaeRecord struct {
	// Format is the standard and version the record was read from, and the
	// unit its raw angles are in.
	Format FingerFormat
	// CBEFFProductOwner and CBEFFProductType identify the product that made
	// the record (ANSI INCITS 378 only; zero for ISO).
	CBEFFProductOwner, CBEFFProductType uint16
	// CaptureEquipmentCompliance is the 4-bit certification field (bit 3 set:
	// the scanner complies with the FBI's Appendix F).
	CaptureEquipmentCompliance uint8
	// CaptureEquipmentID is the vendor's 12-bit scanner identifier.
	CaptureEquipmentID uint16
	// Width and Height are the image size in pixels. For ANSI INCITS
	// 378-2007, which stores them per view, the decoder copies those of the
	// first view here.
	Width, Height uint16
	// XResolution and YResolution are in pixels per centimetre (197 ≈ 500
	// ppi). Copied from the first view for ANSI INCITS 378-2007.
	XResolution, YResolution uint16
	// Reserved is the header's reserved byte, kept for exact re-encoding.
	Reserved uint8
	// Views are the finger views (at most 255).
	Views []FingerView
	// Trailing holds bytes that follow the last view inside the declared
	// record length; kept so that such records re-encode byte for byte.
	Trailing []byte
}

// ImageGeometry returns the image size (pixels) and resolution (pixels per
// centimetre) that apply to view i: the view's own when it has them (ANSI
// INCITS 378-2007), otherwise the record header's.
func (r *FingerMinutiaeRecord) ImageGeometry(i int) (width, height, xres, yres uint16) {
	if i >= 0 && i < len(r.Views) {
		v := &r.Views[i]
		if v.Width != 0 || v.Height != 0 || v.XResolution != 0 || v.YResolution != 0 {
			return v.Width, v.Height, v.XResolution, v.YResolution
		}
	}
	return r.Width, r.Height, r.XResolution, r.YResolution
}

// PixelsPerInch converts a resolution in pixels per centimetre, the unit of
// these records, to pixels per inch.
func PixelsPerInch(pixelsPerCentimetre uint16) float64 {
	return float64(pixelsPerCentimetre) * 2.54
}

// RidgeCount is one ridge count between two minutiae.
type RidgeCount struct {
	// A and B are 1-based indices of the two minutiae in the view's
	// Minutiae (A is Minutiae[A-1]); writers that list a fixed number of
	// neighbours per minutia pad with B = 0 and Count = 0.
	A, B uint8
	// Count is the number of ridges crossed between them.
	Count uint8
}

// RidgeCounts is the decoded content of a ridge count data block.
type RidgeCounts struct {
	// Method is the extraction method: 0 non-specific, 1 four-neighbour,
	// 2 eight-neighbour.
	Method uint8
	// Counts are the ridge counts in block order.
	Counts []RidgeCount
}

// RidgeCounts decodes a ridge count block (Type ExtendedRidgeCount); the
// layout is the same in every supported format.
func (b ExtendedDataBlock) RidgeCounts() (RidgeCounts, error) {
	if b.Type != ExtendedRidgeCount {
		return RidgeCounts{}, fmt.Errorf("iso19794: ridge counts: block type %#04x: %w", b.Type, ErrMalformed)
	}
	if len(b.Data) < 1 || (len(b.Data)-1)%3 != 0 {
		return RidgeCounts{}, fmt.Errorf("iso19794: ridge counts: %d bytes is not 1 + 3n: %w", len(b.Data), ErrMalformed)
	}
	rc := RidgeCounts{Method: b.Data[0], Counts: make([]RidgeCount, 0, (len(b.Data)-1)/3)}
	for p := b.Data[1:]; len(p) >= 3; p = p[3:] {
		rc.Counts = append(rc.Counts, RidgeCount{A: p[0], B: p[1], Count: p[2]})
	}
	return rc, nil
}

// Core is a core point of a finger view.
type Core struct {
	// X and Y are the position in pixels.
	X, Y uint16
	// HasAngle tells whether Angle is present.
	HasAngle bool
	// Angle is the core direction in the record's raw angle unit.
	Angle uint8
}

// Delta is a delta point of a finger view.
type Delta struct {
	// X and Y are the position in pixels.
	X, Y uint16
	// HasAngles tells whether Angles are present.
	HasAngles bool
	// Angles are the directions of the three ridges meeting at the delta, in
	// the record's raw angle unit.
	Angles [3]uint8
}

// CoresDeltas is the decoded content of a core and delta data block.
type CoresDeltas struct {
	// Cores are the core points.
	Cores []Core
	// Deltas are the delta points.
	Deltas []Delta
}

// CoresDeltas decodes a core and delta block (Type ExtendedCoreDelta) of a
// record in format f. ISO/IEC 19794-2:2005 flags each point's angle in the
// two top bits of its X; ANSI INCITS 378 flags all cores (or all deltas) at
// once in the count byte. It reads what the counts declare and rejects a
// block too short for them.
func (b ExtendedDataBlock) CoresDeltas(f FingerFormat) (CoresDeltas, error) {
	var cd CoresDeltas
	if b.Type != ExtendedCoreDelta {
		return cd, fmt.Errorf("iso19794: cores and deltas: block type %#04x: %w", b.Type, ErrMalformed)
	}
	r := &reader{b: b.Data}
	perPoint := f == FingerISO19794p2v2005
	head := r.u8()
	n := int(head & 0x0F)
	allAngles := head>>6 == 1
	for i := 0; i < n && r.err == nil; i++ {
		x, y := r.u16(), r.u16()
		c := Core{X: x & 0x3FFF, Y: y & 0x3FFF, HasAngle: allAngles}
		if perPoint {
			c.HasAngle = x>>14 == 1
		}
		if c.HasAngle {
			c.Angle = r.u8()
		}
		cd.Cores = append(cd.Cores, c)
	}
	head = r.u8()
	n = int(head & 0x0F)
	if f == FingerANSI378v2004 {
		n = int(head & 0x3F)
	}
	allAngles = head>>6 == 1
	for i := 0; i < n && r.err == nil; i++ {
		x, y := r.u16(), r.u16()
		d := Delta{X: x & 0x3FFF, Y: y & 0x3FFF, HasAngles: allAngles}
		if perPoint {
			d.HasAngles = x>>14 == 1
		}
		if d.HasAngles {
			d.Angles = [3]uint8{r.u8(), r.u8(), r.u8()}
		}
		cd.Deltas = append(cd.Deltas, d)
	}
	if r.err != nil {
		return CoresDeltas{}, fmt.Errorf("iso19794: cores and deltas: %w", r.err)
	}
	return cd, nil
}
