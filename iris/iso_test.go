package iris_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
	"github.com/huella-abis/huella/iso19794"
)

// TestISO19794p6Record reads libbiomeval's ISO/IEC 19794-6:2011 sample
// record and extracts its iris. The sample holds a 76×47 thumbnail, far too
// small to code: it must fail to enroll with a reason rather than produce a
// code; a usable image must enroll.
func TestISO19794p6Record(t *testing.T) {
	path := filepath.Join(datasets.Path(t, "fingerprint/libbiomeval"), "iris01.iso2011")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := iso19794.Iso19794p6v2011Codec{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Representations) == 0 {
		t.Fatal("record has no representation")
	}
	for _, rep := range rec.Representations {
		img, err := rep.DecodeImage()
		if errors.Is(err, iso19794.ErrUnsupportedImage) {
			t.Logf("representation %d: %v", rep.Number, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		g := imgproc.ToGray(img)
		tp, err := iris.Extract(g, iris.Options{})
		var ee *iris.EnrollError
		switch {
		case err == nil:
			t.Logf("representation %d (%s, %dx%d): usable %.0f%%, pupil/iris %.2f", rep.Number, rep.Eye, g.Rect.Dx(), g.Rect.Dy(), 100*tp.Quality.UsableFraction, tp.Quality.PupilRatio)
		case errors.As(err, &ee) && g.Rect.Dx() < 160:
			t.Logf("representation %d (%dx%d): %v", rep.Number, g.Rect.Dx(), g.Rect.Dy(), err)
		case errors.As(err, &ee):
			t.Errorf("representation %d (%dx%d): %v", rep.Number, g.Rect.Dx(), g.Rect.Dy(), err)
		default:
			t.Fatal(err)
		}
	}
}
