package slap_test

import (
	"image"
	"slices"
	"testing"

	"github.com/huella-abis/huella/finger/slap"
)

// FuzzSegment feeds arbitrary grey images (first two bytes: width and
// height in 8-px steps, then the pixels, repeated) at each slap position
// and resolution: Segment must return, never panic, and name only the
// positions the slap holds.
func FuzzSegment(f *testing.F) {
	f.Add([]byte{40, 30, 0, 255, 0, 255, 128})
	f.Add([]byte{100, 60, 255})
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w, h := 8*int(data[0]%200+1), 8*int(data[1]%125+1)
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = data[2+i%(len(data)-2)]
		}
		for _, pos := range []int{0, slap.RightFour, slap.LeftFour, slap.BothThumbs} {
			for _, ppi := range []int{0, 250, 1000} {
				res, err := slap.Segment(img, pos, slap.Options{PPI: ppi})
				if err != nil {
					continue
				}
				expected, _ := slap.Expected(pos)
				for _, tip := range res.Fingertips {
					if pos != 0 && !slices.Contains(expected, tip.Position) {
						t.Fatalf("position %d slap named a fingertip %d", pos, tip.Position)
					}
				}
			}
		}
	})
}
