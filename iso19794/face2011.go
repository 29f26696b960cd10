package iso19794

import (
	"errors"
	"fmt"
	"image"
)

var facVersion30 = []byte("030\x00")

// ErrUnsupportedRecord reports a well-formed record that uses a part of its
// standard this package does not read (a 3-D face representation).
var ErrUnsupportedRecord = errors.New("record feature not supported")

// FaceImageDataType2011 is how an ISO/IEC 19794-5:2011 face image is
// compressed. Its codes differ from 2005's from 1 on: 2011 tells lossy from
// lossless JPEG 2000 and adds PNG.
type FaceImageDataType2011 uint8

// Face image data types of ISO/IEC 19794-5:2011.
const (
	Face2011JPEG             FaceImageDataType2011 = 0
	Face2011JPEG2000Lossy    FaceImageDataType2011 = 1
	Face2011JPEG2000Lossless FaceImageDataType2011 = 2
	Face2011PNG              FaceImageDataType2011 = 3
)

// String names the data type.
func (t FaceImageDataType2011) String() string {
	switch t {
	case Face2011JPEG:
		return "JPEG"
	case Face2011JPEG2000Lossy:
		return "JPEG 2000 lossy"
	case Face2011JPEG2000Lossless:
		return "JPEG 2000 lossless"
	case Face2011PNG:
		return "PNG"
	}
	return fmt.Sprintf("FaceImageDataType2011(%d)", uint8(t))
}

// Face3D is the bit of a 2011 face image type that marks a 3-D
// representation (0x80 basic 3-D, 0x81 full frontal 3-D, 0x82 token frontal
// 3-D), which carries a 3-D information block this package does not read.
const Face3D = 0x80

// LandmarkPoint is one facial landmark of a 2011 record.
type LandmarkPoint struct {
	// Type is 1 for an MPEG-4 feature point, 2 for an anthropometric
	// landmark.
	Type uint8
	// Code is the point's code (for MPEG-4 points, group in the high
	// nibble and index in the low one, as FeaturePoint.Code).
	Code uint8
	// X, Y and Z are the position in pixels (Z 0 for 2-D images).
	X, Y, Z uint16
}

// FaceRepresentation is one face image of an ISO/IEC 19794-5:2011 record,
// with its capture, facial and image information.
type FaceRepresentation struct {
	// Captured is when the image was taken.
	Captured CaptureDateTime
	// DeviceTechnology is the capture device technology (0 unknown,
	// 1 static photograph from an unknown source, 2 digital still, …).
	DeviceTechnology uint8
	// DeviceVendorID and DeviceTypeID identify the capture device.
	DeviceVendorID, DeviceTypeID uint16
	// Quality holds the quality blocks (at most 255).
	Quality []QualityBlock
	// Gender, EyeColour and HairColour are coded as in the 2005 edition.
	Gender     Gender
	EyeColour  EyeColour
	HairColour uint8
	// SubjectHeight is the subject's height in 2 cm units (0 unspecified).
	SubjectHeight uint8
	// Properties is the 24-bit property mask (FaceGlasses, FaceBeard, …).
	Properties uint32
	// Expression is the expression code, as in the 2005 edition.
	Expression uint16
	// Pose holds the raw pose angles and uncertainties, coded as in 2005.
	Pose PoseAngles
	// LandmarkPoints are the landmarks.
	LandmarkPoints []LandmarkPoint
	// ImageType is 0 basic, 1 full frontal, 2 token frontal, 3 post-processed
	// frontal (Face3D set: a 3-D image, refused by the decoder).
	ImageType uint8
	// DataType says how Data is compressed.
	DataType FaceImageDataType2011
	// Width and Height are the image size in pixels.
	Width, Height uint16
	// SpatialSamplingRate is the spatial sampling rate level code.
	SpatialSamplingRate uint8
	// PostAcquisition is the post-acquisition processing bit field
	// (rotated, cropped, down-sampled, white-balanced, …).
	PostAcquisition uint16
	// CrossReference links representations of one capture (0 basic).
	CrossReference uint8
	// ColourSpace is 0 unspecified, 1 24-bit sRGB, 2 YUV422, 3 8-bit grey,
	// 4 other.
	ColourSpace uint8
	// Data is the compressed image, exactly as stored.
	Data []byte
}

// DecodeImage decodes a JPEG or PNG Data to pixels; JPEG 2000 gives
// ErrUnsupportedImage.
func (f *FaceRepresentation) DecodeImage() (image.Image, error) {
	img, err := decodeEmbedded(f.Data)
	if err != nil {
		return nil, fmt.Errorf("iso19794: face image: %w", err)
	}
	return img, nil
}

