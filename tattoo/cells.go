package tattoo

// cellIndex groups a template's descriptors by the first-level node of the
// vocabulary tree they fall in, so that a gallery comparison only measures
// distances between descriptors that share a node: the search-time
// structure built once per gallery image.
type cellIndex struct {
	order []uint16 // descriptor indices, grouped by cell
	start []int32  // cell k holds order[start[k]:start[k+1]]
}

// newCellIndex assigns each descriptor to its nearest first-level centre.
func newCellIndex(v *Vocabulary, ds []Descriptor) *cellIndex {
	b := v.Branching
	cell := make([]int, len(ds))
	count := make([]int32, b+1)
	for i := range ds {
		c, _ := nearestTwo(v.Centers[0], &ds[i])
		cell[i] = c
		count[c+1]++
	}
	for k := 1; k <= b; k++ {
		count[k] += count[k-1]
	}
	x := &cellIndex{order: make([]uint16, len(ds)), start: append([]int32(nil), count...)}
	for i, c := range cell {
		x.order[count[c]] = uint16(i)
		count[c]++
	}
	return x
}

// probeCells lists, for each probe descriptor, the first-level cells to
// search: the nearest, and the second nearest when it is almost as near
// (-1 otherwise). Row i is out[2i : 2i+2].
func probeCells(v *Vocabulary, ds []Descriptor) []int16 {
	out := make([]int16, 2*len(ds))
	for i := range ds {
		c1, c2 := nearestTwo(v.Centers[0], &ds[i])
		out[2*i], out[2*i+1] = int16(c1), int16(c2)
	}
	return out
}

// probeCellsNearest lists, for each probe descriptor, its k nearest
// first-level cells, nearest first. Row i is out[k·i : k·i+k].
func probeCellsNearest(v *Vocabulary, ds []Descriptor, k int) []int16 {
	k = min(k, len(v.Centers[0]))
	out := make([]int16, k*len(ds))
	dist := make([]int, k)
	for i := range ds {
		row := out[k*i : k*i+k]
		for j := range row {
			row[j], dist[j] = -1, 1<<30
		}
		for c := range v.Centers[0] {
			d := ds[i].Distance(&v.Centers[0][c])
			if d >= dist[k-1] {
				continue
			}
			j := k - 1
			for j > 0 && dist[j-1] > d {
				row[j], dist[j] = row[j-1], dist[j-1]
				j--
			}
			row[j], dist[j] = int16(c), d
		}
	}
	return out
}

// nearestTwo returns the nearest centre, and the second nearest when it is
// within secondCellMargin bits of the first (else -1).
func nearestTwo(centers []Descriptor, d *Descriptor) (int, int) {
	b1, b2, d1, d2 := -1, -1, 1<<30, 1<<30
	for k := range centers {
		dist := d.Distance(&centers[k])
		if dist < d1 {
			b2, d2 = b1, d1
			b1, d1 = k, dist
		} else if dist < d2 {
			b2, d2 = k, dist
		}
	}
	if d2-d1 > secondCellMargin {
		b2 = -1
	}
	return b1, b2
}

// matchInCells is matchDescriptors restricted to the probe descriptors'
// cells of the candidate: probe descriptor i searches the cells
// cells[stride·i : stride·i+stride] (negative entries are skipped).
func matchInCells(p []Descriptor, cells []int16, stride int, c []Descriptor, x *cellIndex) []Match {
	if len(p) == 0 || len(c) < 2 {
		return nil
	}
	best := make([]int32, len(c))
	var out []Match
	for i := range p {
		d := &p[i]
		b1, b2, j1 := 257, 257, -1
		for _, cell := range cells[stride*i : stride*i+stride] {
			if cell < 0 {
				continue
			}
			for _, j := range x.order[x.start[cell]:x.start[cell+1]] {
				dist := d.Distance(&c[j])
				if dist < b2 {
					if dist < b1 {
						b1, b2, j1 = dist, b1, int(j)
					} else {
						b2 = dist
					}
				}
			}
		}
		if j1 < 0 || b1 > matchMaxDistance || float64(b1) > matchRatio*float64(b2) {
			continue
		}
		if k := best[j1]; k != 0 {
			if out[k-1].Distance <= b1 {
				continue
			}
			out[k-1].Distance = 1 << 30
		}
		out = append(out, Match{Probe: i, Candidate: j1, Distance: b1})
		best[j1] = int32(len(out))
	}
	kept := out[:0]
	for _, m := range out {
		if m.Distance < 1<<30 {
			kept = append(kept, m)
		}
	}
	return kept
}
