package iso19794_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
)

// mustRead returns the bytes of a file in the datasets directory.
func mustRead(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(datasets.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

const libbiomeval = "fingerprint/libbiomeval"

func TestFingerISO2005(t *testing.T) {
	b := mustRead(t, libbiomeval+"/fmr.iso2005")
	t.Run("OK", func(t *testing.T) {
		rec, err := iso19794.Iso19794p2v2005Codec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		checkFingerRecord(t, rec)
		if got, want := len(rec.Views), 2; got != want {
			t.Fatalf("views: got %d, want %d", got, want)
		}
		if got, want := len(rec.Views[0].Minutiae), 27; got != want {
			t.Errorf("view 0 minutiae: got %d, want %d", got, want)
		}
		if got, want := len(rec.Views[1].Minutiae), 22; got != want {
			t.Errorf("view 1 minutiae: got %d, want %d", got, want)
		}
		if got, want := rec.Views[0].Minutiae[0], (iso19794.Minutia{Type: iso19794.MinutiaEnding, X: 100, Y: 14, Angle: 80, Quality: 90}); got != want {
			t.Errorf("first minutia: got %+v, want %+v", got, want)
		}
		if got, want := rec.Views[0].Minutiae[0].Degrees(rec.Format), 112.5; got != want {
			t.Errorf("first minutia angle: got %v°, want %v°", got, want)
		}
		cd, err := rec.Views[1].Extended[0].CoresDeltas(rec.Format)
		if err != nil {
			t.Fatal(err)
		}
		if len(cd.Cores) != 2 || len(cd.Deltas) != 4 {
			t.Errorf("cores/deltas: got %d/%d, want 2/4", len(cd.Cores), len(cd.Deltas))
		}
	})
	t.Run("ErrStrictLength", func(t *testing.T) {
		// The sample declares 42 bytes of extended data where 41 remain.
		_, err := iso19794.Iso19794p2v2005Codec{Strict: true}.Decode(b)
		if !errors.Is(err, iso19794.ErrTruncated) {
			t.Fatalf("got %v, want ErrTruncated", err)
		}
	})
}

func TestFingerANSI2004(t *testing.T) {
	b := mustRead(t, libbiomeval+"/fmr.ansi2004")
	rec, err := iso19794.Ansi378v2004Codec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	checkFingerRecord(t, rec)
	if got, want := len(rec.Views), 3; got != want {
		t.Fatalf("views: got %d, want %d", got, want)
	}
	for i, want := range []int{27, 22, 28} {
		if got := len(rec.Views[i].Minutiae); got != want {
			t.Errorf("view %d minutiae: got %d, want %d", i, got, want)
		}
	}
	if got, want := rec.CBEFFProductOwner, uint16(0x42); got != want {
		t.Errorf("CBEFF owner: got %#x, want %#x", got, want)
	}
	rc, err := rec.Views[2].Extended[0].RidgeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rc.Counts), 224; got != want {
		t.Errorf("ridge counts: got %d, want %d", got, want)
	}
	for _, c := range rc.Counts {
		if n := len(rec.Views[2].Minutiae); c.A == 0 || int(c.A) > n || int(c.B) > n || (c.B == 0 && c.Count != 0) {
			t.Fatalf("ridge count %+v: want 1-based indices into %d minutiae", c, n)
		}
	}
	// The same first minutia as the ISO sample, in 2-degree units.
	if got, want := rec.Views[0].Minutiae[0].Degrees(rec.Format), 112.0; got != want {
		t.Errorf("first minutia angle: got %v°, want %v°", got, want)
	}
}

func TestFingerANSI2007(t *testing.T) {
	b := mustRead(t, libbiomeval+"/fmr.ansi2007")
	rec, err := iso19794.Ansi378v2007Codec{Strict: true}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	checkFingerRecord(t, rec)
	if got, want := len(rec.Views), 2; got != want {
		t.Fatalf("views: got %d, want %d", got, want)
	}
	v := rec.Views[1]
	if v.Width != 512 || v.Height != 512 || v.XResolution != 197 || len(v.Minutiae) != 22 {
		t.Errorf("view 1: got %dx%d at %d px/cm with %d minutiae, want 512x512 at 197 with 22", v.Width, v.Height, v.XResolution, len(v.Minutiae))
	}
	rc, err := v.Extended[0].RidgeCounts()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rc, (iso19794.RidgeCounts{Method: 1, Counts: []iso19794.RidgeCount{{A: 0x12, B: 0x14, Count: 3}, {A: 0x15, B: 0x13, Count: 1}}}); !equalRidgeCounts(got, want) {
		t.Errorf("ridge counts: got %+v, want %+v", got, want)
	}
}

func equalRidgeCounts(a, b iso19794.RidgeCounts) bool {
	if a.Method != b.Method || len(a.Counts) != len(b.Counts) {
		return false
	}
	for i := range a.Counts {
		if a.Counts[i] != b.Counts[i] {
			return false
		}
	}
	return true
}

// checkFingerRecord checks what every real record must satisfy: minutiae
// inside the declared image, a valid type, and a re-encoding that decodes to
// the same record.
func checkFingerRecord(t *testing.T, rec *iso19794.FingerMinutiaeRecord) {
	t.Helper()
	for vi := range rec.Views {
		width, height, xres, yres := rec.ImageGeometry(vi)
		if width == 0 || height == 0 || xres == 0 || yres == 0 {
			t.Errorf("view %d: image %dx%d at %dx%d px/cm", vi, width, height, xres, yres)
		}
		for mi, m := range rec.Views[vi].Minutiae {
			if m.X >= width || m.Y >= height {
				t.Errorf("view %d minutia %d at (%d,%d) outside %dx%d", vi, mi, m.X, m.Y, width, height)
			}
			if m.Type > iso19794.MinutiaBifurcation {
				t.Errorf("view %d minutia %d: type %v", vi, mi, m.Type)
			}
		}
	}
}

func TestFingerRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		// exact: the sample's length fields are consistent, so the encoder
		// reproduces it byte for byte.
		exact bool
	}{
		{"ISO2005", "fmr.iso2005", false},
		{"ANSI2004", "fmr.ansi2004", true},
		{"ANSI2007", "fmr.ansi2007", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustRead(t, libbiomeval+"/"+tc.file)
			rec, err := iso19794.DecodeFingerMinutiae(b)
			if err != nil {
				t.Fatal(err)
			}
			out, err := iso19794.EncodeFingerMinutiae(rec)
			if err != nil {
				t.Fatal(err)
			}
			if tc.exact && !bytes.Equal(out, b) {
				t.Fatalf("re-encoded record differs: got %d bytes, want %d", len(out), len(b))
			}
			if !tc.exact {
				// Only the two overstated length fields (42 → 41) may differ.
				if len(out) != len(b) {
					t.Fatalf("re-encoded length: got %d, want %d", len(out), len(b))
				}
				var diff []int
				for i := range b {
					if out[i] != b[i] {
						diff = append(diff, i)
					}
				}
				if want := []int{0x149, 0x14d}; !equalInts(diff, want) {
					t.Errorf("differing offsets: got %#x, want %#x", diff, want)
				}
			}
			again, err := iso19794.DecodeFingerMinutiae(out)
			if err != nil {
				t.Fatal(err)
			}
			out2, err := iso19794.EncodeFingerMinutiae(again)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out2, out) {
				t.Errorf("second round trip differs")
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFingerSecuGen(t *testing.T) {
	for _, db := range []string{"DB1_B", "DB2_B", "DB3_B", "DB4_B"} {
		t.Run(db, func(t *testing.T) {
			dir := datasets.Path(t, "fingerprint/fvc2002/"+db+"/iso19794-2-secugen")
			files, err := filepath.Glob(filepath.Join(dir, "*.iso"))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(files), 80; got != want {
				t.Fatalf("templates: got %d, want %d", got, want)
			}
			total := 0
			for _, file := range files {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := iso19794.DetectFingerFormat(b), iso19794.FingerISO19794p2v2005; got != want {
					t.Fatalf("%s: format: got %v, want %v", filepath.Base(file), got, want)
				}
				rec, err := iso19794.Iso19794p2v2005Codec{Strict: true}.Decode(b)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(file), err)
				}
				checkFingerRecord(t, rec)
				if len(rec.Views) != 1 || len(rec.Views[0].Minutiae) < 5 {
					t.Errorf("%s: want 1 view with at least 5 minutiae, got %d views", filepath.Base(file), len(rec.Views))
				}
				total += len(rec.Views[0].Minutiae)
				out, err := iso19794.Iso19794p2v2005Codec{}.Encode(rec)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, b) {
					t.Errorf("%s: re-encoded record differs", filepath.Base(file))
				}
			}
			t.Logf("%s: %d templates, %.1f minutiae each", db, len(files), float64(total)/float64(len(files)))
		})
	}
}

