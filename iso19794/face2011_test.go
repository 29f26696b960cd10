package iso19794_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/huella-abis/huella/iso19794"
)

// face2011Record builds an ISO/IEC 19794-5:2011 record byte by byte from the
// standard's layout (clause 5, Table 2), not with the package's encoder:
// one representation with one quality block and two landmark points around
// the given image.
func face2011Record(img []byte, dataType, imageType byte) []byte {
	var rep []byte
	u16 := func(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
	rep = append(rep, 0, 0, 0, 0)                        // representation length, set below
	rep = u16(rep, 2024)                                 // capture year
	rep = append(rep, 3, 14, 9, 26, 53)                  // month, day, hour, minute, second
	rep = u16(rep, 589)                                  // millisecond
	rep = append(rep, 2)                                 // device technology: digital still
	rep = u16(rep, 0x0101)                               // device vendor
	rep = u16(rep, 0x0202)                               // device type
	rep = append(rep, 1, 87, 0x00, 0x0F, 0x00, 0x01)     // one quality block: 87, vendor 15, algorithm 1
	rep = u16(rep, 2)                                    // landmark points
	rep = append(rep, 2, 1, 4, 88)                       // gender female, eyes black, hair bald, height 176 cm
	rep = append(rep, 0x00, 0x00, 0x03)                  // property mask: specified, glasses
	rep = u16(rep, 1)                                    // expression: neutral
	rep = append(rep, 1, 6, 181, 0, 2, 3)                // pose 0°, 10°, −2°; uncertainties
	rep = append(rep, 1, 0x36, 0, 5, 0, 6, 0, 0)         // MPEG-4 point 3.6 at (5, 6)
	rep = append(rep, 2, 0x02, 0, 10, 0, 6, 0, 0)        // anthropometric landmark 2 at (10, 6)
	rep = append(rep, imageType, dataType, 0, 16, 0, 16) // image type, data type, 16×16
	rep = append(rep, 2)                                 // spatial sampling rate level
	rep = u16(rep, 0x0002)                               // post-acquisition: cropped
	rep = append(rep, 0, 1)                              // cross reference, colour space sRGB
	rep = append(rep, img...)
	binary.BigEndian.PutUint32(rep, uint32(len(rep)))
	rec := append([]byte("FAC\x00030\x00"), 0, 0, 0, 0)
	rec = u16(rec, 1)    // representations
	rec = append(rec, 0) // certification flag
	rec = u16(rec, 0)    // temporal semantics
	rec = append(rec, rep...)
	binary.BigEndian.PutUint32(rec[8:], uint32(len(rec)))
	return rec
}

// mustSeed reads the one []byte value of a committed fuzz corpus file
// (testdata/fuzz/<name>).
func mustSeed(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/fuzz/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if lit, ok := strings.CutPrefix(line, "[]byte("); ok {
			v, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			return []byte(v)
		}
	}
	tb.Fatalf("%s: no []byte value", name)
	return nil
}

// smallJPEG returns the 16×16 JPEG of the committed face fuzz seed.
func smallJPEG(tb testing.TB) []byte {
	tb.Helper()
	rec, err := iso19794.Iso19794p5v2005Codec{}.Decode(mustSeed(tb, "FuzzFaceRecord/libbiomeval-face01-small-jpeg"))
	if err != nil {
		tb.Fatal(err)
	}
	return rec.Images[0].Data
}

