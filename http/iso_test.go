package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/cbeff"
	"github.com/huella-abis/huella/iso19794"
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

// TestExportOptions: the export endpoint takes huella export's options by
// the same names. An encounter enrolled through the API with a date of
// birth known to the year only and a birth country keeps them, and goes
// out as a configured EBTS CAR that passes its profile: originator,
// retention, arrest offense, controlling agency, the NCIC codes of the
// place of birth and citizenship, and an unknown date of birth (EBTS
// allows no partial one); without a profile the year goes out as
// YYYY0000. format=iso returns one record, format=cbeff takes the face
// edition. Every option that does not validate, or does not apply to the
// format, is 400 and audits nothing.
func TestExportOptions(t *testing.T) {
	e := MustOpenEnv(t)
	body := strings.Replace(encounterJSON("MX-TAP"), `"birth_date": {"year": 1995, "month": 3}`,
		`"birth_date": {"year": 1985}, "birth_country": "MEX", "place_of_birth": "Jalisco"`, 1)
	resp, out := e.enroll("officer", body, fingerImage(t, "finger-101_1.png"))
	if resp.StatusCode != 201 {
		t.Fatalf("enroll: status %d: %s", resp.StatusCode, out)
	}
	var enc huella.Encounter
	if err := json.Unmarshal(out, &enc); err != nil {
		t.Fatal(err)
	}
	stored, err := e.store.FindEncounter(context.Background(), enc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b := stored.Biographics; b.BirthDate != (huella.PartialDate{Year: 1985}) || b.BirthCountry != "MEX" || b.PlaceOfBirth != "Jalisco" {
		t.Fatalf("stored biographics: date %+v, country %q, place %q", b.BirthDate, b.BirthCountry, b.PlaceOfBirth)
	}
	export := func(query string) (*http.Response, []byte) {
		t.Helper()
		return e.do("officer", "GET", "/v1/encounters/"+enc.ID+"/export?"+query, nil, "")
	}
	type2 := func(query string) (*ansinist.Transaction, *ansinist.Record) {
		t.Helper()
		resp, data := export(query)
		if resp.StatusCode != 200 {
			t.Fatalf("export?%s: status %d: %s", query, resp.StatusCode, data)
		}
		tx, err := ansinist.ReadStrict(data)
		if err != nil {
			t.Fatalf("export?%s: %v", query, err)
		}
		return tx, tx.RecordsOfType(2)[0]
	}

	q := url.Values{"profile": {"ebts"}, "tot": {"car"}, "ori": {"MX0000001"}, "retention": {"y"}, "arrest_offense": {"ILLEGAL ENTRY"}, "cri": {"MX0000002"}}
	tx, r := type2(q.Encode())
	if v := ansinist.ValidateProfile(tx, ansinist.ProfileEBTS); len(v) > 0 {
		t.Errorf("a configured EBTS CAR: violations %v", v)
	}
	if h := tx.Header(); h.Get(4) != "CAR" || h.Get(8) != "MX0000001" {
		t.Errorf("1.004 %q, 1.008 %q", h.Get(4), h.Get(8))
	}
	want := map[int]string{5: "Y", 20: "JL", 21: "GT", 22: "00000000", 73: "MX0000002"}
	for n, v := range want {
		if got := r.Get(n); got != v {
			t.Errorf("2.%03d = %q, want %q", n, got, v)
		}
	}
	if asl := r.Field(47); asl == nil || asl.Subfields[0][1] != "ILLEGAL ENTRY" {
		t.Errorf("2.047 %v", asl)
	}
	if _, r := type2("format=nist"); r.Get(22) != "19850000" || r.Get(20) != "Jalisco" {
		t.Errorf("without a profile: 2.020 %q, 2.022 %q, want Jalisco, 19850000", r.Get(20), r.Get(22))
	}

	resp, rec := export("format=iso&modality=finger")
	if resp.StatusCode != 200 {
		t.Fatalf("format=iso: status %d: %s", resp.StatusCode, rec)
	}
	if fir, err := (iso19794.Iso19794p4v2011Codec{}).Decode(rec); err != nil || len(fir.Representations) != 1 || fir.Representations[0].Position != 2 {
		t.Errorf("format=iso&modality=finger: %v", err)
	}
	if resp, _ := export("format=iso&modality=face&iso_version=2011"); resp.StatusCode != 404 {
		t.Errorf("format=iso&modality=face of an encounter without a face: status %d, want 404", resp.StatusCode)
	}
	if resp, doc := export("format=cbeff&iso_version=2011"); resp.StatusCode != 200 || !strings.Contains(string(doc), "<") {
		t.Errorf("format=cbeff&iso_version=2011: status %d", resp.StatusCode)
	}

	before, err := e.store.ListAuditEvents(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"retention=Q", "profile=ebts&tot=XYZ", "tot=CAR1", "ori=MX-000001", "ori=MX00000012", "cri=" + url.QueryEscape("A B"),
		"arrest_offense=" + url.QueryEscape("THEFT\x1d2.099:X"), "arrest_offense=" + url.QueryEscape(" LEADING BLANK"),
		"arrest_offense=" + strings.Repeat("X", 301), "format=iso", "format=iso&modality=palm", "format=iso&modality=finger&iso_version=2008",
		"format=cbeff&profile=ebts", "format=nist&iso_version=2011", "modality=finger", "format=iso&modality=finger&retention=Y",
	} {
		if resp, msg := export(bad); resp.StatusCode != 400 {
			t.Errorf("export?%s: status %d, want 400: %s", bad, resp.StatusCode, msg)
		}
	}
	after, err := e.store.ListAuditEvents(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("refused exports wrote %d audit events", len(after)-len(before))
	}
}
