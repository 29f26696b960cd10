package perturb_test

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/huella-abis/huella/internal/perturb"
)

// dotImage is a light image with one dark 3×3 dot centred at (x, y).
func dotImage(w, h, x, y int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 220
	}
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			img.SetGray(x+dx, y+dy, color.Gray{Y: 20})
		}
	}
	return img
}

// darkest returns the centroid of the pixels darker than the background by
// more than half the dot's depth.
func darkest(img *image.Gray) (float64, float64, bool) {
	var sx, sy, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if v := img.GrayAt(x, y).Y; v < 120 {
				wt := float64(220 - int(v))
				sx += wt * float64(x)
				sy += wt * float64(y)
				n += wt
			}
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return sx / n, sy / n, true
}

// TestFingerprintTransforms checks that every perturbation puts a dot
// where its affine map says (within 1.5 px), except the canvas whose noise
// has dark smudges of its own: there the dot's pixel is checked.
func TestFingerprintTransforms(t *testing.T) {
	const w, h, x, y = 200, 150, 130, 40
	for _, p := range perturb.Fingerprint() {
		t.Run(p.Name, func(t *testing.T) {
			for seed := uint64(0); seed < 4; seed++ {
				out, fwd := p.Apply(dotImage(w, h, x, y), seed)
				wx, wy := fwd.Apply(x, y)
				if p.Name == "canvas" {
					if v := out.GrayAt(int(math.Round(wx)), int(math.Round(wy))).Y; v > 60 {
						t.Errorf("seed %d: grey %d at mapped dot (%.1f, %.1f), want dark", seed, v, wx, wy)
					}
					if b := out.Bounds(); b.Dx() != 640 || b.Dy() != 480 {
						t.Errorf("canvas %v, want 640×480", b)
					}
					continue
				}
				inside := wx >= 0 && wy >= 0 && wx < float64(out.Bounds().Dx()) && wy < float64(out.Bounds().Dy())
				gx, gy, ok := darkest(out)
				if !inside {
					if ok {
						t.Errorf("seed %d: dot mapped outside (%.1f, %.1f) but found at (%.1f, %.1f)", seed, wx, wy, gx, gy)
					}
					continue
				}
				if !ok || math.Hypot(gx-wx, gy-wy) > 1.5 {
					t.Errorf("seed %d: dot at (%.1f, %.1f) ok=%v, map says (%.1f, %.1f)", seed, gx, gy, ok, wx, wy)
				}
			}
		})
	}
}

// TestRotateDirection checks the sign convention: +90° (counter-clockwise on
// screen) sends a point right of the centre to above it.
func TestRotateDirection(t *testing.T) {
	_, fwd := perturb.Rotate(dotImage(101, 101, 80, 50), 90)
	x, y := fwd.Apply(80, 50)
	if math.Abs(x-50) > 1 || math.Abs(y-20) > 1 {
		t.Errorf("(80, 50) rotated +90° = (%.1f, %.1f), want (50, 20)", x, y)
	}
}

// TestGammaAndRidges checks the grey-level perturbations on a ridge profile.
func TestGammaAndRidges(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 40, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 40; x++ {
			v := uint8(230)
			if x%10 >= 3 && x%10 < 7 { // 4-px dark ridges
				v = 30
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	width := func(g *image.Gray) int {
		n := 0
		for x := 10; x < 20; x++ {
			if g.GrayAt(x, 20).Y < 128 {
				n++
			}
		}
		return n
	}
	byName := map[string]perturb.Perturbation{}
	for _, p := range perturb.Fingerprint() {
		byName[p.Name] = p
	}
	dry, _ := byName["dry"].Apply(img, 0)
	wet, _ := byName["wet"].Apply(img, 0)
	if got := width(dry); got != 2 {
		t.Errorf("dry ridge width = %d, want 2", got)
	}
	if got := width(wet); got != 6 {
		t.Errorf("wet ridge width = %d, want 6", got)
	}
	dark, _ := byName["gamma0.6"].Apply(img, 0)
	light, _ := byName["gamma1.6"].Apply(img, 0)
	if a, b, c := dark.GrayAt(0, 0).Y, img.GrayAt(0, 0).Y, light.GrayAt(0, 0).Y; !(a > b && b > c) {
		t.Errorf("gamma 0.6 / none / 1.6 on a valley: %d, %d, %d, want falling", a, b, c)
	}
}
