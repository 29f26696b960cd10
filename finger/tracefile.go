package finger

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella/imgproc"
)

// WriteTrace extracts the image at path (at ppi, 0 meaning 500) and writes
// each stage's image to outDir as <image name>-<stage key>.png, so anyone
// can see why a print failed. The extraction error, if any, is returned
// after the stages reached have been written.
func WriteTrace(path string, ppi int, outDir string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("finger: trace: %w", err)
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		return fmt.Errorf("finger: trace: decode: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("finger: trace: %w", err)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var writeErr error
	_, err = Extract(img, Options{PPI: ppi, Trace: func(key string, stage image.Image) {
		f, err := os.Create(filepath.Join(outDir, base+"-"+key+".png"))
		if err != nil {
			writeErr = errors.Join(writeErr, err)
			return
		}
		writeErr = errors.Join(writeErr, png.Encode(f, stage), f.Close())
	}})
	if writeErr != nil {
		return fmt.Errorf("finger: trace: %w", writeErr)
	}
	return err
}
