package iris

import (
	"math"
	"math/cmplx"
	"sort"
)

// irisCode filters each radial band of the unwrapped iris with a 1D
// log-Gabor filter along the angle and quantises the phase of the response
// into two bits per position; the mask keeps positions whose cell is mostly
// valid and whose response is not fragile: too weak, relative to the band's
// response around it, to trust its sign.
func irisCode(p polarIris) *Template {
	t := &Template{Code: make([]uint64, CodeWords), Mask: make([]uint64, CodeWords)}
	rowsPerBand := PolarRows / Bands
	step := PolarCols / Columns
	row := make([]complex128, PolarCols)
	valid := make([]float64, PolarCols)
	energy := make([]float64, PolarCols)
	type resp struct {
		bit int
		mag float64
	}
	var re, im []resp
	for b := 0; b < Bands; b++ {
		// Average the band's rows, with invalid samples replaced by the
		// band's valid mean so that they add no edges.
		var sum float64
		n := 0
		for r := b * rowsPerBand; r < (b+1)*rowsPerBand; r++ {
			for c := 0; c < PolarCols; c++ {
				if p.valid.v[r*PolarCols+c] != 0 {
					sum += float64(p.values.v[r*PolarCols+c])
					n++
				}
			}
		}
		mean := 0.0
		if n > 0 {
			mean = sum / float64(n)
		}
		for c := 0; c < PolarCols; c++ {
			var s, v float64
			for r := b * rowsPerBand; r < (b+1)*rowsPerBand; r++ {
				i := r*PolarCols + c
				if p.valid.v[i] != 0 {
					s += float64(p.values.v[i])
					v++
				} else {
					s += mean
				}
			}
			row[c] = complex(s/float64(rowsPerBand)-mean, 0)
			valid[c] = v / float64(rowsPerBand)
		}
		fft(row, false)
		filter := logGabor(PolarCols, bandWavelength(p.bandRadius[b]))
		for i := range row {
			row[i] *= complex(filter[i], 0)
		}
		fft(row, true)
		energy := localEnergy(row, energy)
		for col := 0; col < Columns; col++ {
			c := col*step + step/2
			var v float64
			for k := c - step/2; k < c+step/2; k++ {
				v += valid[(k+PolarCols)%PolarCols]
			}
			bit := col*ColumnBits + 2*b
			z := row[c]
			if real(z) > 0 {
				t.Code[bit/64] |= 1 << (bit % 64)
			}
			if imag(z) > 0 {
				t.Code[(bit+1)/64] |= 1 << ((bit + 1) % 64)
			}
			if v/float64(step) >= CellValidFraction {
				re = append(re, resp{bit, math.Abs(real(z)) / energy[c]})
				im = append(im, resp{bit + 1, math.Abs(imag(z)) / energy[c]})
			}
		}
	}
	for _, set := range [][]resp{re, im} {
		sort.Slice(set, func(i, j int) bool { return set[i].mag < set[j].mag })
		for _, r := range set[int(FragileFraction*float64(len(set))):] {
			t.Mask[r.bit/64] |= 1 << (r.bit % 64)
		}
	}
	return t
}

// localEnergy returns, for each column, the RMS magnitude of the filter
// response z over ±FragileWindow columns around it (circularly), in out.
// Fragile bits are the weakest relative to it, so that a strong lash shadow
// or lid edge in one part of the iris does not make the finer texture
// elsewhere all fragile.
func localEnergy(z []complex128, out []float64) []float64 {
	n := len(z)
	var sum float64
	for k := -FragileWindow; k <= FragileWindow; k++ {
		v := z[(k+n)%n]
		sum += real(v)*real(v) + imag(v)*imag(v)
	}
	const width = 2*FragileWindow + 1
	for c := range n {
		out[c] = math.Sqrt(max(sum, 0)/width) + 1e-9
		in, gone := z[(c+FragileWindow+1)%n], z[(c-FragileWindow+n)%n]
		sum += real(in)*real(in) + imag(in)*imag(in) - real(gone)*real(gone) - imag(gone)*imag(gone)
	}
	return out
}

// bandWavelength is the log-Gabor wavelength, in polar columns, of a band
// that samples a circle of the given radius in input pixels: GaborWavelength
// columns, lengthened so that it spans at least GaborMinWavelengthPixels
// pixels of the image (a small iris, upsampled into the strip, has no
// texture the camera resolved at 32 columns).
func bandWavelength(radius float64) float64 {
	return max(GaborWavelength, GaborMinWavelengthPixels*PolarCols/(2*math.Pi*radius))
}

// logGabor returns the transfer function of the analytic 1D log-Gabor filter
// of the given centre wavelength (in samples) for a signal of n samples (zero
// at DC and negative frequencies).
func logGabor(n int, wavelength float64) []float64 {
	f := make([]float64, n)
	f0 := 1 / wavelength
	ls := math.Log(GaborSigmaRatio)
	for i := 1; i < n/2; i++ {
		fr := float64(i) / float64(n)
		l := math.Log(fr / f0)
		f[i] = 2 * math.Exp(-l*l/(2*ls*ls))
	}
	return f
}

// fft is an in-place radix-2 complex FFT (len(a) a power of two); inverse
// scales by 1/n.
func fft(a []complex128, inverse bool) {
	n := len(a)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, sign*2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := a[start+k], a[start+k+size/2]*wk
				a[start+k], a[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
	if inverse {
		for i := range a {
			a[i] /= complex(float64(n), 0)
		}
	}
}
