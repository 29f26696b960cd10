package jpeg2000

import (
	"bytes"
	"image"
	"os"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// TestRegistered: package image reads a JP2 file and a raw codestream as
// "jp2", its header without decoding a tile, its pixels as Decode does.
func TestRegistered(t *testing.T) {
	jp2, err := os.ReadFile(datasets.Path(t, "fingerprint/libbiomeval/img.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := codestream(jp2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(jp2, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"JP2": jp2, "Codestream": raw} {
		t.Run(name, func(t *testing.T) {
			cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
			if err != nil || format != "jp2" || cfg.Width != 908 || cfg.Height != 1007 {
				t.Fatalf("DecodeConfig: %s %dx%d, %v; want jp2 908x1007", format, cfg.Width, cfg.Height, err)
			}
			m, format, err := image.Decode(bytes.NewReader(data))
			if err != nil || format != "jp2" {
				t.Fatalf("Decode: %s, %v", format, err)
			}
			g, ok := m.(*image.Gray)
			if w, wok := want.(*image.Gray); !ok || !wok || !bytes.Equal(g.Pix, w.Pix) {
				t.Error("image.Decode's pixels differ from Decode's")
			}
		})
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(jp2[:40])); err == nil {
		t.Error("DecodeConfig of a JP2 cut in its header: no error")
	}
}
