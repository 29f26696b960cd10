package ansinist_test

import (
	"testing"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
)

// FuzzRead checks that no input makes the reader panic, and that whatever
// it reads writes and reads back.
func FuzzRead(f *testing.F) {
	for _, rel := range []string{
		"fingerprint/nbis/an2k/sign_vec.an2",
		"fingerprint/nbis/an2k/valid1.15.an2",
		"ansinist/nist-reference/ansi-references/rec01_rec02_rec16.nst.an2",
		"ansinist/nist-reference/ansi-references/type-8-sig-fax.an2",
	} {
		f.Add(mustRead(f, datasets.Path(f, rel)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := ansinist.Read(data)
		if err != nil {
			return
		}
		for _, r := range tx.Records {
			r.IDC()
			r.FingerPositions()
			r.SMT()
			if img, ok := r.Image(); ok && len(img.Data) < 4096 {
				img.Decode()
			}
		}
		out, err := tx.Marshal()
		if err != nil {
			return // e.g. a text field that cannot be written back
		}
		again, err := ansinist.Read(out)
		if err != nil {
			t.Fatalf("reading back what was written: %v", err)
		}
		if len(again.Records) != len(tx.Records) {
			t.Fatalf("records: got %d, want %d", len(again.Records), len(tx.Records))
		}
	})
}
