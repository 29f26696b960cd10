// Command trainvocab trains the tattoo engine's vocabulary tree from the
// original photos of BIVTatt-layout datasets (cropped by their first box)
// and folders of whole tattoo photos, and writes it for go:embed.
//
// The shipped vocabulary is trained on the Instagram distractor photos
// only, so that it holds no word learnt from a BIVTatt subject that the
// evaluation searches for:
//
//	go run ./tattoo/internal/trainvocab -out tattoo/vocabulary.bin \
//	    ../shared/datasets/tattoo/instagram-distractors/img
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/huella-abis/huella/tattoo"
)

func main() {
	out := flag.String("out", "vocabulary.bin", "output file")
	branching := flag.Int("branching", 64, "centres per tree node")
	depth := flag.Int("depth", 2, "tree depth")
	iterations := flag.Int("iterations", 12, "k-majority iterations per node")
	flag.Parse()
	var images []tattoo.DatasetImage
	for _, dir := range flag.Args() {
		if _, err := os.Stat(filepath.Join(dir, "images")); err == nil {
			ims, err := tattoo.ReadBIVTatt(dir)
			if err != nil {
				log.Fatal(err)
			}
			for _, im := range ims {
				if im.Variant == "" {
					images = append(images, im)
				}
			}
			continue
		}
		ims, err := tattoo.ReadImageDir(dir)
		if err != nil {
			log.Fatal(err)
		}
		images = append(images, ims...)
	}
	var descs [][]tattoo.Descriptor
	for _, im := range images {
		data, err := os.ReadFile(im.Path)
		if err != nil {
			log.Fatal(err)
		}
		t, err := tattoo.ExtractBytes(data, im.Box)
		if err != nil {
			continue
		}
		descs = append(descs, t.Descriptors)
	}
	v, err := tattoo.TrainVocabulary(descs, *branching, *depth, *iterations, 1)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := v.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trained %d words from %d images\n", v.Size(), len(descs))
}
