package tattoo

import (
	"bytes"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"path"
	"sort"
	"sync"

	"github.com/huella-abis/huella/face/tfgraph"
	"github.com/huella-abis/huella/face/tfjs"
)

// The global descriptor: a MobileNetV2 (width 1.4, ImageNet features
// fine-tuned by nsfwjs; see models/PROVENANCE.md) run on the colour crop,
// its last feature map averaged over the image, then centred, projected on
// the leading principal axes of tattoo photographs and whitened
// (GlobalProjection). Two photographs of one tattoo have close descriptors
// even when their keypoints do not match, so the descriptor proposes
// candidates the bag of words misses.

//go:embed models/model.json models/group1-shard1of2 models/group1-shard2of2
var globalModelFiles embed.FS

// globalFeatureNode is the graph's last feature map (7×7×1792 at 224 px),
// before its classifier.
const globalFeatureNode = "StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Conv_1/Relu6"

var globalNet = sync.OnceValue(func() *tfgraph.Net {
	model, err := globalModelFiles.ReadFile("models/model.json")
	if err != nil {
		panic("tattoo: embedded global model: " + err.Error()) // a build defect, not input
	}
	g, err := tfgraph.Decode(model, func(p string) ([]byte, error) {
		return globalModelFiles.ReadFile(path.Join("models", path.Base(p)))
	})
	if err != nil {
		panic("tattoo: embedded global model: " + err.Error())
	}
	// The graph declares a 224×224 input; its convolutions take any size,
	// and the feature map is averaged here, not by the graph's fixed pool.
	for i := range g.Nodes {
		if g.Nodes[i].Op == "Placeholder" {
			a := g.Nodes[i].Attr["shape"]
			a.Shape = []int64{-1, -1, -1, 3}
			g.Nodes[i].Attr["shape"] = a
		}
	}
	n, err := tfgraph.Prepare(g, globalFeatureNode)
	if err != nil {
		panic("tattoo: embedded global model: " + err.Error())
	}
	return n
})

// PooledFeatures runs the network on region of img (in img's coordinates
// relative to its top-left corner, enlarged by the crop margin as Extract
// does; the whole image when empty) and returns its feature map averaged
// over the image: the input of GlobalProjection.
func PooledFeatures(img image.Image, region image.Rectangle) ([]float32, error) {
	_, r, err := cropRect(img.Bounds(), region)
	if err != nil {
		return nil, err
	}
	return pooledFeatures(img, r)
}

// pooledFeatures is PooledFeatures of the crop r (relative to img's
// top-left corner).
func pooledFeatures(img image.Image, r image.Rectangle) ([]float32, error) {
	x := colorInput(img, r.Add(img.Bounds().Min), globalSide)
	out, err := globalNet().Run(tfjs.Exec{Workers: 1}, x)
	if err != nil {
		return nil, fmt.Errorf("tattoo: global descriptor: %w", err)
	}
	m := out[0]
	c := globalChannels
	if len(m)%c != 0 || len(m) == 0 {
		return nil, fmt.Errorf("tattoo: global descriptor: %d values", len(m))
	}
	pooled := make([]float32, c)
	for lo := 0; lo < len(m); lo += c {
		for j, v := range m[lo : lo+c] {
			pooled[j] += v
		}
	}
	inv := float32(c) / float32(len(m))
	for j := range pooled {
		pooled[j] *= inv
	}
	return pooled, nil
}

