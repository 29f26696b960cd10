package huella_test

import (
	"slices"
	"testing"

	"github.com/huella-abis/huella"
)

func TestNameWords(t *testing.T) {
	for in, want := range map[string][]string{
		"María-José  Méndez": {"maria", "jose", "mendez"},
		"NÚÑEZ, Óscar":       {"nunez", "oscar"},
		"O'Brien Çelik":      {"o", "brien", "celik"},
		"  ":                 nil,
		"Ngô Đình":           {"ngo", "đinh"}, // Đ has no decomposition: kept, lower-cased
		"Zoë 2nd":            {"zoe", "2nd"},
		"\u0041\u0301lvaro":  {"alvaro"}, // already decomposed
	} {
		if got := huella.NameWords(in); !slices.Equal(got, want) {
			t.Errorf("NameWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocumentKey(t *testing.T) {
	for in, want := range map[string]string{
		"g-123 4567": "G1234567",
		"<<A12>>":    "A12",
		"--":         "",
	} {
		if got := huella.DocumentKey(in); got != want {
			t.Errorf("DocumentKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncounterFilterValidate(t *testing.T) {
	for _, f := range []huella.EncounterFilter{
		{Limit: -1}, {Offset: -1}, {Name: "--"}, {Name: "a b c d e f g h i"}, {Document: " "},
	} {
		if err := f.Validate(); huella.ErrorCode(err) != huella.EINVALID {
			t.Errorf("%+v: Validate = %v, want EINVALID", f, err)
		}
	}
	if err := (&huella.EncounterFilter{Name: "ana", Document: "G1"}).Validate(); err != nil {
		t.Errorf("Validate = %v, want nil", err)
	}
}
