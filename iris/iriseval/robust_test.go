package iriseval_test

import (
	"context"
	"image"
	"math"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
	"github.com/huella-abis/huella/iris/iriseval"
)

func TestRunRobust(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	identity := iriseval.Perturbation{Name: "none", Apply: func(img *image.Gray, _ iris.Quality, _ uint64) *image.Gray { return img }}
	perts := append([]iriseval.Perturbation{identity}, iriseval.Perturbations...)
	res, err := iriseval.RunRobust(context.Background(), iriseval.Config{Dir: dir, MaxEyes: 2, SpeedProbes: -1}, perts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(perts) {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(perts))
	}
	for i, row := range res.Rows {
		if row.Name != perts[i].Name || row.Pairs != len(res.Base.Scores.Genuine) || row.Images == 0 {
			t.Errorf("row %+v: want %s over %d genuine pairs", row, perts[i].Name, len(res.Base.Scores.Genuine))
		}
		if f := row.FNMR(); f < 0 || f > 1 || row.FTE() < 0 || row.FTE() > 1 {
			t.Errorf("%s: FNMR %v FTE %v out of [0, 1]", row.Name, f, row.FTE())
		}
	}
	// The identity reproduces the unperturbed figures exactly.
	if none := res.Rows[0]; none.FNMR() != res.BaseFNMR || none.Failed != 0 && res.Base.Failed == 0 {
		t.Errorf("identity: FNMR %v FTE %v, want the unperturbed FNMR %v and no failure", none.FNMR(), none.FTE(), res.BaseFNMR)
	}
	t.Logf("threshold %.4f, unperturbed FNMR %.3f", -res.Threshold, res.BaseFNMR)
	for _, row := range res.Rows {
		t.Logf("%-12s FTE %.3f FNMR %.3f", row.Name, row.FTE(), row.FNMR())
	}
}

// testEye is a 320×280 grey 60 image with a brighter band at the bottom (the
// 90th percentile is 200) and the iris disc c.
func testEye() (*image.Gray, iris.Circle) {
	img := image.NewGray(image.Rect(0, 0, 320, 280))
	for y := 0; y < 280; y++ {
		for x := 0; x < 320; x++ {
			v := uint8(60)
			if y >= 224 {
				v = 200
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	return img, iris.Circle{X: 160, Y: 120, R: 60}
}

func TestPerturbations(t *testing.T) {
	t.Run("Shifted", func(t *testing.T) {
		img, _ := testEye()
		img.Pix[100*img.Stride+100] = 255
		if got := iriseval.Shifted(img, -60, 0).Pix[100*img.Stride+40]; got != 255 {
			t.Errorf("pixel (100, 100) shifted left by 60: got %d at (40, 100), want 255", got)
		}
	})
	t.Run("Transformed", func(t *testing.T) {
		img, _ := testEye()
		img.Pix[140*img.Stride+260] = 255 // 100 px right of the centre (159.5, 139.5)
		scaled := iriseval.Transformed(img, 0.5, 0)
		if got := scaled.Pix[140*img.Stride+210]; got < 50 || got == 60 {
			t.Errorf("scale 0.5: got %d at 50 px right of the centre, want part of the bright pixel", got)
		}
		same := iriseval.Transformed(img, 1, 0)
		for i := range img.Pix {
			if same.Pix[i] != img.Pix[i] {
				t.Fatalf("scale 1, rotation 0 changed pixel %d: %d, want %d", i, same.Pix[i], img.Pix[i])
			}
		}
	})
	t.Run("GammaCorrected", func(t *testing.T) {
		img, _ := testEye()
		got := iriseval.GammaCorrected(img, 0.6).Pix[0]
		if want := uint8(math.Round(255 * math.Pow(60.0/255, 0.6))); got != want {
			t.Errorf("gamma 0.6 of 60: got %d, want %d", got, want)
		}
	})
	t.Run("Blurred", func(t *testing.T) {
		img, _ := testEye()
		b := iriseval.Blurred(img, 1)
		if b.Pix[100*b.Stride+100] != 60 || b.Pix[224*b.Stride+100] <= 60 || b.Pix[224*b.Stride+100] >= 200 {
			t.Errorf("blur: flat area %d (want 60), edge %d (want between 60 and 200)", b.Pix[100*b.Stride+100], b.Pix[224*b.Stride+100])
		}
	})
	t.Run("LidOccluded", func(t *testing.T) {
		img, c := testEye()
		out := iriseval.LidOccluded(img, c, 0.3, 1)
		changed, disc := 0, 0
		for y := 0; y < 280; y++ {
			for x := 0; x < 320; x++ {
				if math.Hypot(float64(x)-c.X, float64(y)-c.Y) > c.R {
					continue
				}
				disc++
				if out.Pix[y*out.Stride+x] != 60 {
					changed++
				}
			}
		}
		if f := float64(changed) / float64(disc); f < 0.27 || f > 0.33 {
			t.Errorf("lid covers %.3f of the iris, want 0.30 ± 0.03", f)
		}
		if out.Pix[(int(c.Y)+int(c.R)-5)*out.Stride+int(c.X)] != 60 {
			t.Error("lid reaches the bottom of the iris")
		}
	})
	t.Run("WithSpecularSpots", func(t *testing.T) {
		img, c := testEye()
		out := iriseval.WithSpecularSpots(img, c, 6, 1)
		inside, outside := 0, 0
		for y := 0; y < 280; y++ {
			for x := 0; x < 320; x++ {
				if out.Pix[y*out.Stride+x] != 255 {
					continue
				}
				if math.Hypot(float64(x)-c.X, float64(y)-c.Y) <= c.R {
					inside++
				} else {
					outside++
				}
			}
		}
		if inside < 6*9 || outside > 0 {
			t.Errorf("%d saturated pixels in the iris (want ≥ 54, six spots), %d outside (want 0)", inside, outside)
		}
	})
	t.Run("IrisContrasted", func(t *testing.T) {
		img, c := testEye()
		img.Pix[120*img.Stride+150] = 70 // inside the disc, median 60
		img.Pix[120*img.Stride+170] = 30
		out := iriseval.IrisContrasted(img, c, 2)
		for _, tc := range []struct {
			x, y int
			want uint8
		}{{150, 120, 80}, {170, 120, 0}, {160, 120, 60}, {10, 10, 60}, {10, 250, 200}} {
			if got := out.Pix[tc.y*out.Stride+tc.x]; got != tc.want {
				t.Errorf("(%d, %d): got %d, want %d", tc.x, tc.y, got, tc.want)
			}
		}
	})
}