// colorInput resamples the rectangle r of img (absolute coordinates) to
// side×side RGB values in [0, 1], each the mean of up to 4×4 samples spread
// over its source cell.
func colorInput(img image.Image, r image.Rectangle, side int) *tfjs.Tensor {
	x := tfjs.New(side, side, 3)
	w, h := float64(r.Dx()), float64(r.Dy())
	sx := min(4, max(1, int(math.Ceil(w/float64(side)))))
	sy := min(4, max(1, int(math.Ceil(h/float64(side)))))
	rgb := rgbAt(img)
	inv := 1 / (255 * float32(sx*sy))
	for oy := range side {
		for ox := range side {
			var s [3]float32
			for j := range sy {
				y := r.Min.Y + int((float64(oy)+(float64(j)+0.5)/float64(sy))*h/float64(side))
				for i := range sx {
					xx := r.Min.X + int((float64(ox)+(float64(i)+0.5)/float64(sx))*w/float64(side))
					cr, cg, cb := rgb(xx, y)
					s[0] += float32(cr)
					s[1] += float32(cg)
					s[2] += float32(cb)
				}
			}
			o := (oy*side + ox) * 3
			x.Data[o], x.Data[o+1], x.Data[o+2] = s[0]*inv, s[1]*inv, s[2]*inv
		}
	}
	return x
}

// rgbAt returns a reader of 8-bit RGB pixels, direct for the decoders'
// usual image types.
func rgbAt(img image.Image) func(x, y int) (uint8, uint8, uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		cr, cg, cb, _ := img.At(x, y).RGBA()
		return uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8)
	}
}

// GlobalProjection turns pooled network features into the stored global
// descriptor: centred on Mean, projected on Axes (the leading principal
// axes of the training photos, each divided by the standard deviation
// along it, so every axis weighs the same) and scaled to unit length.
type GlobalProjection struct {
	Mean []float32
	Axes [][]float32
}

// Project returns the unit-length descriptor of pooled features f.
func (p *GlobalProjection) Project(f []float32) []float32 {
	if len(f) != len(p.Mean) {
		return nil
	}
	c := make([]float32, len(f))
	for j, v := range f {
		c[j] = v - p.Mean[j]
	}
	out := make([]float32, len(p.Axes))
	var n float64
	for d, a := range p.Axes {
		var s float32
		for j, v := range a {
			s += v * c[j]
		}
		out[d] = s
		n += float64(s) * float64(s)
	}
	if n == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(n))
	for d := range out {
		out[d] *= inv
	}
	return out
}

// TrainGlobalProjection learns the projection on dims whitened principal
// axes from the pooled features of training photos (principal component
// analysis through the photos' Gram matrix, so the photos may be fewer than
// the features).
func TrainGlobalProjection(features [][]float32, dims int) (*GlobalProjection, error) {
	n := len(features)
	if n < 2 || dims < 1 || dims >= n {
		return nil, fmt.Errorf("tattoo: %d axes from %d photos", dims, n)
	}
	c := len(features[0])
	mean := make([]float64, c)
	for _, f := range features {
		if len(f) != c {
			return nil, errors.New("tattoo: features of different lengths")
		}
		for j, v := range f {
			mean[j] += float64(v) / float64(n)
		}
	}
	centred := make([][]float64, n)
	for i, f := range features {
		centred[i] = make([]float64, c)
		for j, v := range f {
			centred[i][j] = float64(v) - mean[j]
		}
	}
	gram := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			var s float64
			for k, v := range centred[i] {
				s += v * centred[j][k]
			}
			gram[i*n+j], gram[j*n+i] = s, s
		}
	}
	values, vectors := symmetricEigen(gram, n)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	p := &GlobalProjection{Mean: make([]float32, c), Axes: make([][]float32, dims)}
	for j, v := range mean {
		p.Mean[j] = float32(v)
	}
	for d := range dims {
		e := order[d]
		if values[e] <= 0 {
			return nil, fmt.Errorf("tattoo: only %d independent photos", d)
		}
		u := make([]float64, c)
		for i := range n {
			w := vectors[i*n+e]
			for k, v := range centred[i] {
				u[k] += w * v
			}
		}
		var norm float64
		for _, v := range u {
			norm += v * v
		}
		// Unit axis, then divided by the standard deviation along it.
		scale := 1 / (math.Sqrt(norm) * math.Sqrt(values[e]/float64(n)))
		p.Axes[d] = make([]float32, c)
		for k, v := range u {
			p.Axes[d][k] = float32(v * scale)
		}
	}
	return p, nil
}

