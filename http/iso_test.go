package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/cbeff"
)

// TestExportCBEFFAndBack: an encounter exported as a CBEFF XML container of
// ISO records (format=cbeff) is enrolled again through the API as a sample
// of format cbeff: the record's finger position and the image come back.
// format=nist&profile=ebts writes the EBTS domain and application profile;
// unknown formats and profiles are 400.
func TestExportCBEFFAndBack(t *testing.T) {
	e := MustOpenEnv(t)
	enc := e.enrolls["MX-TAP"]
	resp, doc := e.do("officer", "GET", "/v1/encounters/"+enc.ID+"/export?format=cbeff", nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("status %d, type %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), doc)
	}
	recs, err := cbeff.Unmarshal(doc)
	if err != nil || len(recs) != 1 || recs[0].FormatType != "7" || recs[0].Subtype != "Right IndexFinger" {
		t.Fatalf("CBEFF export: %v, %+v", err, recs)
	}

	body := strings.Replace(encounterJSON("MX-TAP"), `"samples": [{"image": "f2", "modality": "finger", "position": 2, "impression": "plain", "ppi": 500}]`,
		`"samples": [{"image": "f2", "format": "cbeff"}]`, 1)
	resp, out := e.enroll("officer", body, part{name: "f2", data: doc})
	if resp.StatusCode != 201 {
		t.Fatalf("enroll the CBEFF container: status %d: %s", resp.StatusCode, out)
	}
	var got huella.Encounter
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != 1 || got.Samples[0].Modality != huella.ModalityFinger || got.Samples[0].Position != 2 ||
		got.Samples[0].Format != "png" || got.Samples[0].Width != enc.Samples[0].Width {
		t.Errorf("enrolled from CBEFF: %+v", got.Samples)
	}

	resp, an2 := e.do("officer", "GET", "/v1/encounters/"+enc.ID+"/export?profile=ebts", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("EBTS export: status %d: %s", resp.StatusCode, an2)
	}
	tx, err := ansinist.Read(an2)
	if err != nil {
		t.Fatal(err)
	}
	if h := tx.Header(); h.Get(13) != "NORAM" || h.Field(16) == nil || h.Field(16).Subfields[0][1] != "EBTS" {
		t.Errorf("EBTS export: 1.013 %q, 1.016 %v", h.Get(13), h.Field(16))
	}
	for _, q := range []string{"format=pdf", "profile=xyz"} {
		if resp, _ := e.do("officer", "GET", "/v1/encounters/"+enc.ID+"/export?"+q, nil, ""); resp.StatusCode != 400 {
			t.Errorf("export?%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
