package finger

import "math"

// imageQuality rates a print 0–100 from what extraction measured: the ridge
// clarity inside the foreground (the mean autocorrelation peak of the
// oriented ridge profiles, as NFIQ 2's local clarity) and the foreground
// area. Orientation coherence and the minutiae count predicted failures
// less well on the dev data (see BENCHMARKS.md).
func imageQuality(o *orientationField, m *blockMask, clarity *blockField, minutiae int) int {
	var clear float64
	n := 0
	for b, fg := range m.fg {
		if fg {
			clear += clarity.v[b]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	clear /= float64(n)
	area := math.Min(1, float64(n)/qualityFullArea)
	q := 100 * math.Min(1, clear/qualityFullClarity) * math.Sqrt(area)
	return int(math.Round(math.Min(100, math.Max(0, q))))
}
