package finger_test

import (
	"errors"
	"testing"

	"github.com/huella-abis/huella/finger"
)

// TestStoredDescriptor checks that the descriptor an encoded template
// carries is the one Describe computes from the decoded template, on real
// prints of every FVC2002 dev DB, and that the minutiae-only format (the
// templates stored before the descriptor was) still decodes to the same
// template, carrying none.
func TestStoredDescriptor(t *testing.T) {
	for _, db := range []string{"DB1_B", "DB2_B", "DB3_B", "DB4_B"} {
		for _, name := range []string{"101_1", "104_2", "108_5"} {
			tmpl := MustExtract(t, db, name)
			b, err := tmpl.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, stored, err := finger.StoredDescriptor(b)
			if err != nil || !stored {
				t.Fatalf("%s/%s: StoredDescriptor = stored %v, %v; want a stored descriptor", db, name, stored, err)
			}
			var decoded finger.Template
			if err := decoded.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if want := finger.Describe(&decoded); got != want {
				t.Errorf("%s/%s: stored descriptor differs from Describe of the decoded template", db, name)
			}
			old := finger.AppendMinutiae([]byte("prefix"), b)[len("prefix"):]
			if len(old) != len(b)-finger.DescriptorBytes || old[3] != 1 {
				t.Fatalf("%s/%s: minutiae-only form of %d bytes, version %d; want %d bytes, version 1", db, name, len(old), old[3], len(b)-finger.DescriptorBytes)
			}
			if _, stored, err := finger.StoredDescriptor(old); stored || err != nil {
				t.Errorf("%s/%s: minutiae-only StoredDescriptor = stored %v, %v; want none, no error", db, name, stored, err)
			}
			var fromOld finger.Template
			if err := fromOld.UnmarshalBinary(old); err != nil {
				t.Fatalf("%s/%s: minutiae-only form: %v", db, name, err)
			}
			if finger.Describe(&fromOld) != got || len(fromOld.Minutiae) != len(decoded.Minutiae) {
				t.Errorf("%s/%s: the two formats decode to different templates", db, name)
			}
		}
	}
	t.Run("ErrBadTemplate", func(t *testing.T) {
		b, _ := MustExtract(t, "DB1_B", "101_1").MarshalBinary()
		for _, bad := range [][]byte{
			b[:len(b)-1],                        // truncated descriptor
			b[:len(b)-finger.DescriptorBytes],   // version 2 without its descriptor
			append([]byte("HFM\x03"), b[4:]...), // unknown version
		} {
			if _, _, err := finger.StoredDescriptor(bad); !errors.Is(err, finger.ErrBadTemplate) {
				t.Errorf("StoredDescriptor of %d bytes: err = %v, want ErrBadTemplate", len(bad), err)
			}
			var tmpl finger.Template
			if err := tmpl.UnmarshalBinary(bad); !errors.Is(err, finger.ErrBadTemplate) {
				t.Errorf("UnmarshalBinary of %d bytes: err = %v, want ErrBadTemplate", len(bad), err)
			}
		}
	})
}