func TestFingerHostile(t *testing.T) {
	samples := map[string][]byte{}
	for _, name := range []string{"fmr.iso2005", "fmr.ansi2004", "fmr.ansi2007"} {
		samples[name] = mustRead(t, libbiomeval+"/"+name)
	}
	t.Run("ErrTruncated", func(t *testing.T) {
		for name, b := range samples {
			for n := 0; n < len(b); n++ {
				if _, err := iso19794.DecodeFingerMinutiae(b[:n]); err == nil {
					t.Fatalf("%s cut to %d bytes: got no error", name, n)
				}
			}
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		b := bytes.Clone(samples["fmr.iso2005"])
		copy(b[4:], "999\x00")
		if _, err := iso19794.DecodeFingerMinutiae(b); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("unknown version: got %v, want ErrMalformed", err)
		}
		if _, err := (iso19794.Ansi378v2007Codec{}).Decode(samples["fmr.iso2005"]); !errors.Is(err, iso19794.ErrMalformed) {
			t.Errorf("ISO record given to the 2007 codec: got %v, want ErrMalformed", err)
		}
	})
	t.Run("ErrCoresDeltasShort", func(t *testing.T) {
		// The ANSI sample's core and delta block declares 2 bytes fewer than
		// its content (its core angles); decoding the declared bytes fails
		// cleanly and the two bytes survive as Trailing.
		rec, err := iso19794.DecodeFingerMinutiae(samples["fmr.ansi2004"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rec.Views[2].Extended[1].CoresDeltas(rec.Format); !errors.Is(err, iso19794.ErrTruncated) {
			t.Errorf("got %v, want ErrTruncated", err)
		}
		if got, want := len(rec.Trailing), 2; got != want {
			t.Errorf("trailing bytes: got %d, want %d", got, want)
		}
	})
	t.Run("BoundedAllocation", func(t *testing.T) {
		// Headers that claim the largest counts but carry no data.
		hostile := [][]byte{
			append([]byte("FMR\x00 20\x00\x00\x00\x00\x20\x00\x00\x01\x00\x01\x00\x00\xc5\x00\xc5\xff\x00"), 0x01, 0x00, 0x50, 0xff, 0xff, 0xff, 0xff, 0xff),
			[]byte("FAC\x00010\x00\x00\x00\x00\x20\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
			[]byte("IIR\x00020\x00\x00\x00\x00\x20\xff\xff\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		}
		for i, b := range hostile {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 10 {
				_, _ = iso19794.DecodeFingerMinutiae(b)
				_, _ = iso19794.Iso19794p5v2005Codec{}.Decode(b)
				_, _ = iso19794.Iso19794p6v2011Codec{}.Decode(b)
			}
			runtime.ReadMemStats(&after)
			if perRun := (after.TotalAlloc - before.TotalAlloc) / 10; perRun > 8<<10 {
				t.Errorf("hostile record %d of %d bytes: %d bytes allocated per decode, want under 8 KiB", i, len(b), perRun)
			}
			if _, err := iso19794.DecodeFingerMinutiae(b); i == 0 && !errors.Is(err, iso19794.ErrTruncated) {
				t.Errorf("hostile finger record: got %v, want ErrTruncated", err)
			}
		}
	})
}

// The libbiomeval ISO and ANSI samples hold the same two first views, so
// converting the ISO angles to ANSI units must give the ANSI angles.
func TestFingerConvertAngles(t *testing.T) {
	iso, err := iso19794.DecodeFingerMinutiae(mustRead(t, libbiomeval+"/fmr.iso2005"))
	if err != nil {
		t.Fatal(err)
	}
	ansi, err := iso19794.DecodeFingerMinutiae(mustRead(t, libbiomeval+"/fmr.ansi2004"))
	if err != nil {
		t.Fatal(err)
	}
	iso.ConvertAngles(iso19794.FingerANSI378v2004)
	if got, want := iso.Format, iso19794.FingerANSI378v2004; got != want {
		t.Fatalf("format: got %v, want %v", got, want)
	}
	for vi := range iso.Views {
		got, want := iso.Views[vi].Minutiae, ansi.Views[vi].Minutiae
		if len(got) != len(want) {
			t.Fatalf("view %d: got %d minutiae, want %d", vi, len(got), len(want))
		}
		for i := range got {
			d := int(got[i].Angle) - int(want[i].Angle)
			if got[i].X != want[i].X || got[i].Y != want[i].Y || got[i].Type != want[i].Type || d < -1 || d > 1 {
				t.Errorf("view %d minutia %d: got %+v, want %+v (angle within one unit)", vi, i, got[i], want[i])
			}
		}
	}
	if _, err := (iso19794.Ansi378v2004Codec{}).Encode(iso); err != nil {
		t.Errorf("encode the converted record as ANSI: %v", err)
	}
}
