package ljpeg

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// jpeglImages returns the lossless JPEG images of the NIST PIV reference
// transaction (two Type-14 index fingers).
func jpeglImages(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, "ansinist/nist-reference/ansi-references/type-10-14-17-piv-index-iris.an2"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, part := range bytes.Split(data, []byte("\x1d14.999:"))[1:] {
		end := bytes.Index(part, []byte{0xFF, 0xD9, 0x1C})
		if end < 0 {
			tb.Fatal("no end of image")
		}
		out = append(out, part[:end+2])
	}
	if len(out) != 2 {
		tb.Fatalf("found %d JPEGL images, want 2", len(out))
	}
	return out
}

// TestDecodeConsumesTheScan checks the decoder reads the entropy-coded data
// exactly up to the end-of-image marker: a lossless decoder that mis-sized
// any code would drift and end elsewhere.
func TestDecodeConsumesTheScan(t *testing.T) {
	for i, data := range jpeglImages(t) {
		m, err := Decode(data, 1<<24)
		if err != nil {
			t.Fatal(err)
		}
		g, ok := m.(*image.Gray)
		if !ok {
			t.Fatalf("image %d: got %T, want *image.Gray", i, m)
		}
		// Re-run the scan to see where it stops.
		sos := bytes.Index(data, []byte{0xFF, 0xDA})
		start := sos + 2 + int(binary.BigEndian.Uint16(data[sos+2:]))
		br := &bitReader{data: data[start:]}
		tables := []*huffman{mustTable(t, data)}
		if _, err := decodeScan(br, tables, g.Rect.Dx(), g.Rect.Dy(), 8, 4, 0, 0); err != nil {
			t.Fatal(err)
		}
		if rest := len(br.data) - br.pos; rest != 2 {
			t.Errorf("image %d: scan ended %d bytes before the end, want 2 (EOI)", i, rest)
		}
		var sum int
		for _, v := range g.Pix {
			sum += int(v)
		}
		if mean := sum / len(g.Pix); mean < 60 || mean > 250 {
			t.Errorf("image %d: mean grey %d is not a fingerprint's", i, mean)
		}
	}
}

func mustTable(tb testing.TB, data []byte) *huffman {
	tb.Helper()
	i := bytes.Index(data, []byte{0xFF, 0xC4})
	seg := data[i+4:]
	n := 0
	for _, c := range seg[1:17] {
		n += int(c)
	}
	h, err := newHuffman(seg[1:17], seg[17:17+n])
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func FuzzDecode(f *testing.F) {
	for _, data := range jpeglImages(f) {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Decode(data, 1<<16)
	})
}
