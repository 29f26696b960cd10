package finger_test

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
)

// MustExtract extracts the template of one FVC2002 image.
func MustExtract(tb testing.TB, db, name string) *finger.Template {
	tb.Helper()
	dir := datasets.Path(tb, "fingerprint/fvc2002/"+db)
	img := datasets.Gray(tb, filepath.Join(dir, name+".tif"))
	ppi := 500
	if db == "DB2_B" {
		ppi = 569
	}
	t, err := finger.Extract(img, finger.Options{PPI: ppi})
	if err != nil {
		tb.Fatalf("extract %s/%s: %v", db, name, err)
	}
	return t
}

func TestExtract(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		tmpl := MustExtract(t, "DB1_B", "101_1")
		if got := len(tmpl.Minutiae); got < 15 || got > 120 {
			t.Errorf("minutiae = %d, want 15..120", got)
		}
		if tmpl.Quality < 1 || tmpl.Quality > 100 {
			t.Errorf("quality = %d, want 1..100", tmpl.Quality)
		}
		b, err := tmpl.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 1024 {
			t.Errorf("template size = %d bytes, want <= 1024", len(b))
		}
	})
	t.Run("ErrNoFingerprint", func(t *testing.T) {
		blank := image.NewGray(image.Rect(0, 0, 300, 300))
		for i := range blank.Pix {
			blank.Pix[i] = 200
		}
		if _, err := finger.Extract(blank, finger.Options{}); !errors.Is(err, finger.ErrNoFingerprint) {
			t.Errorf("err = %v, want ErrNoFingerprint", err)
		}
	})
	t.Run("ErrNoFingerprintNoise", func(t *testing.T) {
		noise := image.NewGray(image.Rect(0, 0, 300, 300))
		r := rand.New(rand.NewPCG(1, 2))
		for i := range noise.Pix {
			noise.Pix[i] = uint8(r.IntN(256))
		}
		if _, err := finger.Extract(noise, finger.Options{}); !errors.Is(err, finger.ErrNoFingerprint) {
			t.Errorf("err = %v, want ErrNoFingerprint", err)
		}
	})
	t.Run("ErrTooSmall", func(t *testing.T) {
		if _, err := finger.Extract(image.NewGray(image.Rect(0, 0, 40, 40)), finger.Options{}); !errors.Is(err, finger.ErrTooSmall) {
			t.Errorf("err = %v, want ErrTooSmall", err)
		}
	})
	t.Run("ErrBadResolution", func(t *testing.T) {
		if _, err := finger.Extract(image.NewGray(image.Rect(0, 0, 300, 300)), finger.Options{PPI: 100}); !errors.Is(err, finger.ErrBadResolution) {
			t.Errorf("err = %v, want ErrBadResolution", err)
		}
	})
}

func TestExtractTrace(t *testing.T) {
	dir := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	img := datasets.Gray(t, filepath.Join(dir, "101_1.tif"))
	got := map[string]bool{}
	_, err := finger.Extract(img, finger.Options{Trace: func(key string, img image.Image) {
		if img == nil || img.Bounds().Empty() {
			t.Errorf("stage %s: empty image", key)
		}
		got[key] = true
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"mask", "orientation", "enhanced", "skeleton", "ridge-graph", "minutiae"} {
		if !got[key] {
			t.Errorf("trace has no %q stage", key)
		}
	}
}

// TestCompare checks a fixed set of real pairs against the FMR 1e-3
// threshold: mates score above it, non-mates below.
func TestCompare(t *testing.T) {
	mates := [][2]string{
		{"DB1_B/101_1", "DB1_B/101_2"}, {"DB1_B/102_1", "DB1_B/102_3"},
		{"DB2_B/103_1", "DB2_B/103_2"}, {"DB3_B/104_1", "DB3_B/104_2"},
		{"DB4_B/105_3", "DB4_B/105_8"},
	}
	nonMates := [][2]string{
		{"DB1_B/101_1", "DB1_B/102_1"}, {"DB1_B/103_1", "DB1_B/104_1"},
		{"DB2_B/103_1", "DB2_B/105_1"}, {"DB3_B/104_1", "DB3_B/106_1"},
		{"DB4_B/105_1", "DB4_B/107_1"},
	}
	threshold := finger.ThresholdForFMR(1e-3)
	cache := map[string]*finger.Candidate{}
	prepared := func(id string) *finger.Candidate {
		if c, ok := cache[id]; ok {
			return c
		}
		db, name := filepath.Split(id)
		c := finger.Prepare(MustExtract(t, filepath.Clean(db), name))
		cache[id] = c
		return c
	}
	for _, p := range mates {
		if got := finger.Compare(prepared(p[0]), prepared(p[1])); got < threshold {
			t.Errorf("mates %s %s: score %.4f, want >= %.4f", p[0], p[1], got, threshold)
		}
	}
	for _, p := range nonMates {
		if got := finger.Compare(prepared(p[0]), prepared(p[1])); got >= threshold {
			t.Errorf("non-mates %s %s: score %.4f, want < %.4f", p[0], p[1], got, threshold)
		}
	}
	t.Run("SearchEqualsCompare", func(t *testing.T) {
		probe := prepared(mates[0][0])
		var gallery []*finger.Candidate
		for _, p := range append(mates, nonMates...) {
			gallery = append(gallery, prepared(p[1]))
		}
		got := finger.Search(probe, gallery)
		for i, c := range gallery {
			if want := finger.Compare(probe, c); got[i] != want {
				t.Errorf("Search[%d] = %v, want Compare = %v", i, got[i], want)
			}
		}
	})
}

func TestTemplateBinary(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		tmpl := MustExtract(t, "DB3_B", "101_1")
		b, err := tmpl.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got finger.Template
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got.Width != tmpl.Width || got.Height != tmpl.Height || len(got.Minutiae) != len(tmpl.Minutiae) {
			t.Fatalf("round trip: got %dx%d with %d minutiae, want %dx%d with %d", got.Width, got.Height,
				len(got.Minutiae), tmpl.Width, tmpl.Height, len(tmpl.Minutiae))
		}
		for i, m := range got.Minutiae {
			w := tmpl.Minutiae[i]
			if m.X != w.X || m.Y != w.Y || m.Type != w.Type || m.Quality != w.Quality {
				t.Errorf("minutia %d: got %+v, want %+v", i, m, w)
			}
		}
		b2, _ := got.MarshalBinary()
		if string(b2) != string(b) {
			t.Error("re-encoding differs")
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		b, _ := MustExtract(t, "DB3_B", "101_1").MarshalBinary()
		var got finger.Template
		if err := got.UnmarshalBinary(b[:len(b)-1]); !errors.Is(err, finger.ErrBadTemplate) {
			t.Errorf("err = %v, want ErrBadTemplate", err)
		}
	})
}

func FuzzTemplateUnmarshalBinary(f *testing.F) {
	for _, name := range []string{"101_1", "105_3"} {
		b, err := MustExtract(f, "DB1_B", name).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("HFM\x01"))
	f.Add([]byte("HFM\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tmpl finger.Template
		err := tmpl.UnmarshalBinary(data)
		if _, _, err2 := finger.StoredDescriptor(data); (err == nil) != (err2 == nil) {
			t.Fatalf("UnmarshalBinary: %v, but StoredDescriptor: %v", err, err2)
		}
		if err != nil {
			return
		}
		b, err := tmpl.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded template does not encode: %v", err)
		}
		var again finger.Template
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		finger.Compare(finger.Prepare(&tmpl), finger.Prepare(&again))
	})
}

