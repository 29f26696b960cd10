package finger_test

import (
	"math/bits"
	"testing"

	"github.com/huella-abis/huella/finger"
)

func onesCount(d *finger.Descriptor) int {
	n := 0
	for _, w := range d {
		n += bits.OnesCount64(w)
	}
	return n
}

// TestDescribe checks the pre-selection descriptor on real FVC2002 DB1
// prints: fixed length, deterministic, and mates sharing more bits than
// non-mates on average.
func TestDescribe(t *testing.T) {
	fingers := []string{"101", "102", "103", "104", "105", "106"}
	var first, second []finger.Descriptor
	for _, f := range fingers {
		a, b := MustExtract(t, "DB1_B", f+"_1"), MustExtract(t, "DB1_B", f+"_2")
		first = append(first, finger.Describe(a))
		second = append(second, finger.Describe(b))
		if again := finger.Describe(a); again != first[len(first)-1] {
			t.Fatalf("%s_1: two descriptors of one template differ", f)
		}
	}
	t.Run("FixedLength", func(t *testing.T) {
		if finger.DescriptorBytes > 512 {
			t.Errorf("DescriptorBytes = %d, want <= 512", finger.DescriptorBytes)
		}
		// A fixed share of the cells is set, whatever the minutiae count.
		want := onesCount(&first[0])
		for i := range first {
			if got := onesCount(&first[i]); got != want || got == 0 {
				t.Errorf("%s_1: %d bits set, want %d like the others", fingers[i], got, want)
			}
		}
	})
	t.Run("MatesCloser", func(t *testing.T) {
		var genuine, impostor float64
		var ng, ni int
		for i := range first {
			for j := range second {
				s := float64(first[i].Similarity(&second[j]))
				if i == j {
					genuine += s
					ng++
				} else {
					impostor += s
					ni++
				}
			}
		}
		genuine /= float64(ng)
		impostor /= float64(ni)
		t.Logf("mean shared bits: mates %.1f, non-mates %.1f", genuine, impostor)
		if genuine < impostor+minMeanGap {
			t.Errorf("mates share %.1f bits on average, non-mates %.1f: want a gap of at least %d", genuine, impostor, minMeanGap)
		}
	})
}

// minMeanGap is the least difference of mean shared bits between mates and
// non-mates in TestDescribe (measured 2026-11-26: 328 against 216).
const minMeanGap = 60

// BenchmarkDescriptorScan times the first stage of 1:N on one core: one
// probe descriptor against a contiguous gallery of 100,000 (real DB1
// descriptors repeated); ns/op is per comparison.
func BenchmarkDescriptorScan(b *testing.B) {
	var real []finger.Descriptor
	for _, f := range []string{"101_1", "102_1", "103_1", "104_1"} {
		real = append(real, finger.Describe(MustExtract(b, "DB1_B", f)))
	}
	gallery := make([]finger.Descriptor, 100_000)
	for i := range gallery {
		gallery[i] = real[i%len(real)]
	}
	probe := finger.Describe(MustExtract(b, "DB1_B", "101_2"))
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		sum += probe.Similarity(&gallery[i%len(gallery)])
	}
	if sum < 0 {
		b.Fatal(sum)
	}
}

// BenchmarkDescribe times the descriptor of one real template.
func BenchmarkDescribe(b *testing.B) {
	t := MustExtract(b, "DB1_B", "101_1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		finger.Describe(t)
	}
}