// symmetricEigen diagonalises the symmetric n×n matrix a (row-major,
// overwritten) by cyclic Jacobi rotations; it returns the eigenvalues and
// the eigenvectors as the columns of a row-major matrix.
func symmetricEigen(a []float64, n int) ([]float64, []float64) {
	v := make([]float64, n*n)
	for i := range n {
		v[i*n+i] = 1
	}
	var scale float64
	for _, x := range a {
		scale += x * x
	}
	for range 60 {
		var off float64
		for p := range n {
			for q := p + 1; q < n; q++ {
				off += a[p*n+q] * a[p*n+q]
			}
		}
		if off <= 1e-24*scale {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if apq == 0 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				cs := 1 / math.Sqrt(t*t+1)
				sn := t * cs
				for k := range n {
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p], a[k*n+q] = cs*akp-sn*akq, sn*akp+cs*akq
				}
				for k := range n {
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k], a[q*n+k] = cs*apk-sn*aqk, sn*apk+cs*aqk
				}
				for k := range n {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p], v[k*n+q] = cs*vkp-sn*vkq, sn*vkp+cs*vkq
				}
			}
		}
	}
	values := make([]float64, n)
	for i := range values {
		values[i] = a[i*n+i]
	}
	return values, v
}

// projectionMagic starts a serialised GlobalProjection.
var projectionMagic = [8]byte{'H', 'T', 'G', 'P', 'R', 'O', 'J', '1'}

// WriteTo serialises the projection (little-endian float32).
func (p *GlobalProjection) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	buf.Write(projectionMagic[:])
	binary.Write(&buf, binary.LittleEndian, uint32(len(p.Mean)))
	binary.Write(&buf, binary.LittleEndian, uint32(len(p.Axes)))
	binary.Write(&buf, binary.LittleEndian, p.Mean)
	for _, a := range p.Axes {
		binary.Write(&buf, binary.LittleEndian, a)
	}
	return buf.WriteTo(w)
}

// ReadGlobalProjection parses a projection written by WriteTo.
func ReadGlobalProjection(data []byte) (*GlobalProjection, error) {
	if len(data) < 16 || !bytes.Equal(data[:8], projectionMagic[:]) {
		return nil, errors.New("tattoo: not a global projection file")
	}
	c := int(binary.LittleEndian.Uint32(data[8:]))
	d := int(binary.LittleEndian.Uint32(data[12:]))
	if c < 1 || c > 1<<16 || d < 1 || d > c || len(data) != 16+4*c*(d+1) {
		return nil, fmt.Errorf("tattoo: global projection %d×%d in %d bytes", d, c, len(data))
	}
	p := &GlobalProjection{Mean: make([]float32, c), Axes: make([][]float32, d)}
	r := bytes.NewReader(data[16:])
	binary.Read(r, binary.LittleEndian, p.Mean)
	for i := range p.Axes {
		p.Axes[i] = make([]float32, c)
		binary.Read(r, binary.LittleEndian, p.Axes[i])
	}
	return p, nil
}

//go:embed globalprojection.bin
var defaultProjectionData []byte

var defaultProjection = sync.OnceValue(func() *GlobalProjection {
	if len(defaultProjectionData) == 0 {
		return nil // not trained yet: templates carry no global descriptor
	}
	p, err := ReadGlobalProjection(defaultProjectionData)
	if err != nil {
		panic("tattoo: embedded global projection: " + err.Error()) // a build defect, not input
	}
	return p
})

// globalSimilarity is the cosine of two unit descriptors, 0 when either is
// missing.
func globalSimilarity(a, b []float32) float32 {
	if len(a) != len(b) {
		return 0
	}
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
