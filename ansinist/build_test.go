package ansinist_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
)

func TestBuildAndReadBack(t *testing.T) {
	wsqData := mustRead(t, datasets.Path(t, "ansinist/nist-reference/samples-wsq/sample.wsq"))
	var irisPNG, faceJPEG bytes.Buffer
	if err := png.Encode(&irisPNG, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&faceJPEG, image.NewRGBA(image.Rect(0, 0, 40, 50)), nil); err != nil {
		t.Fatal(err)
	}
	tx := ansinist.NewTransaction(ansinist.Header{
		TransactionType: "CAR", Date: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Destination: "PARTNER01", Originator: "HUELLA001", ControlNumber: "TCN-1",
	})
	tx.AddText(map[int]string{18: "DOE,JOHN", 22: "19800101", 24: "M"})
	tx.AddFingerprint(ansinist.Fingerprint{Position: 2, Impression: 1, Width: 545, Height: 622, Data: wsqData})
	if _, err := tx.AddFingerprintType4(ansinist.Fingerprint{Position: 3, Impression: 1, Width: 545, Height: 622, Data: wsqData}); err != nil {
		t.Fatal(err)
	}
	tx.AddFacial(ansinist.FacialImage{Width: 40, Height: 50, Data: faceJPEG.Bytes()})
	tx.AddFacial(ansinist.FacialImage{ImageType: "TATTOO", Width: 40, Height: 50, Data: faceJPEG.Bytes(), SMT: ansinist.SMT{
		Codes: []string{"TAT R ARM"}, Height: "10", Width: "5",
		Descriptors: [][]string{{"HUMAN", "MFACE", "SKULL"}}, Colors: [][]string{{"BLACK", "RED"}},
	}})
	tx.AddIris(ansinist.IrisImage{Eye: 2, Width: 64, Height: 48, Data: irisPNG.Bytes()})
	data, err := tx.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ansinist.ReadStrict(data)
	if err != nil {
		t.Fatalf("strict read of a built transaction: %v", err)
	}
	if v := got.Get(2, 18); v != "DOE,JOHN" {
		t.Errorf("2.018: got %q, want DOE,JOHN", v)
	}
	if got.TransactionType() != "CAR" || got.Version() != "0502" {
		t.Errorf("TOT/VER: got %q/%q", got.TransactionType(), got.Version())
	}
	types := []int{}
	for _, r := range got.Records {
		types = append(types, r.Type)
	}
	if want := []int{1, 2, 14, 4, 10, 10, 17}; !equalInts(types, want) {
		t.Fatalf("record types: got %v, want %v", types, want)
	}
	for i, r := range got.Records[2:4] {
		if p := r.FingerPositions(); len(p) != 1 || p[0] != 2+i {
			t.Errorf("type-%d FGP: got %v, want [%d]", r.Type, p, 2+i)
		}
		if r.Impression() != 1 {
			t.Errorf("type-%d IMP: got %d, want 1", r.Type, r.Impression())
		}
		img, ok := r.Image()
		if !ok || img.Compression != ansinist.CompressionWSQ {
			t.Fatalf("type-%d image: %v %v", r.Type, ok, img)
		}
		m, err := img.Decode()
		if err != nil || m.Bounds().Dx() != 545 {
			t.Errorf("type-%d decode: %v", r.Type, err)
		}
		if img.PPI != 500 {
			t.Errorf("type-%d PPI: got %d, want 500", r.Type, img.PPI)
		}
	}
	tattoo := got.Records[5]
	if tattoo.ImageType() != "TATTOO" {
		t.Errorf("10.003: got %q", tattoo.ImageType())
	}
	smt := tattoo.SMT()
	if len(smt.Codes) != 1 || smt.Codes[0] != "TAT R ARM" || smt.Height != "10" || smt.Colors[0][1] != "RED" || smt.Descriptors[0][2] != "SKULL" {
		t.Errorf("SMT: got %+v", smt)
	}
	if e := got.Records[6].EyePosition(); e != 2 {
		t.Errorf("17.003: got %d, want 2", e)
	}
	for _, r := range got.Records[4:] {
		img, _ := r.Image()
		if _, err := img.Decode(); err != nil {
			t.Errorf("type-%d decode: %v", r.Type, err)
		}
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

func TestStrict(t *testing.T) {
	data := mustRead(t, datasets.Path(t, "ansinist/nist-reference/ansi-references/type-10-sap10.an2"))
	t.Run("OK", func(t *testing.T) {
		if _, err := ansinist.ReadStrict(data); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrRequired", func(t *testing.T) {
		tx, err := ansinist.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		tx.RecordsOfType(10)[0].Remove(3)
		out, err := tx.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ansinist.ReadStrict(out)
		var verr *ansinist.ValidationError
		if !errors.As(err, &verr) || !strings.Contains(err.Error(), "10.003: required") {
			t.Fatalf("got %v, want a ValidationError naming 10.003: required", err)
		}
		lenient, err := ansinist.Read(out)
		if err != nil || len(lenient.Warnings) == 0 || lenient.Warnings[0].String() != "10.003: required" {
			t.Errorf("lenient: got %v, warnings %v", err, lenient.Warnings)
		}
	})
	t.Run("ErrValues", func(t *testing.T) {
		tx, err := ansinist.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		tx.RecordsOfType(10)[0].Set(3, "CAT")
		tx.RecordsOfType(10)[0].Set(11, "GIF")
		tx.Header().Set(5, "20261345")
		out, err := tx.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ansinist.ReadStrict(out)
		for _, want := range []string{`10.003: unknown image type: "CAT"`, `10.011: unknown compression: "GIF"`, `1.005: not a date YYYYMMDD: "20261345"`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want it to name %s", err, want)
			}
		}
	})
	t.Run("OKContentsRecomputed", func(t *testing.T) {
		tx, err := ansinist.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		tx.Header().SetSubfields(3, [][]string{{"1", "1"}, {"2", "00"}})
		out, err := tx.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("Marshal did not recompute CNT")
		}
	})
}

