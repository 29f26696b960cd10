package finger

import (
	"math"
	"sort"
)

// The skeleton as a graph (SourceAFIS's skeleton filters): nodes are the
// ridge endings and the junctions of the thinned ridges, edges the ridges
// traced between them. Clean-up works on the graph — dots, pores, gaps,
// tails, fragments and knots — with every length measured in local ridge
// periods, and the minutiae are read from what remains.

// ridgeNode is a ridge ending or a junction of the skeleton.
type ridgeNode struct {
	x, y    int
	edges   []int // indices into ridgeGraph.edges; a loop appears twice
	removed bool
}

// ridgeEdge is one traced ridge between two nodes (a == b for a loop). path
// holds its pixels from a to b, node pixels excluded.
type ridgeEdge struct {
	a, b    int
	path    []int32
	removed bool
}

// ridgeGraph is the skeleton's graph of ridges.
type ridgeGraph struct {
	w, h  int
	nodes []ridgeNode
	edges []ridgeEdge
}

// skeletonGraph builds the graph of a one-pixel-wide skeleton: pixels with
// crossing number 1 are endings, adjacent pixels with crossing number 3 or
// more form one junction, and the ridges between are traced pixel by pixel.
// Closed rings without any node carry no minutia and are left out.
func skeletonGraph(skel []uint8, w, h int) *ridgeGraph {
	g := &ridgeGraph{w: w, h: h}
	nodeOf := make([]int32, w*h)
	for i := range nodeOf {
		nodeOf[i] = -1
	}
	isNode := make([]bool, w*h)
	on := func(i int) bool { return skel[i] != 0 }
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if !on(i) {
				continue
			}
			bits := ringBits(skel, w, i)
			if bits == 0 {
				continue // a dot: no ridge, no node
			}
			if cn := crossings(bits); cn != 2 {
				isNode[i] = true
			}
		}
	}
	// Group 8-connected node pixels of junctions; an ending stays alone.
	var stack []int
	var members [][]int32
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if !isNode[i] || nodeOf[i] >= 0 {
				continue
			}
			id := int32(len(g.nodes))
			g.nodes = append(g.nodes, ridgeNode{})
			members = append(members, nil)
			nodeOf[i] = id
			stack = append(stack[:0], i)
			ending := crossings(ringBits(skel, w, i)) == 1
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				members[id] = append(members[id], int32(p))
				if ending {
					continue
				}
				for _, d := range ring {
					q := p + d[1]*w + d[0]
					if isNode[q] && nodeOf[q] < 0 && crossings(ringBits(skel, w, q)) != 1 {
						nodeOf[q] = id
						stack = append(stack, q)
					}
				}
			}
			// The node's position: its member nearest to their centroid.
			var sx, sy float64
			for _, p := range members[id] {
				sx += float64(int(p) % w)
				sy += float64(int(p) / w)
			}
			n := float64(len(members[id]))
			best, bestD := members[id][0], math.Inf(1)
			for _, p := range members[id] {
				dx, dy := float64(int(p)%w)-sx/n, float64(int(p)/w)-sy/n
				if d := dx*dx + dy*dy; d < bestD {
					best, bestD = p, d
				}
			}
			g.nodes[id].x, g.nodes[id].y = int(best)%w, int(best)/w
		}
	}
	visited := make([]bool, w*h)
	linked := map[[2]int32]bool{}
	for id := range g.nodes {
		for _, p := range members[id] {
			px, py := int(p)%w, int(p)/w
			// 4-neighbours first, so that a branch starts at its pixel
			// nearest to the node.
			for k := 0; k < 8; k++ {
				d := ring[(k*2)%8+(k*2)/8]
				qx, qy := px+d[0], py+d[1]
				if qx < 1 || qy < 1 || qx >= w-1 || qy >= h-1 {
					continue
				}
				q := qy*w + qx
				if !on(q) {
					continue
				}
				if o := nodeOf[q]; o >= 0 {
					// Two nodes side by side: an edge without pixels.
					if int(o) != id {
						key := [2]int32{min(int32(id), o), max(int32(id), o)}
						if !linked[key] {
							linked[key] = true
							g.addEdge(id, int(o), nil)
						}
					}
					continue
				}
				if visited[q] {
					continue
				}
				g.trace(skel, nodeOf, visited, id, q)
			}
		}
	}
	return g
}

