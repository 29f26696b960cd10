// Package synth makes synthetic templates in the real engines' formats, for
// the scale benchmark: a gallery of a million people cannot be captured
// here, but its templates can be made to look like the engines' own.
//
//   - Fingers: 25–55 minutiae spread over a 300×400 pixel print at a minimum
//     spacing, directed along a smooth random orientation field (a sum of
//     low-frequency waves, as ridge flow is smooth), endings and
//     bifurcations in equal share. A mate is the same print moved (±12°,
//     ±15 px), with every minutia jittered (±4 px, ±0.15 rad), a fifth of
//     them lost and a tenth spurious ones added.
//   - Irises: uniformly random code bits (iris phase bits are close to
//     independent fair coins) under a mask that hides a random eyelid band
//     of 5–25% of the bits. A mate flips 12% of the valid bits.
//   - Faces: unit descriptors that share a common direction, so that two
//     different people's cosine is about 0.7 as for the real network on LFW;
//     a mate is the descriptor plus noise, at a cosine of about 0.93.
package synth

import (
	"math"
	"math/rand/v2"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/engine"
	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/iris"
)

// Person is one synthetic subject's templates, in the engines' formats.
type Person struct {
	Fingers [10]*finger.Template // FGP positions 1–10
	Irises  [2]*iris.Template    // right, left
	Face    []float32
}

// Generator makes people and their mates from one seed.
type Generator struct {
	rng      *rand.Rand
	faceMean []float32
}

// New returns a generator with a fixed seed, so runs are repeatable.
func New(seed uint64) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	g.faceMean = g.unit(128)
	return g
}

// Person makes a new synthetic person with templates of the modalities.
func (g *Generator) Person(modalities map[huella.Modality]bool) *Person {
	p := &Person{}
	if modalities[huella.ModalityFinger] {
		for i := range p.Fingers {
			p.Fingers[i] = g.finger()
		}
	}
	if modalities[huella.ModalityIris] {
		for i := range p.Irises {
			p.Irises[i] = g.iris()
		}
	}
	if modalities[huella.ModalityFace] {
		p.Face = g.face()
	}
	return p
}

// Mate returns another capture of the same person.
func (g *Generator) Mate(p *Person) *Person {
	m := &Person{}
	for i, f := range p.Fingers {
		if f != nil {
			m.Fingers[i] = g.fingerMate(f)
		}
	}
	for i, t := range p.Irises {
		if t != nil {
			m.Irises[i] = g.irisMate(t)
		}
	}
	if p.Face != nil {
		m.Face = g.faceMate(p.Face)
	}
	return m
}

func (g *Generator) finger() *finger.Template {
	t := &finger.Template{Width: 300, Height: 400, Quality: 60 + g.rng.IntN(30)}
	// Orientation field: three random low-frequency waves.
	var waves [3][4]float64
	for i := range waves {
		waves[i] = [4]float64{g.rng.Float64() * 0.02, g.rng.Float64() * 0.02, g.rng.Float64() * 2 * math.Pi, 0.5 + g.rng.Float64()}
	}
	orientation := func(x, y float64) float64 {
		v := 0.0
		for _, w := range waves {
			v += w[3] * math.Sin(w[0]*x+w[1]*y+w[2])
		}
		return v
	}
	n := 25 + g.rng.IntN(31)
	for tries := 0; len(t.Minutiae) < n && tries < 20*n; tries++ {
		x, y := 20+g.rng.Float64()*260, 20+g.rng.Float64()*360
		if !spaced(t.Minutiae, x, y, 10) {
			continue
		}
		dir := orientation(x, y)
		if g.rng.IntN(2) == 0 {
			dir += math.Pi
		}
		t.Minutiae = append(t.Minutiae, finger.Minutia{X: int(x), Y: int(y), Direction: angle(dir),
			Type: finger.MinutiaType(1 + g.rng.IntN(2)), Quality: uint8(40 + g.rng.IntN(60))})
	}
	return t
}

func spaced(ms []finger.Minutia, x, y, d float64) bool {
	for _, m := range ms {
		if math.Hypot(float64(m.X)-x, float64(m.Y)-y) < d {
			return false
		}
	}
	return true
}

func angle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a
}

