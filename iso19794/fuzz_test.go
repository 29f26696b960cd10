package iso19794_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
)

// addSeeds adds the named dataset files to the fuzz corpus when the
// datasets are present; the committed corpus under testdata/fuzz holds the
// same public-domain samples for clones without them.
func addSeeds(f *testing.F, patterns ...string) {
	f.Helper()
	root := datasets.Root()
	if root == "" {
		return
	}
	for _, pattern := range patterns {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzFingerMinutiae(f *testing.F) {
	addSeeds(f, libbiomeval+"/fmr.*", "fingerprint/fvc2002/DB1_B/iso19794-2-secugen/101_[12].iso")
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.DecodeFingerMinutiae(b)
		if err != nil {
			return
		}
		out, err := iso19794.EncodeFingerMinutiae(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		again, err := iso19794.DecodeFingerMinutiae(out)
		if err != nil {
			t.Fatalf("decode of a re-encoded record: %v", err)
		}
		out2, err := iso19794.EncodeFingerMinutiae(again)
		if err != nil || !bytes.Equal(out2, out) {
			t.Fatalf("second round trip differs (err %v)", err)
		}
		// A record that passes the strict decoder re-encodes byte for byte,
		// except ANSI 2004's optional long length form for a short record.
		var strictErr error
		switch rec.Format {
		case iso19794.FingerISO19794p2v2005:
			_, strictErr = iso19794.Iso19794p2v2005Codec{Strict: true}.Decode(b)
		case iso19794.FingerANSI378v2004:
			_, strictErr = iso19794.Ansi378v2004Codec{Strict: true}.Decode(b)
			if b[8] == 0 && b[9] == 0 {
				return
			}
		case iso19794.FingerANSI378v2007:
			_, strictErr = iso19794.Ansi378v2007Codec{Strict: true}.Decode(b)
		}
		if strictErr == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid %v record does not re-encode byte for byte", rec.Format)
		}
	})
}

func FuzzFaceRecord(f *testing.F) {
	addSeeds(f, libbiomeval+"/face01.iso2005")
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p5v2005Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p5v2005Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p5v2005Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p5v2005Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for i := range rec.Images {
			_, _ = rec.Images[i].DecodeImage() // must not panic
		}
	})
}

func FuzzIrisRecord(f *testing.F) {
	addSeeds(f, libbiomeval+"/iris01.iso2011")
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p6v2011Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p6v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p6v2011Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p6v2011Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for i := range rec.Representations {
			_, _ = rec.Representations[i].DecodeImage() // must not panic
		}
	})
}

func FuzzFaceRecord2011(f *testing.F) {
	img := smallJPEG(f)
	f.Add(face2011Record(img, 0, 1))
	f.Add(face2011Record(img, 3, 0x81))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := iso19794.Iso19794p5v2011Codec{}.Decode(b)
		if err != nil {
			return
		}
		out, err := iso19794.Iso19794p5v2011Codec{}.Encode(rec)
		if err != nil {
			t.Fatalf("encode of a decoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p5v2011Codec{Strict: true}).Decode(out); err != nil {
			t.Fatalf("strict decode of a re-encoded record: %v", err)
		}
		if _, err := (iso19794.Iso19794p5v2011Codec{Strict: true}).Decode(b); err == nil && !bytes.Equal(out, b) {
			t.Fatalf("strictly valid record does not re-encode byte for byte")
		}
		for i := range rec.Representations {
			_, _ = rec.Representations[i].DecodeImage() // must not panic
		}
	})
}
