package ansinist_test

import (
	"testing"

	"github.com/huella-abis/huella/ansinist"
)

func TestNCICPlaceOfBirth(t *testing.T) {
	for _, tc := range []struct {
		country, place, want string
	}{
		{"HND", "San Pedro Sula", "HD"},
		{"SLV", "", "EL"},
		{"MEX", "Jalisco", "JL"},
		{"MEX", "  nuevo  LEÓN ", "NL"},
		{"MEX", "Tijuana", "MM"}, // a town: the country
		{"USA", "Texas", "TX"},
		{"USA", "", "US"},
		{"CAN", "Québec", "PQ"},
		{"CAN", "", "CD"},
		{"GBR", "Scotland", "SS"},
		{"GBR", "London", "YY"}, // the table codes the UK only by its countries
		{"UKR", "", "YY"},       // formed after the table's edition
		{"LVA", "", "YY"},       // "Reference only"
		{"", "", "XX"},
		{"XXX", "", "XX"},
		{"", "San Miguel", "YY"}, // a place, but which country's
		{"rus", "", "SX"},
	} {
		if got := ansinist.NCICPlaceOfBirth(tc.country, tc.place); got != tc.want {
			t.Errorf("NCICPlaceOfBirth(%q, %q) = %q, want %q", tc.country, tc.place, got, tc.want)
		}
	}
}

func TestNCICCitizenship(t *testing.T) {
	for country, want := range map[string]string{"MEX": "MM", "USA": "US", "GTM": "GT", "CHN": "RC", "COD": "ZR", "UKR": "", "GBR": "", "": ""} {
		got, ok := ansinist.NCICCitizenship(country)
		if got != want || ok != (want != "") {
			t.Errorf("NCICCitizenship(%q) = %q, %t, want %q", country, got, ok, want)
		}
	}
}

// TestNCICCountry: every code written reads back as its country, and
// states and provinces as their country with their name.
func TestNCICCountry(t *testing.T) {
	for _, tc := range []struct {
		code, country, subdivision string
		ok                         bool
	}{
		{"HD", "HND", "", true},
		{"TX", "USA", "TEXAS", true},
		{"NF", "CAN", "NEWFOUNDLAND AND LABRADOR", true},
		{"NL", "MEX", "NUEVO LEON", true},
		{"EN", "GBR", "ENGLAND", true},
		{"MM", "MEX", "", true},
		{"XX", "", "", false},
		{"YY", "", "", false},
		{"Q1", "", "", false},
	} {
		country, sub, ok := ansinist.NCICCountry(tc.code)
		if country != tc.country || sub != tc.subdivision || ok != tc.ok {
			t.Errorf("NCICCountry(%q) = %q, %q, %t, want %q, %q, %t", tc.code, country, sub, ok, tc.country, tc.subdivision, tc.ok)
		}
	}
	for _, iso := range []string{"HND", "GTM", "SLV", "MEX", "USA", "CAN", "COL", "VEN", "CUB", "HTI", "DOM", "NIC", "ECU", "PER", "BRA", "IND", "CHN"} {
		code := ansinist.NCICPlaceOfBirth(iso, "")
		if back, _, ok := ansinist.NCICCountry(code); !ok || back != iso {
			t.Errorf("%s → %s → %q, %t", iso, code, back, ok)
		}
	}
}
