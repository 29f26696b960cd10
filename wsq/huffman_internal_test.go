package wsq

import "testing"

// TestHuffCodeLimitsDeepTrees feeds Fibonacci frequencies, whose optimal
// code is as deep as there are symbols, and checks the limited code is a
// valid 16-bit prefix code that the decoder accepts.
func TestHuffCodeLimitsDeepTrees(t *testing.T) {
	var symbols []codedSymbol
	a, b := 1, 1
	for s := 1; s <= 40; s++ {
		for range a {
			symbols = append(symbols, codedSymbol{symbol: byte(s)})
		}
		a, b = b, a+b
		if len(symbols) > 5_000_000 {
			break
		}
	}
	h := newHuffCode(symbols)
	kraft := 0.0
	total := 0
	for l := 1; l <= maxHuffBits; l++ {
		total += h.counts[l]
		kraft += float64(h.counts[l]) / float64(int(1)<<l)
	}
	if kraft >= 1 {
		t.Errorf("Kraft sum %.6f, want < 1 (the all-ones code stays reserved)", kraft)
	}
	if total != len(h.values) {
		t.Fatalf("%d codes for %d values", total, len(h.values))
	}
	if _, err := newHuffTable(h.counts, h.values); err != nil {
		t.Fatalf("decoder rejects the table: %v", err)
	}
}