// trace follows a ridge from start, a pixel next to node from, to the next
// node; a ridge that stops without one ends in a new ending node.
func (g *ridgeGraph) trace(skel []uint8, nodeOf []int32, visited []bool, from, start int) {
	w := g.w
	path := []int32{int32(start)}
	visited[start] = true
	p := start
	for {
		px, py := p%w, p/w
		// A node next to the path ends it (its own node only once the
		// path is long enough to be a loop).
		end := -1
		for _, d := range ring {
			q := p + d[1]*w + d[0]
			if o := nodeOf[q]; o >= 0 && (int(o) != from || len(path) > 2) {
				end = int(o)
				break
			}
		}
		if end >= 0 {
			g.addEdge(from, end, path)
			return
		}
		next := -1
		for k := 0; k < 8; k++ {
			d := ring[(k*2)%8+(k*2)/8]
			qx, qy := px+d[0], py+d[1]
			if qx < 1 || qy < 1 || qx >= w-1 || qy >= g.h-1 {
				continue
			}
			q := qy*w + qx
			if skel[q] != 0 && !visited[q] && nodeOf[q] < 0 {
				next = q
				break
			}
		}
		if next < 0 {
			// The ridge stops here without a node (the image edge or a
			// pixel pattern the crossing number misreads): an ending.
			last := path[len(path)-1]
			path = path[:len(path)-1]
			id := len(g.nodes)
			g.nodes = append(g.nodes, ridgeNode{x: int(last) % w, y: int(last) / w})
			nodeOf[last] = int32(id)
			g.addEdge(from, id, path)
			return
		}
		visited[next] = true
		path = append(path, int32(next))
		p = next
	}
}

func (g *ridgeGraph) addEdge(a, b int, path []int32) int {
	id := len(g.edges)
	g.edges = append(g.edges, ridgeEdge{a: a, b: b, path: path})
	g.nodes[a].edges = append(g.nodes[a].edges, id)
	g.nodes[b].edges = append(g.nodes[b].edges, id)
	return id
}

// degree is the count of live edge ends at a node (a loop counts twice).
func (g *ridgeGraph) degree(n int) int {
	d := 0
	for _, e := range g.nodes[n].edges {
		if !g.edges[e].removed {
			d++
		}
	}
	return d
}

// liveEdges lists the live edges of a node (a loop twice).
func (g *ridgeGraph) liveEdges(n int) []int {
	var out []int
	for _, e := range g.nodes[n].edges {
		if !g.edges[e].removed {
			out = append(out, e)
		}
	}
	return out
}

// other is the node at the far end of edge e from node n.
func (g *ridgeGraph) other(e, n int) int {
	if g.edges[e].a == n {
		return g.edges[e].b
	}
	return g.edges[e].a
}

// length is the length of an edge in pixels, from node to node.
func (g *ridgeGraph) length(e int) float64 {
	ed := &g.edges[e]
	px, py := g.nodes[ed.a].x, g.nodes[ed.a].y
	var l float64
	step := func(x, y int) {
		dx, dy := abs(x-px), abs(y-py)
		if dx+dy == 2 && dx == 1 {
			l += math.Sqrt2
		} else {
			l += math.Hypot(float64(dx), float64(dy))
		}
		px, py = x, y
	}
	for _, p := range ed.path {
		step(int(p)%g.w, int(p)/g.w)
	}
	step(g.nodes[ed.b].x, g.nodes[ed.b].y)
	return l
}

// removeEdge drops an edge and any node it leaves without edges.
func (g *ridgeGraph) removeEdge(e int) {
	ed := &g.edges[e]
	ed.removed = true
	for _, n := range []int{ed.a, ed.b} {
		if g.degree(n) == 0 {
			g.nodes[n].removed = true
		}
	}
}

// point returns the pixel of edge e at about dist pixels from node n along
// the ridge (the far node when the ridge is shorter).
func (g *ridgeGraph) point(e, n int, dist int) (int, int) {
	ed := &g.edges[e]
	far := g.other(e, n)
	if len(ed.path) == 0 || dist <= 0 {
		return g.nodes[far].x, g.nodes[far].y
	}
	k := min(dist, len(ed.path)) - 1
	if ed.a != n {
		k = len(ed.path) - 1 - k
	}
	if dist > len(ed.path) {
		return g.nodes[far].x, g.nodes[far].y
	}
	p := int(ed.path[k])
	return p % g.w, p / g.w
}