// FaceRecord2011 is an ISO/IEC 19794-5:2011 face image record.
type FaceRecord2011 struct {
	// TemporalSemantics says how the representations relate in time
	// (0 one image, 0xFFFF unordered, other values the interval in ms).
	TemporalSemantics uint16
	// Representations are the face images (at most 65,535).
	Representations []FaceRepresentation
}

// Iso19794p5v2011Codec reads and writes ISO/IEC 19794-5:2011 face image
// records ("FAC\0", version "030\0"), the edition national ID platforms
// (MOSIP among them) exchange. Layout (ISO/IEC 19794-5:2011 clause 5,
// Table 2): a 17-byte general header (format identifier, version, record
// length, number of representations, certification flag, temporal
// semantics); per representation its length (4), capture date and time
// (9), device technology (1), vendor (2) and type (2), quality blocks
// (1 + 5 each), the facial information block (17: landmark count, gender,
// eye and hair colour, subject height, property mask (3), expression (2),
// pose angles (3) and uncertainties (3)), the landmark points (8 each:
// type, code, x, y, z), the image information block (11: face image type,
// data type, width, height, spatial sampling rate level, post-acquisition
// processing (2), cross reference, colour space) and the image data.
type Iso19794p5v2011Codec struct {
	// Strict rejects a record whose declared length is shorter than the
	// bytes given, instead of ignoring what follows it.
	Strict bool
}

const (
	face2011HeaderLen  = 17
	face2011FixedLen   = 4 + 9 + 5 + 1 + 17 + 11 // without quality blocks, landmarks and data
	face2011QualityLen = 5
)

// Decode reads one 2011 face record. Errors wrap ErrTruncated,
// ErrMalformed or ErrUnsupportedRecord.
func (c Iso19794p5v2011Codec) Decode(b []byte) (*FaceRecord2011, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-5:2011: %w", err)
	}
	return rec, nil
}