func TestBiographicsAndHeaders(t *testing.T) {
	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Originator: "ORI", Destination: "DAI", ControlNumber: "T1"})
	want := ansinist.Biographics{Name: "DOE,JOHN", Aliases: []string{"DOE,J", "ROE,JOHN"}, PlaceOfBirth: "MX", Citizenship: []string{"MEX"}, DateOfBirth: "19800101", Sex: "M"}
	tx.AddBiographics(want, map[int]string{5: "N"})
	g := image.NewGray(image.Rect(0, 0, 96, 120))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	fp, err := ansinist.WSQFingerprint(7, 0, g, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.AddFingerprintType4(fp); err != nil {
		t.Fatal(err)
	}
	data, err := tx.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ansinist.ReadStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	b := got.Biographics()
	if b.Name != want.Name || len(b.Aliases) != 2 || b.Aliases[1] != "ROE,JOHN" || b.Citizenship[0] != "MEX" || b.DateOfBirth != want.DateOfBirth || b.Sex != "M" || b.PlaceOfBirth != "MX" {
		t.Errorf("biographics: got %+v, want %+v", b, want)
	}
	if v := got.Get(2, 5); v != "N" {
		t.Errorf("2.005: got %q, want N", v)
	}
	h, ok := got.Records[2].FingerprintHeader()
	if !ok || h.Positions[0] != 7 || h.Positions[1] != 255 || h.Width != 96 || h.Height != 120 || h.Compression != 1 || h.IDC != 1 {
		t.Errorf("type-4 header: got %+v", h)
	}
}

func TestMarshalRejectsSeparatorsInItems(t *testing.T) {
	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	tx.AddText(map[int]string{18: "DOE\x1fJOHN"})
	if _, err := tx.Marshal(); err == nil || !strings.Contains(err.Error(), "2.018") {
		t.Errorf("got %v, want an error naming 2.018", err)
	}
}
