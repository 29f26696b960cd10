package jpeg2000

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// palmJP2 returns the JPEG 2000 palm image of NIST's Type-15 reference file.
func palmJP2(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, "ansinist/nist-reference/ansi-references/type-15-palms.an2"))
	if err != nil {
		tb.Fatal(err)
	}
	parts := bytes.Split(data, []byte("\x1d15.999:"))
	for _, p := range parts[1:] {
		if bytes.HasPrefix(p, []byte("\x00\x00\x00\x0cjP  ")) || bytes.HasPrefix(p, []byte{0xFF, 0x4F}) {
			return p[:len(p)-1] // drop the record's FS
		}
	}
	tb.Fatal("no JPEG 2000 palm")
	return nil
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		data func(testing.TB) []byte
		size image.Point
	}{
		{"OKLibbiomevalFinger", func(tb testing.TB) []byte {
			d, err := os.ReadFile(datasets.Path(tb, "fingerprint/libbiomeval/img.jp2"))
			if err != nil {
				tb.Fatal(err)
			}
			return d
		}, image.Pt(908, 1007)},
		{"OKNISTPalmTenLayers", palmJP2, image.Pt(2750, 2750)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var used, total int
			tileConsumed = func(u, n int) { used, total = used+u, total+n }
			defer func() { tileConsumed = nil }()
			m, err := Decode(c.data(t), 1<<24)
			if err != nil {
				t.Fatal(err)
			}
			if m.Bounds().Size() != c.size {
				t.Errorf("size: got %v, want %v", m.Bounds().Size(), c.size)
			}
			// Every packet header and body must account for the tile data
			// exactly: a mis-parsed header would drift.
			if used != total {
				t.Errorf("packets used %d of %d tile bytes", used, total)
			}
			g := m.(*image.Gray)
			var sum int
			for _, v := range g.Pix {
				sum += int(v)
			}
			if mean := sum / len(g.Pix); mean < 60 || mean > 250 {
				t.Errorf("mean grey %d is not a print's", mean)
			}
			if dir := os.Getenv("J2K_DUMP"); dir != "" {
				var buf bytes.Buffer
				png.Encode(&buf, m)
				os.WriteFile(dir+"/"+c.name+".png", buf.Bytes(), 0o644)
			}
		})
	}
}

// nbisIrisJ2K returns the 201×201 colour 9/7 codestream that NBIS's
// valid1.13.an2 carries in its Type-99 record.
func nbisIrisJ2K(tb testing.TB) []byte {
	tb.Helper()
	d, err := os.ReadFile(datasets.Path(tb, "fingerprint/nbis/an2k/valid1.13.an2"))
	if err != nil {
		tb.Fatal(err)
	}
	start := bytes.Index(d, []byte{0xFF, 0x4F, 0xFF, 0x51})
	end := bytes.LastIndex(d, []byte{0xFF, 0xD9})
	if start < 0 || end < start {
		tb.Fatal("no codestream")
	}
	return d[start : end+2]
}

func TestDecodeIrreversibleColour(t *testing.T) {
	var used, total int
	tileConsumed = func(u, n int) { used, total = used+u, total+n }
	defer func() { tileConsumed = nil }()
	m, err := Decode(nbisIrisJ2K(t), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if used != total {
		t.Errorf("packets used %d of %d tile bytes", used, total)
	}
	rgba, ok := m.(*image.RGBA)
	if !ok || rgba.Bounds().Size() != image.Pt(201, 201) {
		t.Fatalf("got %T %v, want a 201×201 RGBA image", m, m.Bounds())
	}
	// An iris photo: the pupil (centre) is dark, the sclera (corner) light
	// and reddish-white, the iris brown (red above blue).
	centre := rgba.RGBAAt(100, 100)
	corner := rgba.RGBAAt(3, 3)
	iris := rgba.RGBAAt(100, 40)
	if centre.R > 80 || corner.R < 150 || iris.R <= iris.B {
		t.Errorf("colours: pupil %v, sclera %v, iris %v", centre, corner, iris)
	}
}

func TestDecodeErrors(t *testing.T) {
	data := nbisIrisJ2K(t)
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 3, 20, 60, 100} {
			if _, err := Decode(data[:n], 1<<20); err == nil {
				t.Errorf("%d bytes: got no error", n)
			}
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		if _, err := Decode(data, 1000); err == nil {
			t.Error("got no error for an image above the cap")
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(nbisIrisJ2K(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		Decode(data, 1<<16)
	})
}

// TestExplicitMaximalPrecincts rewrites a codestream's COD to declare
// precinct sizes of 2^15 at every resolution, which partitions nothing: the
// image must decode exactly as before.
func TestExplicitMaximalPrecincts(t *testing.T) {
	d, err := os.ReadFile(datasets.Path(t, "fingerprint/libbiomeval/img.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := codestream(d)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(cs, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(cs, []byte{0xFF, 0x52})
	levels := int(cs[i+4+5])
	cod := append([]byte(nil), cs[i:i+2+12]...)
	cod[3] += byte(levels + 1) // segment length
	cod[4] |= 1                // Scod: precincts follow
	for range levels + 1 {
		cod = append(cod, 0xFF)
	}
	patched := append(append(append([]byte(nil), cs[:i]...), cod...), cs[i+2+12:]...)
	got, err := Decode(patched, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.(*image.Gray).Pix, want.(*image.Gray).Pix) {
		t.Error("explicit maximal precincts changed the decoded image")
	}
}

func BenchmarkDecodeLossless(b *testing.B) {
	data, err := os.ReadFile(datasets.Path(b, "fingerprint/libbiomeval/img.jp2"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(908 * 1007)
	for b.Loop() {
		if _, err := Decode(data, 1<<24); err != nil {
			b.Fatal(err)
		}
	}
}