func TestFaceISO2011(t *testing.T) {
	img := smallJPEG(t)
	b := face2011Record(img, 0, 1)
	t.Run("OK", func(t *testing.T) {
		rec, err := iso19794.Iso19794p5v2011Codec{Strict: true}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Representations) != 1 {
			t.Fatalf("representations: got %d, want 1", len(rec.Representations))
		}
		f := rec.Representations[0]
		if got, ok := f.Captured.Time(); !ok || got.Format("2006-01-02 15:04:05.000") != "2024-03-14 09:26:53.589" {
			t.Errorf("captured: got %v (%v), want 2024-03-14 09:26:53.589", got, ok)
		}
		if f.DeviceTechnology != 2 || f.DeviceVendorID != 0x0101 || f.DeviceTypeID != 0x0202 {
			t.Errorf("device: got %d %#x %#x", f.DeviceTechnology, f.DeviceVendorID, f.DeviceTypeID)
		}
		if want := []iso19794.QualityBlock{{Score: 87, AlgorithmVendorID: 15, AlgorithmID: 1}}; len(f.Quality) != 1 || f.Quality[0] != want[0] {
			t.Errorf("quality: got %+v, want %+v", f.Quality, want)
		}
		if f.Gender != 2 || f.EyeColour != 1 || f.HairColour != 4 || f.SubjectHeight != 88 || f.Properties != iso19794.FacePropertiesSpecified|iso19794.FaceGlasses || f.Expression != 1 {
			t.Errorf("facial information: got %+v", f)
		}
		if yaw, _ := iso19794.PoseAngleDegrees(f.Pose.Yaw); yaw != 0 {
			t.Errorf("yaw: got %d°", yaw)
		}
		if roll, _ := iso19794.PoseAngleDegrees(f.Pose.Roll); roll != -2 {
			t.Errorf("roll: got %d°, want -2°", roll)
		}
		want := []iso19794.LandmarkPoint{{Type: 1, Code: 0x36, X: 5, Y: 6}, {Type: 2, Code: 2, X: 10, Y: 6}}
		if len(f.LandmarkPoints) != 2 || f.LandmarkPoints[0] != want[0] || f.LandmarkPoints[1] != want[1] {
			t.Errorf("landmarks: got %+v, want %+v", f.LandmarkPoints, want)
		}
		if f.ImageType != 1 || f.DataType != iso19794.Face2011JPEG || f.Width != 16 || f.Height != 16 ||
			f.SpatialSamplingRate != 2 || f.PostAcquisition != 2 || f.CrossReference != 0 || f.ColourSpace != 1 {
			t.Errorf("image information: got %+v", f)
		}
		if !bytes.Equal(f.Data, img) {
			t.Fatalf("image data: %d bytes, want the %d of the JPEG", len(f.Data), len(img))
		}
		pix, err := f.DecodeImage()
		if err != nil {
			t.Fatal(err)
		}
		if got := pix.Bounds().Size(); got.X != 16 || got.Y != 16 {
			t.Errorf("decoded size %v, want 16x16", got)
		}
		out, err := iso19794.Iso19794p5v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Errorf("re-encoded record differs: %d bytes, want %d", len(out), len(b))
		}
	})
	t.Run("OKMultiple", func(t *testing.T) {
		rec := &iso19794.FaceRecord2011{TemporalSemantics: 0xFFFF, Representations: []iso19794.FaceRepresentation{
			{DataType: iso19794.Face2011PNG, Width: 1, Height: 1, Data: []byte("\x89PNG")},
			{DataType: iso19794.Face2011JPEG, Width: 16, Height: 16, Data: img, Quality: []iso19794.QualityBlock{{Score: 255}}},
		}}
		out, err := iso19794.Iso19794p5v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := iso19794.Iso19794p5v2011Codec{Strict: true}.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if back.TemporalSemantics != 0xFFFF || len(back.Representations) != 2 || !bytes.Equal(back.Representations[1].Data, img) || back.Representations[0].DataType != iso19794.Face2011PNG {
			t.Errorf("round trip: got %+v", back)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 3, 16, 20, 40, 77, len(b) - 1} {
			if _, err := (iso19794.Iso19794p5v2011Codec{}).Decode(b[:n]); !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("%d bytes: got %v, want ErrTruncated", n, err)
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for name, edit := range map[string]func([]byte){
			"magic":         func(b []byte) { b[0] = 'X' },
			"2005 version":  func(b []byte) { copy(b[4:], "010") },
			"certification": func(b []byte) { b[14] = 1 },
			"short length":  func(b []byte) { binary.BigEndian.PutUint32(b[17:], 20) },
		} {
			bad := bytes.Clone(b)
			edit(bad)
			if _, err := (iso19794.Iso19794p5v2011Codec{}).Decode(bad); !errors.Is(err, iso19794.ErrMalformed) {
				t.Errorf("%s: got %v, want ErrMalformed", name, err)
			}
		}
		if _, err := (iso19794.Iso19794p5v2011Codec{Strict: true}).Decode(append(bytes.Clone(b), 0)); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("strict, trailing byte: got %v, want ErrMalformed", err)
		}
	})
	t.Run("ErrUnsupportedRecord", func(t *testing.T) {
		if _, err := (iso19794.Iso19794p5v2011Codec{}).Decode(face2011Record(img, 0, 0x81)); !errors.Is(err, iso19794.ErrUnsupportedRecord) {
			t.Errorf("3-D full frontal: got %v, want ErrUnsupportedRecord", err)
		}
	})
}