// graphCleanup removes the skeleton's false structures, in order, each
// length in ridge periods at the place: pores (short loops and short
// parallel ridges between two junctions), gaps (two endings facing each
// other, joined), tails (short ridges from an ending to a junction),
// fragments (short ridges between two endings), knots (junctions joined
// by a short ridge) and bridges (junctions joined across the ridge flow
// of o; skipped when o is nil). Junctions left with two ridges are merged
// away.
func graphCleanup(g *ridgeGraph, periods *blockField, o *orientationField) {
	period := func(x, y int) float64 {
		bx := min(max(x/blockSize, 0), periods.bw-1)
		by := min(max(y/blockSize, 0), periods.bh-1)
		return periods.v[by*periods.bw+bx]
	}
	edgePeriod := func(e int) float64 {
		a, b := &g.nodes[g.edges[e].a], &g.nodes[g.edges[e].b]
		return (period(a.x, a.y) + period(b.x, b.y)) / 2
	}
	// Pores: a loop, or two ridges between the same two junctions, both short.
	for e := range g.edges {
		ed := &g.edges[e]
		if ed.removed {
			continue
		}
		if ed.a == ed.b {
			if g.length(e) < poreLoopPeriods*edgePeriod(e) {
				g.removeEdge(e)
			}
			continue
		}
		for f := e + 1; f < len(g.edges); f++ {
			fd := &g.edges[f]
			if fd.removed || !((fd.a == ed.a && fd.b == ed.b) || (fd.a == ed.b && fd.b == ed.a)) {
				continue
			}
			le, lf := g.length(e), g.length(f)
			if le+lf < poreLoopPeriods*edgePeriod(e) {
				if le >= lf {
					g.removeEdge(e)
				} else {
					g.removeEdge(f)
				}
				break
			}
		}
	}
	g.mergeTwoWay()
	// Gaps: endings facing each other across a short break are joined,
	// closest pairs first; a break longer than gapFlowPeriods only along
	// the flow.
	type gap struct {
		a, b int
		d    float64
	}
	var gaps []gap
	var ends []int
	for n := range g.nodes {
		if !g.nodes[n].removed && g.degree(n) == 1 {
			ends = append(ends, n)
		}
	}
	dirs := make(map[int]float64, len(ends))
	for _, n := range ends {
		dirs[n] = g.endingDirection(n)
	}
	for i, a := range ends {
		na := &g.nodes[a]
		pa := period(na.x, na.y)
		for _, b := range ends[i+1:] {
			nb := &g.nodes[b]
			dx, dy := float64(nb.x-na.x), float64(nb.y-na.y)
			d := math.Hypot(dx, dy)
			if d >= gapPeriods*pa || d == 0 {
				continue
			}
			if g.liveEdges(a)[0] == g.liveEdges(b)[0] {
				continue // the two ends of one fragment
			}
			toB := math.Atan2(dy, dx)
			if d >= gapFlowPeriods*pa && o != nil && chordAcrossFlow(na, nb, o) > gapFlowAngle {
				continue
			}
			if angleDiff(dirs[a], toB) < gapAngle && angleDiff(dirs[b], toB+math.Pi) < gapAngle {
				gaps = append(gaps, gap{a, b, d})
			}
		}
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i].d < gaps[j].d })
	joined := map[int]bool{}
	for _, gp := range gaps {
		if joined[gp.a] || joined[gp.b] {
			continue
		}
		joined[gp.a], joined[gp.b] = true, true
		g.addEdge(gp.a, gp.b, nil)
	}
	g.mergeTwoWay()
	// Tails and fragments, repeated while removing one exposes another.
	for changed := true; changed; {
		changed = false
		for e := range g.edges {
			ed := &g.edges[e]
			if ed.removed || ed.a == ed.b {
				continue
			}
			da, db := g.degree(ed.a), g.degree(ed.b)
			l := g.length(e) / edgePeriod(e)
			switch {
			case da == 1 && db == 1 && l < fragmentPeriods:
				g.removeEdge(e)
				changed = true
			case (da == 1) != (db == 1) && min(da, db) == 1 && l < tailPeriods:
				g.removeEdge(e)
				changed = true
			}
		}
		g.mergeTwoWay()
	}
	// Knots: two junctions joined by a short ridge are a crossing, a
	// bridge or a blot; the ridges through them stay, the link goes. A
	// link that runs across the flow is a bridge over a valley (wet or
	// blotted prints) up to bridgePeriods long: ridges follow the flow.
	for e := range g.edges {
		ed := &g.edges[e]
		if ed.removed || ed.a == ed.b {
			continue
		}
		if g.degree(ed.a) >= 3 && g.degree(ed.b) >= 3 && g.length(e) < knotPeriods*edgePeriod(e) {
			g.removeEdge(e)
			continue
		}
		if o != nil && g.degree(ed.a) >= 3 && g.degree(ed.b) >= 3 &&
			g.length(e) < bridgePeriods*edgePeriod(e) && g.acrossFlow(e, o) > bridgeAcrossAngle {
			g.removeEdge(e)
		}
	}
	g.mergeTwoWay()
}

