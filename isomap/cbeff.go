package isomap

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/cbeff"
)

// FormatCBEFF is the sample format of a CBEFF XML container
// (ISO/IEC 19785-3) of ISO/IEC 19794 finger image, face and iris records,
// as national ID platforms send a person's biometrics.
const FormatCBEFF = "cbeff"

// bdbFormats maps the CBEFF format types of SC 37 (owner 257) to the
// sample formats of the records.
var bdbFormats = map[int]string{cbeff.TypeFingerImage: FormatFingerImage, cbeff.TypeFaceImage: FormatFace, cbeff.TypeIrisImage: FormatIris}

// unwrapCBEFF unwraps every record of a CBEFF container. The record's
// format comes from its BDB header (format type 7, 8 or 9; owners other
// than 257 are accepted, as MOSIP writes its name there); a sample
// modality in the request, if any, must be every record's.
func unwrapCBEFF(smp *huella.Sample, data []byte) ([]*huella.Sample, [][]byte, error) {
	records, err := cbeff.Unmarshal(data)
	if err != nil {
		return nil, nil, huella.Errorf(huella.EINVALID, "CBEFF container does not read: %v", errors.Unwrap(err))
	}
	var samples []*huella.Sample
	var images [][]byte
	for i, r := range records {
		t, _ := strconv.Atoi(r.FormatType)
		format := bdbFormats[t]
		if format == "" {
			return nil, nil, huella.Errorf(huella.EUNSUPPORTED, "CBEFF record %d: BDB format type %q is not a finger image, face or iris record (7, 8, 9)", i+1, r.FormatType)
		}
		one := *smp
		one.Format = format
		ss, ims, err := Unwrap(&one, r.Data)
		if err != nil {
			return nil, nil, huella.Errorf(huella.ErrorCode(err), "CBEFF record %d: %s", i+1, huella.ErrorMessage(err))
		}
		samples, images = append(samples, ss...), append(images, ims...)
	}
	return samples, images, nil
}

// ExportCBEFF writes the encounter's samples as one CBEFF XML container
// with one BDB per sample, each a one-image ISO/IEC 19794 record
// (SampleRecord), as MOSIP and other national ID platforms exchange
// them: BDB header with format owner 257 and type 7, 8 or 9, biometric
// type and subtype (finger and hand, eye), level Raw, purpose Enroll, the
// encounter's capture time and the sample's quality. SMT photos are left
// out.
func ExportCBEFF(e *huella.Encounter, images func(*huella.Sample) ([]byte, error)) ([]byte, error) {
	return ExportCBEFFWith(e, images, Options{})
}

// ExportCBEFFWith is ExportCBEFF with the record editions opt chooses (a
// face in a 19794-5:2011 record with FaceVersion 2011). A face version
// other than 0, 2005 or 2011 is EINVALID.
func ExportCBEFFWith(e *huella.Encounter, images func(*huella.Sample) ([]byte, error), opt Options) ([]byte, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	var records []cbeff.Record
	for i, s := range e.Samples {
		if s.Modality == huella.ModalitySMT {
			continue
		}
		data, err := images(s)
		if err != nil {
			return nil, fmt.Errorf("isomap: sample %d image: %w", i, err)
		}
		rec, err := sampleRecord(e.CapturedAt, s, data, opt)
		if err != nil {
			return nil, fmt.Errorf("isomap: sample %d: %w", i, err)
		}
		r := cbeff.Record{FormatOwner: strconv.Itoa(cbeff.OwnerJTC1SC37), Created: e.CapturedAt, Level: "Raw", Purpose: "Enroll",
			Quality: s.Quality, Data: rec}
		switch s.Modality {
		case huella.ModalityFinger:
			r.FormatType, r.Type, r.Subtype = strconv.Itoa(cbeff.TypeFingerImage), "Finger", fingerSubtype(s.Position)
		case huella.ModalityIris:
			r.FormatType, r.Type = strconv.Itoa(cbeff.TypeIrisImage), "Iris"
			r.Subtype = map[huella.Eye]string{huella.EyeRight: "Right", huella.EyeLeft: "Left"}[s.Eye]
		case huella.ModalityFace:
			r.FormatType, r.Type = strconv.Itoa(cbeff.TypeFaceImage), "Face"
		}
		records = append(records, r)
	}
	if len(records) == 0 {
		return nil, huella.Errorf(huella.EINVALID, "the encounter has no finger, face or iris sample")
	}
	return cbeff.Marshal(records)
}

// fingerSubtype is the CBEFF biometric subtype of a finger position: the
// hand and the finger (ISO/IEC 19785-3's tokens, as MOSIP writes them),
// both hands' thumbs for the thumb slap, "" for an unknown finger.
func fingerSubtype(position int) string {
	fingers := []string{"Thumb", "IndexFinger", "MiddleFinger", "RingFinger", "LittleFinger"}
	switch {
	case position >= huella.FingerRightThumb && position <= huella.FingerRightLittle:
		return "Right " + fingers[position-1]
	case position >= huella.FingerLeftThumb && position <= huella.FingerLeftLittle:
		return "Left " + fingers[position-6]
	case position == huella.SlapRightFour:
		return "Right IndexFinger MiddleFinger RingFinger LittleFinger"
	case position == huella.SlapLeftFour:
		return "Left IndexFinger MiddleFinger RingFinger LittleFinger"
	case position == huella.SlapBothThumbs:
		return "Left Right Thumb"
	}
	return ""
}
