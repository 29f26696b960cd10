package finger

import (
	"math"
	"sort"
)

// PairedMinutiae counts the minutiae of want found again in got: pairs one
// to one, closest first, the minutiae within maxDistance pixels whose
// directions differ by at most maxAngle radians. It measures an extractor's
// repeatability (want mapped through a known transform) and its agreement
// with another extractor.
func PairedMinutiae(want, got []Minutia, maxDistance, maxAngle float64) int {
	type pair struct {
		i, j int
		d    float64
	}
	var pairs []pair
	for i, a := range want {
		for j, b := range got {
			dx, dy := float64(a.X-b.X), float64(a.Y-b.Y)
			if math.Abs(dx) > maxDistance || math.Abs(dy) > maxDistance {
				continue
			}
			if d := math.Hypot(dx, dy); d <= maxDistance && angleDiff(a.Direction, b.Direction) <= maxAngle {
				pairs = append(pairs, pair{i, j, d})
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a].d < pairs[b].d })
	usedA, usedB := make([]bool, len(want)), make([]bool, len(got))
	n := 0
	for _, p := range pairs {
		if !usedA[p.i] && !usedB[p.j] {
			usedA[p.i], usedB[p.j] = true, true
			n++
		}
	}
	return n
}