// mergeTwoWay dissolves the nodes left with exactly two ridges: the two
// ridges become one.
func (g *ridgeGraph) mergeTwoWay() {
	for n := range g.nodes {
		if g.nodes[n].removed {
			continue
		}
		live := g.liveEdges(n)
		if len(live) != 2 || live[0] == live[1] {
			continue
		}
		e1, e2 := live[0], live[1]
		a, b := g.other(e1, n), g.other(e2, n)
		// Path from a to n, the node's pixel, then n to b.
		p1 := g.orientedPath(e1, a)
		p2 := g.orientedPath(e2, n)
		nd := &g.nodes[n]
		path := make([]int32, 0, len(p1)+len(p2)+1)
		path = append(path, p1...)
		path = append(path, int32(nd.y*g.w+nd.x))
		path = append(path, p2...)
		g.edges[e1].removed, g.edges[e2].removed = true, true
		nd.removed = true
		g.addEdge(a, b, path)
	}
}

// orientedPath returns the pixels of edge e in order starting from node n.
func (g *ridgeGraph) orientedPath(e, n int) []int32 {
	ed := &g.edges[e]
	if ed.a == n {
		return ed.path
	}
	out := make([]int32, len(ed.path))
	for i, p := range ed.path {
		out[len(ed.path)-1-i] = p
	}
	return out
}

// endingDirection is the direction an ending points to: away from its
// ridge, measured to the ridge pixel traceLength steps in.
func (g *ridgeGraph) endingDirection(n int) float64 {
	e := g.liveEdges(n)[0]
	x, y := g.point(e, n, traceLength)
	nd := &g.nodes[n]
	return normAngle(math.Atan2(float64(nd.y-y), float64(nd.x-x)))
}

// graphMinutiae reads the minutiae from the cleaned graph: endings are the
// nodes with one ridge, bifurcations those with three. The direction is the
// local ridge orientation, its sense voted by the node's ridges (endings
// point away from their ridge, bifurcations toward their stem).
func graphMinutiae(g *ridgeGraph, o *orientationField, m *blockMask) []*candidate {
	var cands []*candidate
	for n := range g.nodes {
		nd := &g.nodes[n]
		if nd.removed || !m.atPixel(nd.x, nd.y) {
			continue
		}
		live := g.liveEdges(n)
		var kind MinutiaType
		switch len(live) {
		case 1:
			kind = Ending
		case 3:
			kind = Bifurcation
		default:
			continue
		}
		theta := o.at(nd.x, nd.y)
		ux, uy := math.Cos(theta), math.Sin(theta)
		vote := 0.0
		for _, e := range live {
			x, y := g.point(e, n, traceLength)
			if p := float64(x-nd.x)*ux + float64(y-nd.y)*uy; p > 0 {
				vote++
			} else if p < 0 {
				vote--
			}
		}
		dir := theta
		if vote > 0 {
			dir = theta + math.Pi
		}
		cands = append(cands, &candidate{x: nd.x, y: nd.y, kind: kind, direction: normAngle(dir)})
	}
	return cands
}

// render draws the live edges and nodes of the graph as a skeleton image.
func (g *ridgeGraph) render() []uint8 {
	s := make([]uint8, g.w*g.h)
	for e := range g.edges {
		ed := &g.edges[e]
		if ed.removed {
			continue
		}
		for _, p := range ed.path {
			s[p] = 1
		}
		for _, n := range []int{ed.a, ed.b} {
			s[g.nodes[n].y*g.w+g.nodes[n].x] = 1
		}
	}
	return s
}

// acrossFlow is the angle, in [0, π/2], between the chord of an edge and
// the ridge orientation at its middle: near 0 for a ridge that follows the
// flow, near π/2 for a bridge across a valley.
func (g *ridgeGraph) acrossFlow(e int, o *orientationField) float64 {
	return chordAcrossFlow(&g.nodes[g.edges[e].a], &g.nodes[g.edges[e].b], o)
}

// chordAcrossFlow is the angle, 0 to π/2, between the chord from node a to
// node b and the ridge orientation at its midpoint.
func chordAcrossFlow(a, b *ridgeNode, o *orientationField) float64 {
	dx, dy := float64(b.x-a.x), float64(b.y-a.y)
	if dx == 0 && dy == 0 {
		return 0
	}
	chord := math.Atan2(dy, dx)
	d := math.Abs(math.Mod(chord-o.at((a.x+b.x)/2, (a.y+b.y)/2), math.Pi))
	if d > math.Pi/2 {
		d = math.Pi - d
	}
	return d
}
