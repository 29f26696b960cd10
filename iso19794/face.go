package iso19794

import (
	"fmt"
	"image"
)

var (
	facMagic     = []byte("FAC\x00")
	facVersion10 = []byte("010\x00")
)

// Gender is the subject's gender code: 0 unspecified, 1 male, 2 female,
// 0xFF unknown.
type Gender uint8

// String names the gender code.
func (g Gender) String() string {
	switch g {
	case 0:
		return "unspecified"
	case 1:
		return "male"
	case 2:
		return "female"
	case 0xFF:
		return "unknown"
	}
	return fmt.Sprintf("Gender(%d)", uint8(g))
}

// EyeColour is the subject's eye colour code: 0 unspecified, 1 black,
// 2 blue, 3 brown, 4 grey, 5 green, 6 multi-coloured, 7 pink, 0xFF other or
// unknown.
type EyeColour uint8

var eyeColourNames = [...]string{"unspecified", "black", "blue", "brown", "grey", "green", "multi-coloured", "pink"}

// String names the eye colour code.
func (c EyeColour) String() string {
	if int(c) < len(eyeColourNames) {
		return eyeColourNames[c]
	}
	if c == 0xFF {
		return "other or unknown"
	}
	return fmt.Sprintf("EyeColour(%d)", uint8(c))
}

// Face property mask bits (FaceImage.Properties).
const (
	// FacePropertiesSpecified says the other property bits were filled in.
	FacePropertiesSpecified uint32 = 1 << iota
	// FaceGlasses marks glasses.
	FaceGlasses
	// FaceMoustache marks a moustache.
	FaceMoustache
	// FaceBeard marks a beard.
	FaceBeard
	// FaceTeeth marks visible teeth.
	FaceTeeth
	// FaceBlink marks a blink (eyes closed).
	FaceBlink
	// FaceMouthOpen marks an open mouth.
	FaceMouthOpen
	// FaceLeftEyePatch marks a patch over the left eye.
	FaceLeftEyePatch
	// FaceRightEyePatch marks a patch over the right eye.
	FaceRightEyePatch
	// FaceDarkGlasses marks dark glasses.
	FaceDarkGlasses
	// FaceMedicalCondition marks a medical condition that distorts the face.
	FaceMedicalCondition
)

// PoseAngles are the head pose angles and their uncertainties, raw as
// encoded: for angles 0 means unspecified and 1–181 encode −180° to 180° in
// 2° steps (see PoseAngleDegrees); for uncertainties 0 means unspecified and
// 1–91 encode 0° to 180° (see PoseUncertaintyDegrees).
type PoseAngles struct {
	// Yaw, Pitch and Roll are the raw pose angles.
	Yaw, Pitch, Roll uint8
	// YawUncertainty, PitchUncertainty and RollUncertainty are the raw
	// uncertainties of the angles.
	YawUncertainty, PitchUncertainty, RollUncertainty uint8
}

// PoseAngleDegrees decodes a raw pose angle: 1–91 are 0° to 180°, 92–181 are
// −180° to −2° (the encoding (round(a/2) + 181) mod 181 + 1). It returns
// false for 0 (unspecified) and values above 181.
func PoseAngleDegrees(raw uint8) (degrees int, ok bool) {
	if raw == 0 || raw > 181 {
		return 0, false
	}
	v := int(raw) - 1
	if v > 90 {
		v -= 181
	}
	return 2 * v, true
}

// PoseUncertaintyDegrees decodes a raw pose angle uncertainty: 1–91 are 0°
// to 180°. It returns false for 0 (unspecified) and values above 91.
func PoseUncertaintyDegrees(raw uint8) (degrees int, ok bool) {
	if raw == 0 || raw > 91 {
		return 0, false
	}
	return 2 * (int(raw) - 1), true
}

// FeaturePoint is one facial landmark, coded as an MPEG-4 feature point.
type FeaturePoint struct {
	// Type is the feature point type (1: 2-D MPEG-4 feature point).
	Type uint8
	// Code is the MPEG-4 point code: major group in the high nibble, minor
	// index in the low one (0x36 is MPEG-4 point 3.6).
	Code uint8
	// X and Y are the position in pixels.
	X, Y uint16
	// Reserved is the reserved field, kept for exact re-encoding.
	Reserved uint16
}

// Major returns the MPEG-4 feature point group (high nibble of Code).
func (p FeaturePoint) Major() uint8 { return p.Code >> 4 }

// Minor returns the index within the group (low nibble of Code).
func (p FeaturePoint) Minor() uint8 { return p.Code & 0x0F }

// FaceImageDataType is how a face image is compressed: 0 JPEG, 1 JPEG 2000.
type FaceImageDataType uint8

