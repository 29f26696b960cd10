package cbeff_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella/cbeff"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
)

func mustRead(tb testing.TB, rel string) []byte {
	tb.Helper()
	data, err := os.ReadFile(datasets.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestRoundTrip: real ISO records (MOSIP's finger image records,
// libbiomeval's face and iris records) written in one container read back
// equal, headers and bytes, and each BDB still decodes as its record.
func TestRoundTrip(t *testing.T) {
	q := 87
	created := time.Date(2026, 12, 7, 10, 30, 15, 250e6, time.UTC)
	records := []cbeff.Record{
		{FormatOwner: "257", FormatType: "7", Created: created, Type: "Finger", Subtype: "Left IndexFinger", Level: "Raw", Purpose: "Enroll",
			Quality: &q, Data: mustRead(t, "fingerprint/mosip-iso/FingerPrintLeft_Index.iso")},
		{FormatOwner: "257", FormatType: "7", Created: created, Type: "Finger", Subtype: "Right Thumb", Level: "Raw", Purpose: "Enroll",
			Data: mustRead(t, "fingerprint/mosip-iso/FingerPrintRight_Thumb.iso")},
		{FormatOwner: "257", FormatType: "8", Type: "Face", Level: "Raw", Purpose: "Enroll", Data: mustRead(t, "fingerprint/libbiomeval/face01.iso2005")},
		{FormatOwner: "257", FormatType: "9", Type: "Iris", Subtype: "Right", Data: mustRead(t, "fingerprint/libbiomeval/iris01.iso2011")},
	}
	data, err := cbeff.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`<BIR xmlns="`+cbeff.Namespace+`">`)) {
		t.Error("no root BIR in the ISO/IEC 19785-3 namespace")
	}
	got, err := cbeff.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, records) {
		t.Fatalf("read back %d records, not equal to the %d written", len(got), len(records))
	}
	if _, err := (iso19794.Iso19794p4v2005Codec{}).Decode(got[0].Data); err != nil {
		t.Errorf("first BDB: %v", err)
	}
	if _, err := (iso19794.Iso19794p6v2011Codec{}).Decode(got[3].Data); err != nil {
		t.Errorf("iris BDB: %v", err)
	}
}

