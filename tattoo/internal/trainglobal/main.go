// Command trainglobal learns the tattoo engine's global descriptor
// projection (tattoo.GlobalProjection: the whitened principal axes of the
// network's pooled features) from folders of whole tattoo photos and
// writes it for go:embed.
//
// The shipped projection is learnt on the Instagram distractor photos only,
// so that it holds nothing learnt from a BIVTatt subject that the
// evaluation searches for:
//
//	go run ./tattoo/internal/trainglobal -out tattoo/globalprojection.bin \
//	    ../shared/datasets/tattoo/instagram-distractors/img
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/huella-abis/huella/tattoo"
)

func main() {
	out := flag.String("out", "globalprojection.bin", "output file")
	dims := flag.Int("dims", 128, "principal axes kept")
	flag.Parse()
	var features [][]float32
	for _, dir := range flag.Args() {
		ims, err := tattoo.ReadImageDir(dir)
		if err != nil {
			log.Fatal(err)
		}
		for _, im := range ims {
			data, err := os.ReadFile(im.Path)
			if err != nil {
				log.Fatal(err)
			}
			img, err := tattoo.DecodeImage(data)
			if err != nil {
				continue
			}
			f, err := tattoo.PooledFeatures(img, im.Box)
			if err != nil {
				continue
			}
			features = append(features, f)
		}
	}
	p, err := tattoo.TrainGlobalProjection(features, *dims)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := p.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("learnt %d axes from %d photos\n", len(p.Axes), len(features))
}