// Face image data types.
const (
	// FaceJPEG is JPEG (ISO/IEC 10918).
	FaceJPEG FaceImageDataType = 0
	// FaceJPEG2000 is JPEG 2000 (ISO/IEC 15444).
	FaceJPEG2000 FaceImageDataType = 1
)

// String names the data type.
func (t FaceImageDataType) String() string {
	switch t {
	case FaceJPEG:
		return "JPEG"
	case FaceJPEG2000:
		return "JPEG 2000"
	}
	return fmt.Sprintf("FaceImageDataType(%d)", uint8(t))
}

// FaceImage is one facial image with its facial and image information.
type FaceImage struct {
	// Gender is the subject's gender.
	Gender Gender
	// EyeColour is the subject's eye colour.
	EyeColour EyeColour
	// HairColour is the hair colour code: 0 unspecified, 1 bald, 2 black,
	// 3 blonde, 4 brown, 5 grey, 6 white, 7 red, 0xFF unknown.
	HairColour uint8
	// Properties is the 24-bit property mask (FaceGlasses, FaceBeard, …).
	Properties uint32
	// Expression is 0 unspecified, 1 neutral, 2 smile with closed jaw,
	// 3 smile with open jaw, 4 raised eyebrows, 5 eyes looking away,
	// 6 squinting, 7 frowning.
	Expression uint16
	// Pose holds the raw pose angles and uncertainties.
	Pose PoseAngles
	// FeaturePoints are the landmarks.
	FeaturePoints []FeaturePoint
	// ImageType is 0 basic, 1 full frontal, 2 token frontal.
	ImageType uint8
	// DataType says how Data is compressed (JPEG or JPEG 2000).
	DataType FaceImageDataType
	// Width and Height are the image size in pixels.
	Width, Height uint16
	// ColourSpace is 0 unspecified, 1 24-bit RGB, 2 YUV422, 3 8-bit grey,
	// 4 other.
	ColourSpace uint8
	// SourceType is 0 unspecified, 1 static photo from an unknown source,
	// 2 digital still camera, 3 scanner, 4 video frame from an unknown
	// source, 5 analogue video, 6 digital video, 7 unknown.
	SourceType uint8
	// DeviceType is the vendor's capture device code.
	DeviceType uint16
	// Quality is the image quality (0 unspecified).
	Quality uint16
	// Data is the compressed image, exactly as stored.
	Data []byte
}

// DecodeImage decodes a JPEG Data to pixels; JPEG 2000 gives
// ErrUnsupportedImage.
func (f *FaceImage) DecodeImage() (image.Image, error) {
	img, err := decodeEmbedded(f.Data)
	if err != nil {
		return nil, fmt.Errorf("iso19794: face image: %w", err)
	}
	return img, nil
}

// FaceRecord is an ISO/IEC 19794-5:2005 face image record.
type FaceRecord struct {
	// Images are the facial images (at most 65,535).
	Images []FaceImage
}

// Iso19794p5v2005Codec reads and writes ISO/IEC 19794-5:2005 face image
// records ("FAC\0", version "010\0").
type Iso19794p5v2005Codec struct {
	// Strict rejects a record whose declared length is shorter than the
	// bytes given, instead of ignoring what follows it.
	Strict bool
}

const (
	faceHeaderLen = 14
	faceInfoLen   = 20
	faceImgInfo   = 12
	featurePtLen  = 8
)

// Decode reads one face record. Errors wrap ErrTruncated or ErrMalformed.
func (c Iso19794p5v2005Codec) Decode(b []byte) (*FaceRecord, error) {
	rec, err := c.decode(b)
	if err != nil {
		return nil, fmt.Errorf("iso19794: ISO/IEC 19794-5:2005: %w", err)
	}
	return rec, nil
}

func (c Iso19794p5v2005Codec) decode(b []byte) (*FaceRecord, error) {
	r := &reader{b: b}
	if err := r.header(facMagic, facVersion10); err != nil {
		return nil, err
	}
	length := int(r.u32())
	n := int(r.u16())
	if r.err != nil {
		return nil, fmt.Errorf("header: %w", r.err)
	}
	if err := checkLength(length, faceHeaderLen, len(b), c.Strict); err != nil {
		return nil, err
	}
	r.b = b[:length]
	if minSize := n * (faceInfoLen + faceImgInfo); minSize > r.remaining() {
		return nil, fmt.Errorf("%d images need at least %d bytes, %d left: %w", n, minSize, r.remaining(), ErrTruncated)
	}
	rec := &FaceRecord{Images: make([]FaceImage, n)}
	for i := range rec.Images {
		if err := decodeFaceImage(r, &rec.Images[i]); err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
	}
	if r.remaining() != 0 && c.Strict {
		return nil, fmt.Errorf("%d bytes after the last image: %w", r.remaining(), ErrMalformed)
	}
	return rec, nil
}

