package http

import (
	"net/url"
	"strings"
	"testing"

	"github.com/huella-abis/huella"
)

// FuzzExportOptions: whatever the query of the export endpoint, its options
// are either refused as EINVALID or valid by the exporters' own check,
// with no control character (a separator of the traditional encoding) in
// the arrest offense.
func FuzzExportOptions(f *testing.F) {
	for _, q := range []string{"", "format=iso&modality=face&iso_version=2011", "profile=ebts&tot=car&ori=MX0000001&retention=y&arrest_offense=ILLEGAL+ENTRY&cri=MX0000002",
		"profile=inti&tot=CPS", "arrest_offense=A%1DB", "format=cbeff&iso_version=2005", "format=nist&modality=finger"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		format, modality, nist, iso, err := exportOptions(q)
		if err != nil {
			if huella.ErrorCode(err) != huella.EINVALID {
				t.Fatalf("%q: %v, want EINVALID", raw, err)
			}
			return
		}
		if err := nist.Validate(); err != nil {
			t.Fatalf("%q: accepted options that do not validate: %v", raw, err)
		}
		if strings.ContainsFunc(nist.ArrestOffense, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("%q: a control character in the arrest offense", raw)
		}
		if iso.FaceVersion != 0 && iso.FaceVersion != 2005 && iso.FaceVersion != 2011 {
			t.Fatalf("%q: face version %d", raw, iso.FaceVersion)
		}
		if format == "iso" && modality == "" || format != "nist" && format != "iso" && format != "cbeff" {
			t.Fatalf("%q: format %q, modality %q", raw, format, modality)
		}
	})
}