func BenchmarkExtract(b *testing.B) {
	dir := datasets.Path(b, "fingerprint/fvc2002/DB1_B")
	img := datasets.Gray(b, filepath.Join(dir, "101_1.tif"))
	for b.Loop() {
		if _, err := finger.Extract(img, finger.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch measures the 1:N form on one core: one prepared probe
// against a gallery of 80 prepared templates (ns/op is per comparison).
func BenchmarkSearch(b *testing.B) {
	var gallery []*finger.Candidate
	for f := 101; f <= 110; f++ {
		for i := 1; i <= 8; i++ {
			gallery = append(gallery, finger.Prepare(MustExtract(b, "DB1_B", itoa(f)+"_"+itoa(i))))
		}
	}
	probe := gallery[0]
	b.ResetTimer()
	n := 0
	for b.Loop() {
		c := gallery[n%len(gallery)]
		finger.Compare(probe, c)
		n++
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestRecordConversion(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		tmpl := MustExtract(t, "DB1_B", "102_1")
		for _, format := range []iso19794.FingerFormat{iso19794.FingerISO19794p2v2005, iso19794.FingerANSI378v2004, iso19794.FingerANSI378v2007} {
			b, err := iso19794.EncodeFingerMinutiae(tmpl.Record(format, 2))
			if err != nil {
				t.Fatalf("%v: encode: %v", format, err)
			}
			rec, err := iso19794.DecodeFingerMinutiae(b)
			if err != nil {
				t.Fatalf("%v: decode: %v", format, err)
			}
			got, err := finger.TemplateFromRecord(rec, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Minutiae) != len(tmpl.Minutiae) {
				t.Fatalf("%v: %d minutiae, want %d", format, len(got.Minutiae), len(tmpl.Minutiae))
			}
			for i, m := range got.Minutiae {
				w := tmpl.Minutiae[i]
				d := math.Abs(math.Remainder(m.Direction-w.Direction, 2*math.Pi))
				if m.X != w.X || m.Y != w.Y || m.Type != w.Type || d > 2*math.Pi/180 {
					t.Errorf("%v minutia %d: got %+v, want %+v", format, i, m, w)
				}
			}
			if s := finger.Compare(finger.Prepare(tmpl), finger.Prepare(got)); s < finger.ThresholdForFMR(1e-3) {
				t.Errorf("%v: self score after round trip %.4f below threshold", format, s)
			}
		}
	})
	t.Run("SecuGenMates", func(t *testing.T) {
		dir := datasets.Path(t, "fingerprint/fvc2002/DB4_B/iso19794-2-secugen")
		read := func(name string) *finger.Candidate {
			b, err := os.ReadFile(filepath.Join(dir, name+".iso"))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := iso19794.DecodeFingerMinutiae(b)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := finger.TemplateFromRecord(rec, 0)
			if err != nil {
				t.Fatal(err)
			}
			return finger.Prepare(tmpl)
		}
		threshold := finger.ThresholdForFMR(1e-3)
		if got := finger.Compare(read("101_1"), read("101_2")); got < threshold {
			t.Errorf("mates: score %.4f, want >= %.4f", got, threshold)
		}
		if got := finger.Compare(read("101_1"), read("102_1")); got >= threshold {
			t.Errorf("non-mates: score %.4f, want < %.4f", got, threshold)
		}
	})
}

// BenchmarkPrepare times the search form of one real template: every
// gallery entry pays it at load, every probe once.
func BenchmarkPrepare(b *testing.B) {
	t := MustExtract(b, "DB1_B", "101_1")
	for b.Loop() {
		finger.Prepare(t)
	}
}