func decodeFaceImage(r *reader, f *FaceImage) error {
	blockLen := int(r.u32())
	nPoints := int(r.u16())
	f.Gender = Gender(r.u8())
	f.EyeColour = EyeColour(r.u8())
	f.HairColour = r.u8()
	f.Properties = uint32(r.u8())<<16 | uint32(r.u16())
	f.Expression = r.u16()
	f.Pose = PoseAngles{r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()}
	if r.err != nil {
		return fmt.Errorf("facial information: %w", r.err)
	}
	fixed := faceInfoLen + featurePtLen*nPoints + faceImgInfo
	switch {
	case blockLen < fixed:
		return fmt.Errorf("block length %d, %d feature points need %d: %w", blockLen, nPoints, fixed, ErrMalformed)
	case blockLen-faceInfoLen > r.remaining():
		return fmt.Errorf("block length %d, %d bytes left: %w", blockLen, r.remaining()+faceInfoLen, ErrTruncated)
	}
	points := r.take(featurePtLen * nPoints)
	f.FeaturePoints = make([]FeaturePoint, nPoints)
	for i := range f.FeaturePoints {
		p := &reader{b: points[featurePtLen*i : featurePtLen*(i+1)]}
		f.FeaturePoints[i] = FeaturePoint{Type: p.u8(), Code: p.u8(), X: p.u16(), Y: p.u16(), Reserved: p.u16()}
	}
	f.ImageType = r.u8()
	f.DataType = FaceImageDataType(r.u8())
	f.Width, f.Height = r.u16(), r.u16()
	f.ColourSpace = r.u8()
	f.SourceType = r.u8()
	f.DeviceType = r.u16()
	f.Quality = r.u16()
	f.Data = r.clone(blockLen - fixed)
	if r.err != nil {
		return fmt.Errorf("image: %w", r.err)
	}
	return nil
}

// Encode writes rec as an ISO/IEC 19794-5:2005 record.
func (c Iso19794p5v2005Codec) Encode(rec *FaceRecord) ([]byte, error) {
	out, err := encodeFace(rec)
	if err != nil {
		return nil, fmt.Errorf("iso19794: encode ISO/IEC 19794-5:2005: %w", err)
	}
	return out, nil
}

func encodeFace(rec *FaceRecord) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("nil record: %w", ErrMalformed)
	}
	if len(rec.Images) > 0xFFFF {
		return nil, fmt.Errorf("%d images, at most 65535: %w", len(rec.Images), ErrMalformed)
	}
	total := uint64(faceHeaderLen)
	for i := range rec.Images {
		f := &rec.Images[i]
		if len(f.FeaturePoints) > 0xFFFF || f.Properties > 0xFFFFFF {
			return nil, fmt.Errorf("image %d: %d feature points, property mask %#x: %w", i, len(f.FeaturePoints), f.Properties, ErrMalformed)
		}
		total += uint64(faceInfoLen + featurePtLen*len(f.FeaturePoints) + faceImgInfo + len(f.Data))
	}
	if total > 0xFFFFFFFF {
		return nil, fmt.Errorf("record of %d bytes: %w", total, ErrMalformed)
	}
	w := &writer{b: make([]byte, 0, total)}
	w.bytes(facMagic)
	w.bytes(facVersion10)
	w.u32(uint32(total))
	w.u16(uint16(len(rec.Images)))
	for i := range rec.Images {
		f := &rec.Images[i]
		w.u32(uint32(faceInfoLen + featurePtLen*len(f.FeaturePoints) + faceImgInfo + len(f.Data)))
		w.u16(uint16(len(f.FeaturePoints)))
		w.u8(uint8(f.Gender))
		w.u8(uint8(f.EyeColour))
		w.u8(f.HairColour)
		w.u8(uint8(f.Properties >> 16))
		w.u16(uint16(f.Properties))
		w.u16(f.Expression)
		p := f.Pose
		w.bytes([]byte{p.Yaw, p.Pitch, p.Roll, p.YawUncertainty, p.PitchUncertainty, p.RollUncertainty})
		for _, fp := range f.FeaturePoints {
			w.u8(fp.Type)
			w.u8(fp.Code)
			w.u16(fp.X)
			w.u16(fp.Y)
			w.u16(fp.Reserved)
		}
		w.u8(f.ImageType)
		w.u8(uint8(f.DataType))
		w.u16(f.Width)
		w.u16(f.Height)
		w.u8(f.ColourSpace)
		w.u8(f.SourceType)
		w.u16(f.DeviceType)
		w.u16(f.Quality)
		w.bytes(f.Data)
	}
	return w.b, nil
}