func (g *Generator) fingerMate(f *finger.Template) *finger.Template {
	rot := (g.rng.Float64()*2 - 1) * 12 * math.Pi / 180
	dx, dy := (g.rng.Float64()*2-1)*15, (g.rng.Float64()*2-1)*15
	cx, cy := 150.0, 200.0
	sin, cos := math.Sincos(rot)
	m := &finger.Template{Width: f.Width, Height: f.Height, Quality: f.Quality}
	for _, mi := range f.Minutiae {
		if g.rng.Float64() < 0.2 {
			continue // lost
		}
		x, y := float64(mi.X)-cx, float64(mi.Y)-cy
		nx := cos*x - sin*y + cx + dx + (g.rng.Float64()*2-1)*4
		ny := sin*x + cos*y + cy + dy + (g.rng.Float64()*2-1)*4
		if nx < 0 || ny < 0 || nx >= 300 || ny >= 400 {
			continue
		}
		// Image y points down: a rotation by rot turns directions by -rot.
		m.Minutiae = append(m.Minutiae, finger.Minutia{X: int(nx), Y: int(ny),
			Direction: angle(mi.Direction - rot + (g.rng.Float64()*2-1)*0.15), Type: mi.Type, Quality: mi.Quality})
	}
	spurious := len(f.Minutiae) / 10
	for i := 0; i < spurious; i++ {
		m.Minutiae = append(m.Minutiae, finger.Minutia{X: 20 + g.rng.IntN(260), Y: 20 + g.rng.IntN(360),
			Direction: g.rng.Float64() * 2 * math.Pi, Type: finger.Ending, Quality: 40})
	}
	return m
}

func (g *Generator) iris() *iris.Template {
	t := &iris.Template{Code: make([]uint64, iris.CodeWords), Mask: make([]uint64, iris.CodeWords)}
	for i := range t.Code {
		t.Code[i] = g.rng.Uint64()
		t.Mask[i] = ^uint64(0)
	}
	// An eyelid band: a run of masked words.
	band := int(float64(iris.CodeWords) * (0.05 + 0.2*g.rng.Float64()))
	start := g.rng.IntN(iris.CodeWords)
	for i := 0; i < band; i++ {
		t.Mask[(start+i)%iris.CodeWords] = 0
	}
	t.Quality.UsableFraction = 1 - float64(band)/float64(iris.CodeWords)
	return t
}

func (g *Generator) irisMate(t *iris.Template) *iris.Template {
	m := &iris.Template{Code: append([]uint64(nil), t.Code...), Mask: append([]uint64(nil), t.Mask...), Quality: t.Quality}
	for i := range m.Code {
		for b := 0; b < 64; b++ {
			if g.rng.Float64() < 0.12 {
				m.Code[i] ^= 1 << b
			}
		}
	}
	return m
}

func (g *Generator) unit(n int) []float32 {
	v := make([]float32, n)
	var sum float64
	for i := range v {
		x := g.rng.NormFloat64()
		v[i] = float32(x)
		sum += x * x
	}
	norm := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= norm
	}
	return v
}

// mix returns the unit vector along a·x + b·y.
func mix(a float32, x []float32, b float32, y []float32) []float32 {
	v := make([]float32, len(x))
	var sum float64
	for i := range v {
		v[i] = a*x[i] + b*y[i]
		sum += float64(v[i]) * float64(v[i])
	}
	norm := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= norm
	}
	return v
}

func (g *Generator) face() []float32 {
	// cos(p, q) ≈ a² for a·mean + b·r with a² + b² = 1: a² = 0.7.
	return mix(float32(math.Sqrt(0.7)), g.faceMean, float32(math.Sqrt(0.3)), g.unit(128))
}

func (g *Generator) faceMate(f []float32) []float32 {
	// cos ≈ 1/sqrt(1 + s²): s = 0.4 gives about 0.93.
	return mix(1, f, 0.4, g.unit(128))
}

// Templates returns the person's templates as the gallery stores them.
func (p *Person) Templates(subjectID string, modalities map[huella.Modality]bool) []*huella.Template {
	var out []*huella.Template
	if modalities[huella.ModalityFinger] {
		for i, f := range p.Fingers {
			data, _ := f.MarshalBinary()
			out = append(out, &huella.Template{SubjectID: subjectID, Modality: huella.ModalityFinger, Position: i + 1, Quality: f.Quality, Data: data})
		}
	}
	if modalities[huella.ModalityIris] {
		for i, t := range p.Irises {
			eye := huella.EyeRight
			if i == 1 {
				eye = huella.EyeLeft
			}
			out = append(out, &huella.Template{SubjectID: subjectID, Modality: huella.ModalityIris, Eye: eye,
				Quality: int(100 * t.Quality.UsableFraction), Data: iris.EncodeTemplate(t)})
		}
	}
	if modalities[huella.ModalityFace] {
		out = append(out, &huella.Template{SubjectID: subjectID, Modality: huella.ModalityFace, Quality: 90, Data: engine.EncodeDescriptor(p.Face)})
	}
	return out
}
