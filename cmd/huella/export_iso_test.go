package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/huella-abis/huella/cbeff"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
)

// TestExportISO: an encounter imported from NIST's ten-print sample is
// exported as ISO/IEC 19794 records (--format iso) and as a CBEFF XML
// container (--format cbeff); the records read back with our decoders,
// one image per finger sample, each image decoding, and "iso check"
// passes them. Exported under the EBTS profile, the transaction passes
// "nist check --profile ebts".
func TestExportISO(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the engines")
	}
	data, dir := t.TempDir(), t.TempDir()
	MustRun(t, "site", "add", "--data", data, "--code", "MX-TAP", "--name", "Tapachula", "--country", "MEX", "--tz", "America/Mexico_City")
	MustAddUser(t, data, "--name", "officer", "--role", "officer", "--site", "MX-TAP")
	out := MustRun(t, "import", "--data", data, "--site", "MX-TAP", "--officer", "officer",
		datasets.Path(t, "ansinist/nist-reference/samples-nist/sample.an2"))
	id := regexp.MustCompile(`enc_[0-9A-Za-z]+`).FindString(out)
	if id == "" {
		t.Fatalf("no encounter in the import's output:\n%s", out)
	}

	isoDir := filepath.Join(dir, "iso")
	MustRun(t, "export", "--data", data, "--format", "iso", id, isoDir)
	fir, err := os.ReadFile(filepath.Join(isoDir, "finger.iso"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := iso19794.Iso19794p4v2011Codec{Strict: true}.Decode(fir)
	if err != nil {
		t.Fatalf("exported finger image record: %v", err)
	}
	if len(rec.Representations) < 10 {
		t.Fatalf("%d finger images exported, want the 10 rolled prints and more", len(rec.Representations))
	}
	for i, p := range rec.Representations {
		if _, _, err := imgproc.Decode(p.Data, imgproc.MaxPixels); err != nil || p.ImageResX == 0 {
			t.Errorf("finger image %d (position %d, %v, %d ppi): %v", i, p.Position, p.Compression, p.ImageResX, err)
		}
	}
	if check := MustRun(t, "iso", "check", "--strict", filepath.Join(isoDir, "finger.iso")); !strings.Contains(check, "ok finger image ISO/IEC 19794-4:2011") {
		t.Errorf("iso check: %s", check)
	}

	xmlPath := filepath.Join(dir, "encounter.xml")
	MustRun(t, "export", "--data", data, "--format", "cbeff", id, xmlPath)
	doc, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	records, err := cbeff.Unmarshal(doc)
	if err != nil {
		t.Fatalf("exported CBEFF: %v", err)
	}
	if check := MustRun(t, "iso", "check", "--strict", xmlPath); !strings.Contains(check, "ok CBEFF container ISO/IEC 19785-3 XML, "+strconv.Itoa(len(records))+" records: finger image") {
		t.Errorf("iso check of the CBEFF container: %s", check)
	}
	if len(records) != len(rec.Representations) {
		t.Errorf("%d BDBs in the CBEFF container, %d finger images in the ISO export", len(records), len(rec.Representations))
	}
	for i, r := range records {
		one, err := iso19794.Iso19794p4v2011Codec{Strict: true}.Decode(r.Data)
		if err != nil || len(one.Representations) != 1 || r.Type != "Finger" || r.FormatType != "7" {
			t.Fatalf("BDB %d (%s %s): %v", i, r.Type, r.Subtype, err)
		}
		if !bytes.Equal(one.Representations[0].Data, rec.Representations[i].Data) {
			t.Errorf("BDB %d holds another image than the ISO export's", i)
		}
	}

	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), []string{"export", "--data", data, "--format", "pdf", id, xmlPath}, &stdout, &stderr); err == nil {
		t.Error("export --format pdf: no error")
	}

	// Under the EBTS profile (TOT AMN, which asks no Type-2 identity
	// fields): nist check --profile ebts passes it, inti refuses its domain.
	an2 := filepath.Join(dir, "ebts.an2")
	MustRun(t, "export", "--data", data, "--profile", "ebts", "--tot", "AMN", id, an2)
	if check := MustRun(t, "nist", "check", "--strict", "--profile", "ebts", an2); !strings.Contains(check, "EBTS profile ok") {
		t.Errorf("nist check --profile ebts: %s", check)
	}
	stdout.Reset()
	err = Run(context.Background(), []string{"nist", "check", "--profile", "inti", an2}, &stdout, &stderr)
	if err == nil || !strings.Contains(stdout.String(), "1.013") {
		t.Errorf("nist check --profile inti of an EBTS transaction: %v\n%s", err, stdout.String())
	}

	// A CAR passes EBTS with what a deployment configures; without the
	// retention code and the arrest offense, the check names them.
	car := filepath.Join(dir, "car.an2")
	MustRun(t, "export", "--data", data, "--profile", "ebts", "--ori", "MX0000001", "--retention", "Y", "--arrest-offense", "ILLEGAL ENTRY", id, car)
	stdout.Reset()
	if err := Run(context.Background(), []string{"nist", "check", "--strict", "--profile", "ebts", car}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "EBTS profile ok") {
		check := stdout.String()
		t.Errorf("nist check --profile ebts of a configured CAR: %s", check)
	}
	MustRun(t, "export", "--data", data, "--profile", "ebts", id, car)
	stdout.Reset()
	err = Run(context.Background(), []string{"nist", "check", "--profile", "ebts", car}, &stdout, &stderr)
	if err == nil || !strings.Contains(stdout.String(), "2.005") || !strings.Contains(stdout.String(), "2.047") {
		t.Errorf("nist check --profile ebts of a CAR without retention and offense: %v\n%s", err, stdout.String())
	}
	for _, bad := range [][]string{{"--retention", "maybe"}, {"--format", "iso", "--iso-version", "2008"}} {
		args := append(append([]string{"export", "--data", data}, bad...), id, filepath.Join(dir, "bad"))
		if err := Run(context.Background(), args, &stdout, &stderr); err == nil {
			t.Errorf("export %v: no error", bad)
		}
	}
}
