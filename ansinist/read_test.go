package ansinist_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
)

// transactionFiles returns every .an2, .nist and .eft file under the datasets.
func transactionFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, dir := range []string{"ansinist", "fingerprint/nbis/an2k"} {
		root := datasets.Path(tb, dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".an2", ".nist", ".eft":
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if len(files) < 40 {
		tb.Fatalf("found %d transaction files, want at least 40", len(files))
	}
	return files
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestReadAllAndRoundTrip(t *testing.T) {
	for _, path := range transactionFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := mustRead(t, path)
			tx, err := ansinist.Read(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tx.Warnings {
				t.Logf("warning %s", w)
			}
			out, err := tx.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(path, "nist-reference") && !bytes.Equal(out, data) {
				t.Errorf("written bytes differ from the input (%d vs %d bytes)", len(out), len(data))
			}
			again, err := ansinist.Read(out)
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			if len(again.Records) != len(tx.Records) {
				t.Fatalf("records read back: got %d, want %d", len(again.Records), len(tx.Records))
			}
			for i := range tx.Records {
				a, b := tx.Records[i], again.Records[i]
				if a.Type != b.Type || len(a.Fields) != len(b.Fields) || !bytes.Equal(a.Data, b.Data) || !bytes.Equal(a.Header, b.Header) {
					t.Errorf("record %d differs after the round trip", i+1)
				}
				for j := range a.Fields {
					if a.Fields[j].Text() != b.Fields[j].Text() {
						t.Errorf("field %s differs after the round trip", ansinist.Tag{Record: a.Type, Field: a.Fields[j].Number})
					}
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	data := mustRead(t, datasets.Path(t, "ansinist/nist-reference/samples-nist/sample.an2"))
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 10, 100, 251, len(data) / 2, len(data) - 1} {
			if _, err := ansinist.Read(data[:n]); err == nil {
				t.Errorf("%d bytes: got no error", n)
			}
		}
	})
	t.Run("ErrTrailingBytes", func(t *testing.T) {
		if _, err := ansinist.Read(append(bytes.Clone(data), 0, 1, 2)); !errors.Is(err, ansinist.ErrFormat) {
			t.Errorf("got %v, want ErrFormat", err)
		}
	})
}

func TestSummary(t *testing.T) {
	tx, err := ansinist.Read(mustRead(t, datasets.Path(t, "ansinist/nist-reference/samples-nist/sample.an2")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tx.Summary(), "version=0400 tot=AMN records=1:1,2:1,4:14 images=4:WSQ20x14 warnings=0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := tx.RecordsOfType(4)[10].ImageName(), "4-11-14"; got != want {
		t.Errorf("image name: got %q, want %q", got, want)
	}
}

func TestRepeatedIDCAndTwoDigitTags(t *testing.T) {
	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Originator: "O", Destination: "D", ControlNumber: "T"})
	tx.AddText(map[int]string{18: "A"})
	r := tx.AddText(map[int]string{18: "B"})
	r.Set(2, "00") // the same IDC as the first Type-2 record
	data, err := tx.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the tags of the last record with 2-digit field numbers.
	s := string(data)
	i := strings.LastIndex(s, "2.001:")
	s = s[:i] + strings.NewReplacer("2.001:", "2.01:", "2.002:", "2.02:").Replace(s[i:])
	// The record shrank by 2 bytes: fix its LEN.
	j := strings.Index(s[i:], "\x1d")
	n, _ := strconv.Atoi(s[i+len("2.01:") : i+j])
	s = s[:i] + "2.01:" + strconv.Itoa(n-2) + s[i+j:]
	got, err := ansinist.ReadStrict([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	recs := got.RecordsOfType(2)
	if len(recs) != 2 || recs[0].IDC() != 0 || recs[1].IDC() != 0 || recs[1].Get(18) != "B" {
		t.Fatalf("got %d type-2 records, IDCs %d/%d", len(recs), recs[0].IDC(), recs[1].IDC())
	}
	out, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != s {
		t.Errorf("2-digit tags not written back as read")
	}
}

func BenchmarkReadWrite(b *testing.B) {
	data := mustRead(b, datasets.Path(b, "ansinist/nist-reference/ansi-references/type-14-tpcard-nqm.an2"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		tx, err := ansinist.Read(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