func (c Iso19794p5v2011Codec) decode(b []byte) (*FaceRecord2011, error) {
	r := &reader{b: b}
	if err := r.header(facMagic, facVersion30); err != nil {
		return nil, err
	}
	length := int(r.u32())
	n := int(r.u16())
	certification := r.u8()
	rec := &FaceRecord2011{TemporalSemantics: r.u16()}
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if certification != 0 {
		// The 2011 face edition defines no certification blocks.
		return nil, fmt.Errorf("certification flag %d, want 0: %w", certification, ErrMalformed)
	}
	if err := checkLength(length, face2011HeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * face2011FixedLen; minSize > r.remaining() {
		return nil, fmt.Errorf("%d representations need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec.Representations = make([]FaceRepresentation, n)
	for i := range rec.Representations {
		if err := decodeFaceRepresentation(r, &rec.Representations[i]); err != nil {
			return nil, fmt.Errorf("representation %d: %w", i, err)
		}
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last representation: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

func decodeFaceRepresentation(r *reader, f *FaceRepresentation) error {
	start := r.off
	declared := int(r.u32())
	f.Captured = CaptureDateTime{Year: r.u16(), Month: r.u8(), Day: r.u8(), Hour: r.u8(), Minute: r.u8(), Second: r.u8(), Millisecond: r.u16()}
	f.DeviceTechnology = r.u8()
	f.DeviceVendorID, f.DeviceTypeID = r.u16(), r.u16()
	nq := int(r.u8())
	quality := r.take(face2011QualityLen * nq)
	if r.err != nil {
		return fmt.Errorf("header and %d quality blocks: %w", nq, r.err)
	}
	f.Quality = make([]QualityBlock, nq)
	for i := range f.Quality {
		q := &reader{b: quality[face2011QualityLen*i : face2011QualityLen*(i+1)]}
		f.Quality[i] = QualityBlock{Score: q.u8(), AlgorithmVendorID: q.u16(), AlgorithmID: q.u16()}
	}
	nPoints := int(r.u16())
	f.Gender = Gender(r.u8())
	f.EyeColour = EyeColour(r.u8())
	f.HairColour = r.u8()
	f.SubjectHeight = r.u8()
	f.Properties = uint32(r.u8())<<16 | uint32(r.u16())
	f.Expression = r.u16()
	f.Pose = PoseAngles{r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()}
	if r.err != nil {
		return fmt.Errorf("facial information: %w", r.err)
	}
	fixed := face2011FixedLen + face2011QualityLen*nq + featurePtLen*nPoints
	switch {
	case declared < fixed:
		return fmt.Errorf("representation length %d, %d quality blocks and %d landmarks need %d: %w", declared, nq, nPoints, fixed, ErrMalformed)
	case declared-(r.off-start) > r.remaining():
		return fmt.Errorf("representation length %d, %d bytes left: %w", declared, r.remaining()+(r.off-start), ErrTruncated)
	}
	points := r.take(featurePtLen * nPoints)
	f.LandmarkPoints = make([]LandmarkPoint, nPoints)
	for i := range f.LandmarkPoints {
		p := &reader{b: points[featurePtLen*i : featurePtLen*(i+1)]}
		f.LandmarkPoints[i] = LandmarkPoint{Type: p.u8(), Code: p.u8(), X: p.u16(), Y: p.u16(), Z: p.u16()}
	}
	f.ImageType = r.u8()
	f.DataType = FaceImageDataType2011(r.u8())
	f.Width, f.Height = r.u16(), r.u16()
	f.SpatialSamplingRate = r.u8()
	f.PostAcquisition = r.u16()
	f.CrossReference = r.u8()
	f.ColourSpace = r.u8()
	if r.err != nil {
		return fmt.Errorf("image information: %w", r.err)
	}
	if f.ImageType&Face3D != 0 {
		return fmt.Errorf("face image type %#02x is 3-D: %w", f.ImageType, ErrUnsupportedRecord)
	}
	f.Data = r.clone(declared - fixed)
	if r.err != nil {
		return fmt.Errorf("image: %w", r.err)
	}
	return nil
}

// Encode writes rec as an ISO/IEC 19794-5:2011 record.
func (c Iso19794p5v2011Codec) Encode(rec *FaceRecord2011) ([]byte, error) {
	out, err := encodeFace2011(rec)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode ISO/IEC 19794-5:2011: %w", err)
	}
	return out, nil
}

func (f *FaceRepresentation) encodedLen() uint64 {
	return uint64(face2011FixedLen + face2011QualityLen*len(f.Quality) + featurePtLen*len(f.LandmarkPoints) + len(f.Data))
}

func encodeFace2011(rec *FaceRecord2011) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Representations) > 0xFFFF {
		return nil, fmt.Errorf("%d representations, at most 65535: %w", len(rec.Representations), ErrMalformed)
	}
	total := uint64(face2011HeaderLen)
	for i := range rec.Representations {
		f := &rec.Representations[i]
		switch {
		case len(f.Quality) > 255 || len(f.LandmarkPoints) > 0xFFFF || f.Properties > 0xFFFFFF:
			return nil, fmt.Errorf("representation %d: %d quality blocks, %d landmarks, property mask %#x: %w", i, len(f.Quality), len(f.LandmarkPoints), f.Properties, ErrMalformed)
		case f.ImageType&Face3D != 0:
			return nil, fmt.Errorf("representation %d: face image type %#02x is 3-D: %w", i, f.ImageType, ErrUnsupportedRecord)
		}
		total += f.encodedLen()
	}
	if total > 0xFFFFFFFF {
		return nil, fmt.Errorf("record of %d bytes: %w", total, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, total)}
	w.bytes(facMagic)
	w.bytes(facVersion30)
	w.u32(uint32(total))
	w.u16(uint16(len(rec.Representations)))
	w.u8(0) // certification flag
	w.u16(rec.TemporalSemantics)
	for i := range rec.Representations {
		f := &rec.Representations[i]
		w.u32(uint32(f.encodedLen()))
		d := f.Captured
		w.u16(d.Year)
		w.bytes([]byte{d.Month, d.Day, d.Hour, d.Minute, d.Second})
		w.u16(d.Millisecond)
		w.u8(f.DeviceTechnology)
		w.u16(f.DeviceVendorID)
		w.u16(f.DeviceTypeID)
		w.u8(uint8(len(f.Quality)))
		for _, q := range f.Quality {
			w.u8(q.Score)
			w.u16(q.AlgorithmVendorID)
			w.u16(q.AlgorithmID)
		}
		w.u16(uint16(len(f.LandmarkPoints)))
		w.bytes([]byte{uint8(f.Gender), uint8(f.EyeColour), f.HairColour, f.SubjectHeight, uint8(f.Properties >> 16)})
		w.u16(uint16(f.Properties))
		w.u16(f.Expression)
		p := f.Pose
		w.bytes([]byte{p.Yaw, p.Pitch, p.Roll, p.YawUncertainty, p.PitchUncertainty, p.RollUncertainty})
		for _, lp := range f.LandmarkPoints {
			w.u8(lp.Type)
			w.u8(lp.Code)
			w.u16(lp.X)
			w.u16(lp.Y)
			w.u16(lp.Z)
		}
		w.bytes([]byte{f.ImageType, uint8(f.DataType)})
		w.u16(f.Width)
		w.u16(f.Height)
		w.u8(f.SpatialSamplingRate)
		w.u16(f.PostAcquisition)
		w.u8(f.CrossReference)
		w.u8(f.ColourSpace)
		w.bytes(f.Data)
	}
	return w.b, nil
}
