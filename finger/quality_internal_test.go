package finger

import (
	"testing"
)

// uniformMinutiae returns n minutiae of one reliability (0–100).
func uniformMinutiae(n int, reliability uint8) []Minutia {
	ms := make([]Minutia, n)
	for i := range ms {
		ms[i] = Minutia{X: i, Y: i, Type: Ending, Quality: reliability}
	}
	return ms
}

// TestPrintQuality checks the print quality's factors on made-up counts: a
// typical print keeps its ridge quality, more minutiae than the area holds
// or too few to pair lower it in proportion, and it stays in [0, 100].
func TestPrintQuality(t *testing.T) {
	full := int(qualityFullMinutiae)
	// The area that holds exactly qualityFullMinutiae minutiae.
	area := int(float64(full)/qualityMaxDensity) + 1
	cases := []struct {
		name       string
		ridges     int
		minutiae   []Minutia
		foreground int
		want       func(q int) bool
		wantText   string
	}{
		{"Typical", 60, uniformMinutiae(full, 50), area, func(q int) bool { return q == 60 }, "60 (the ridge quality)"},
		{"MoreReliable", 60, uniformMinutiae(full, 100), area, func(q int) bool { return q == 85 }, "85 (60 × √2)"},
		{"TooDense", 60, uniformMinutiae(2*full, 50), area, func(q int) bool { return q >= 29 && q <= 31 }, "about 30 (half the minutiae fit the area)"},
		{"TooFew", 60, uniformMinutiae(full/2, 50), area, func(q int) bool { return q == 30 }, "30 (half the minutiae needed)"},
		{"Capped", 100, uniformMinutiae(full, 100), area, func(q int) bool { return q == 100 }, "100"},
		{"NoMinutiae", 60, nil, area, func(q int) bool { return q == 0 }, "0"},
		{"NoForeground", 60, uniformMinutiae(full, 50), 0, func(q int) bool { return q == 0 }, "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := printQuality(tc.ridges, tc.minutiae, tc.foreground)
			if q < 0 || q > 100 || !tc.want(q) {
				t.Errorf("printQuality = %d, want %s", q, tc.wantText)
			}
		})
	}
}
