package ansinist_test

import (
	"fmt"
	"image"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
)

// ExampleRead reads a transaction and walks what an import maps.
func ExampleRead() {
	data, err := os.ReadFile(filepath.Join(datasets.Root(), "ansinist/nist-reference/samples-nist/sample.an2"))
	if err != nil {
		return // the datasets are not beside this checkout
	}
	tx, err := ansinist.Read(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tx.Summary())
	for _, r := range tx.RecordsOfType(4)[:2] {
		img, _ := r.Image()
		m, err := img.Decode()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.ImageName(), "finger", r.FingerPositions()[0], "impression", r.Impression(), m.Bounds().Size())
	}
	// Prints (not checked, as the datasets may be absent):
	// version=0400 tot=AMN records=1:1,2:1,4:14 images=4:WSQ20x14 warnings=0
	// 4-1-1 finger 1 impression 3 (804,752)
	// 4-2-2 finger 2 impression 3 (804,752)
}

// ExampleNewTransaction builds an EBTS-style transaction as an export does.
func ExampleNewTransaction() {
	tx := ansinist.NewTransaction(ansinist.Header{
		TransactionType: "CAR", Date: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		Destination: "PARTNER01", Originator: "HUELLA001", ControlNumber: "HU-2026-000001",
	})
	tx.AddBiographics(ansinist.Biographics{Name: "DOE,JOHN", DateOfBirth: "19800101", Sex: "M"}, nil)
	finger := image.NewGray(image.Rect(0, 0, 64, 64)) // a captured 500 ppi finger image
	fp, err := ansinist.WSQFingerprint(2, 1, finger, 500)
	if err != nil {
		log.Fatal(err)
	}
	tx.AddFingerprint(fp)
	data, err := tx.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	back, err := ansinist.ReadStrict(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Summary())
	fmt.Println(back.Biographics().Name)
	// Output:
	// version=0502 tot=CAR records=1:1,2:1,14:1 images=14:WSQ20x1 warnings=0
	// DOE,JOHN
}
