package cpulevel_test

import (
	"testing"

	"github.com/huella-abis/huella/internal/cpulevel"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    cpulevel.Level
		wantErr bool
	}{
		{"", cpulevel.AVX512, false},
		{"avx512", cpulevel.AVX512, false},
		{"avx2", cpulevel.AVX2, false},
		{"generic", cpulevel.Generic, false},
		{"purego", cpulevel.Generic, false},
		{"AVX2", cpulevel.AVX512, true},
		{"neon", cpulevel.AVX512, true},
	} {
		got, err := cpulevel.Parse(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Parse(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err == nil && tc.in != "" && tc.in != "purego" && got.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q", tc.in, got.String())
		}
	}
}
