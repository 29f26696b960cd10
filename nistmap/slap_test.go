package nistmap_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/nistmap"
)

// TestExportSlapSegments: an exported slap carries its fingertip boxes in
// 14.021 (SEG), one subfield per finger: position, left, right, top,
// bottom, inside the image.
func TestExportSlapSegments(t *testing.T) {
	data, err := os.ReadFile(datasets.Path(t, "fingerprint/nbis/an2k/valid1.8.an2"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := ansinist.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	img, ok := in.RecordsOfType(14)[0].Image() // the right slap, WSQ
	if !ok {
		t.Fatal("no slap image")
	}
	e, images := demoEncounter(t)
	slap := &huella.Sample{Modality: huella.ModalityFinger, Position: huella.SlapRightFour, Impression: huella.ImpressionPlain,
		Format: "wsq", PPI: 500, Width: img.Width, Height: img.Height}
	images[slap] = img.Data
	e.Samples = append(e.Samples, slap)
	out, err := nistmap.Export(e, func(s *huella.Sample) ([]byte, error) { return images[s], nil }, nistmap.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := ansinist.ReadStrict(out)
	if err != nil {
		t.Fatalf("the export does not read in strict mode: %v", err)
	}
	var seg *ansinist.Field
	for _, r := range tx.RecordsOfType(14) {
		if r.Get(13) == "13" {
			seg = r.Field(21)
		}
	}
	if seg == nil {
		t.Fatal("the slap's record has no 14.021")
	}
	if got := len(seg.Subfields); got != 4 {
		t.Fatalf("14.021 has %d subfields, want 4", got)
	}
	for i, sub := range seg.Subfields {
		n := make([]int, len(sub))
		for j, v := range sub {
			if n[j], err = strconv.Atoi(v); err != nil {
				t.Fatalf("14.021 subfield %d: %q", i, sub)
			}
		}
		if n[0] != 2+i || n[1] < 0 || n[1] >= n[2] || n[2] >= img.Width || n[3] < 0 || n[3] >= n[4] || n[4] >= img.Height {
			t.Errorf("14.021 subfield %d = %v, want finger %d with a box inside %dx%d", i, n, 2+i, img.Width, img.Height)
		}
	}
}