// TestUnmarshalMOSIP reads a container as MOSIP's documentation writes it:
// format owner "Mosip", an HMAC quality algorithm, base64 folded over
// lines.
func TestUnmarshalMOSIP(t *testing.T) {
	fir := mustRead(t, "fingerprint/mosip-iso/FingerPrintRight_Thumb.iso")
	b64 := base64.StdEncoding.EncodeToString(fir)
	var folded strings.Builder
	for len(b64) > 76 {
		folded.WriteString(b64[:76] + "\n")
		b64 = b64[76:]
	}
	folded.WriteString(b64)
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<BIR xmlns="http://standards.iso.org/iso-iec/19785/-3/ed-2/">
   <BIRInfo><Integrity>false</Integrity></BIRInfo>
   <!-- right thumb -->
   <BIR>
      <Version><Major>1</Major><Minor>1</Minor></Version>
      <CBEFFVersion><Major>1</Major><Minor>1</Minor></CBEFFVersion>
      <BIRInfo><Integrity>false</Integrity></BIRInfo>
      <BDBInfo>
         <Format><Organization>Mosip</Organization><Type>7</Type></Format>
         <CreationDate>2019-06-27T13:40:06.211Z</CreationDate>
         <Type>Finger</Type>
         <Subtype>Right Thumb</Subtype>
         <Level>Raw</Level>
         <Purpose>Enroll</Purpose>
         <Quality><Algorithm><Organization>HMAC</Organization><Type>SHA-256</Type></Algorithm><Score>100</Score></Quality>
      </BDBInfo>
      <BDB>` + folded.String() + `</BDB>
   </BIR>
</BIR>`
	got, err := cbeff.Unmarshal([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].FormatOwner != "Mosip" || got[0].FormatType != "7" || got[0].Subtype != "Right Thumb" ||
		got[0].Quality == nil || *got[0].Quality != 100 || !bytes.Equal(got[0].Data, fir) {
		t.Fatalf("read %+v", got)
	}
	if want := time.Date(2019, 6, 27, 13, 40, 6, 211e6, time.UTC); !got[0].Created.Equal(want) {
		t.Errorf("created %v, want %v", got[0].Created, want)
	}
}

// TestUnmarshalErrors: what is not a CBEFF XML container is refused with
// ErrMalformed.
func TestUnmarshalErrors(t *testing.T) {
	bdb := `<BDBInfo><Format><Organization>257</Organization><Type>7</Type></Format></BDBInfo>`
	for _, c := range []struct{ name, doc string }{
		{"ErrNotXML", "FIR\x00010\x00"},
		{"ErrRoot", `<Record><BIR>` + bdb + `<BDB>AAAA</BDB></BIR></Record>`},
		{"ErrNamespace", `<BIR xmlns="urn:other">` + bdb + `<BDB>AAAA</BDB></BIR>`},
		{"ErrNoBDB", `<BIR><BIRInfo><Integrity>false</Integrity></BIRInfo></BIR>`},
		{"ErrBase64", `<BIR><BIR>` + bdb + `<BDB>not base64!</BDB></BIR></BIR>`},
		{"ErrEmptyBDB", `<BIR><BIR>` + bdb + `<BDB></BDB></BIR></BIR>`},
		{"ErrNoBDBInfo", `<BIR><BIR><BDB>AAAA</BDB></BIR></BIR>`},
		{"ErrDate", `<BIR><BIR><BDBInfo><CreationDate>yesterday</CreationDate></BDBInfo><BDB>AAAA</BDB></BIR></BIR>`},
		{"ErrQuality", `<BIR><BIR><BDBInfo><Quality><Score>300</Score></Quality></BDBInfo><BDB>AAAA</BDB></BIR></BIR>`},
		{"ErrTruncated", `<BIR><BIR>` + bdb + `<BDB>AAAA</BDB>`},
		{"ErrDeep", strings.Repeat("<BIR>", 12) + bdb + "<BDB>AAAA</BDB>" + strings.Repeat("</BIR>", 12)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := cbeff.Unmarshal([]byte(c.doc)); !errors.Is(err, cbeff.ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := cbeff.Marshal([]cbeff.Record{{Type: "Finger"}}); !errors.Is(err, cbeff.ErrMalformed) {
		t.Errorf("a record without data: %v, want ErrMalformed", err)
	}
}

// FuzzUnmarshal: Unmarshal never panics; what it reads, Marshal writes and
// Unmarshal reads back equal.
func FuzzUnmarshal(f *testing.F) {
	q := 40
	seed, err := cbeff.Marshal([]cbeff.Record{{FormatOwner: "257", FormatType: "9", Type: "Iris", Subtype: "Left", Quality: &q, Data: []byte("IIR\x00020\x00")}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`<BIR><BIR><BDBInfo><Format><Organization>Mosip</Organization><Type>7</Type></Format></BDBInfo><BDB>RklSAA==</BDB></BIR></BIR>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := cbeff.Unmarshal(data)
		if err != nil {
			if !errors.Is(err, cbeff.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out, err := cbeff.Marshal(recs)
		if err != nil {
			return // a field Marshal refuses (such as too many records)
		}
		again, err := cbeff.Unmarshal(out)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("%d records re-read, %d written", len(again), len(recs))
		}
		for i := range recs {
			if !bytes.Equal(again[i].Data, recs[i].Data) || again[i].Type != recs[i].Type || again[i].FormatType != recs[i].FormatType {
				t.Fatalf("record %d differs after a round trip", i)
			}
		}
	})
}
