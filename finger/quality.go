package finger

import "math"

// imageQuality rates a print 0–100 from what extraction measured: the
// foreground area, the orientation coherence and contrast inside it, and
// the count of reliable minutiae.
func imageQuality(o *orientationField, m *blockMask, contrast *blockField, minutiae int) int {
	var coh float64
	n := 0
	for b, fg := range m.fg {
		if fg {
			coh += o.coherence[b]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	coh /= float64(n)
	area := math.Min(1, float64(n)/600)
	count := math.Min(1, float64(minutiae)/30)
	q := 100 * math.Pow(coh/0.7, 1.0) * math.Sqrt(area) * math.Sqrt(count)
	return int(math.Round(math.Min(100, math.Max(0, q))))
}
