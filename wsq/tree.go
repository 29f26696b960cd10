package wsq

// region is a rectangle of the coefficient plane. invX and invY say that the
// high band of a split along that axis is stored first (spectral inversion).
type region struct {
	x, y, w, h int
	invX, invY bool
}

// quadrants splits r into its four sub-bands in storage order (top-left,
// top-right, bottom-left, bottom-right). On an odd length the low band, which
// sits on the even samples, is one longer than the high band. Inversion flags
// of the children depend only on their position.
func (r region) quadrants() [4]region {
	w1 := (r.w + 1) / 2
	if r.invX {
		w1 = r.w / 2
	}
	h1 := (r.h + 1) / 2
	if r.invY {
		h1 = r.h / 2
	}
	w2, h2 := r.w-w1, r.h-h1
	return [4]region{
		{x: r.x, y: r.y, w: w1, h: h1},
		{x: r.x + w1, y: r.y, w: w2, h: h1, invX: true},
		{x: r.x, y: r.y + h1, w: w1, h: h2, invY: true},
		{x: r.x + w1, y: r.y + h1, w: w2, h: h2, invX: true, invY: true},
	}
}

// decomposition is the fixed WSQ wavelet-packet tree for one image size:
// the 20 transform nodes (each split once into four) and the 64 subbands.
type decomposition struct {
	nodes    [20]region
	subbands [numSubbands]region
}

// newDecomposition builds the tree of the specification for a width×height
// image. Nodes are numbered as in the standard so the transform runs node 0
// first when analysing and node 19 first when synthesising.
func newDecomposition(width, height int) *decomposition {
	d := &decomposition{}
	n := &d.nodes
	n[0] = region{w: width, h: height}
	q0 := n[0].quadrants()
	n[1], n[2], n[3] = q0[0], q0[1], q0[2]
	q1 := n[1].quadrants()
	n[14], n[4], n[5] = q1[0], q1[1], q1[2]
	q4 := n[4].quadrants()
	copy(n[6:10], q4[:])
	q5 := n[5].quadrants()
	copy(n[10:14], q5[:])
	q14 := n[14].quadrants()
	copy(n[15:19], q14[:])
	q15 := n[15].quadrants()
	n[19] = q15[0]

	s := d.subbands[:0]
	q19 := n[19].quadrants()
	s = append(s, q19[:]...)  // 0–3
	s = append(s, q15[1:]...) // 4–6
	for _, i := range []int{16, 17, 18, 6, 7, 8, 9, 10, 11, 12, 13} {
		q := n[i].quadrants()
		s = append(s, q[:]...) // 7–18, 19–34, 35–50
	}
	s = append(s, q1[3]) // 51
	q2, q3, qBR := n[2].quadrants(), n[3].quadrants(), q0[3].quadrants()
	s = append(s, q2[:]...)  // 52–55
	s = append(s, q3[:]...)  // 56–59
	s = append(s, qBR[:]...) // 60–63
	return d
}
