package iris

import (
	"image"
	"math"
)

// Test hooks into the unexported fast paths.

// Kernels lists the kernels this machine runs, slowest first.
func Kernels() []string {
	var names []string
	for k, ok := range kernelRuns {
		if ok {
			names = append(names, kernelNames[k])
		}
	}
	return names
}

// UseKernel makes fastDistance use the named kernel until restore is called.
// It panics for a kernel this machine cannot run.
func UseKernel(name string) (restore func()) {
	for k, n := range kernelNames {
		if n == name {
			if !kernelRuns[k] {
				panic("iris: kernel " + name + " cannot run here")
			}
			saved := kernel
			kernel = k
			return func() { kernel = saved }
		}
	}
	panic("iris: no kernel " + name)
}

// CountsGo and Counts expose the pure-Go counts and those of the selected
// kernel.
func (p *Probe) CountsGo(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = p.countsGo(entry, &out)
	return out, extrema
}

func (p *Probe) Counts(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = p.counts(entry, &out)
	return out, extrema
}

// EyelashFraction is the fraction of the iris ring between the given pupil
// and iris boundaries that the eyelash mask of img marks (img searched at
// its own size).
func EyelashFraction(img *image.Gray, pupil, iris Circle) float64 {
	g := grayToGrid(img)
	clean := inpainted(g, reflectionMask(g))
	p, l := circle(pupil), circle(iris)
	m := eyelashMask(clean, p, l)
	n, k := 0, 0
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			fx, fy := float64(x), float64(y)
			if math.Hypot(fx-p.X, fy-p.Y) <= p.R || math.Hypot(fx-l.X, fy-l.Y) > l.R {
				continue
			}
			n++
			if m.v[y*g.w+x] != 0 {
				k++
			}
		}
	}
	return float64(k) / float64(max(n, 1))
}
