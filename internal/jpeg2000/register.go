package jpeg2000

import (
	"image"
	"image/color"
	"io"
	"math"
)

// The package registers JPEG 2000 with package image, under the name
// "jp2", for a JP2 file and for a raw codestream, so that image.Decode and
// image.DecodeConfig (and so imgproc.ReadHeader and imgproc.Decode, which
// check the declared size first) read it wherever the package is linked in.
func init() {
	image.RegisterFormat("jp2", "\x00\x00\x00\x0cjP  \r\n\x87\n", decodeImage, decodeConfig)
	image.RegisterFormat("jp2", "\xff\x4f\xff\x51", decodeImage, decodeConfig)
}

// decodeImage decodes a JPEG 2000 image of any size: its callers check the
// size DecodeConfig reports first (imgproc.Decode does).
func decodeImage(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Decode(data, math.MaxInt32)
}

// decodeConfig reads the image's size and colour model from its main
// header, without decoding any tile.
func decodeConfig(r io.Reader) (image.Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return image.Config{}, err
	}
	cs, err := codestream(data)
	if err != nil {
		return image.Config{}, err
	}
	h, _, err := readMainHeader(cs, math.MaxInt32)
	if err != nil {
		return image.Config{}, err
	}
	cfg := image.Config{Width: h.width - h.x0, Height: h.height - h.y0, ColorModel: color.GrayModel}
	switch {
	case len(h.comps) >= 3:
		cfg.ColorModel = color.RGBAModel
	case h.comps[0].depth > 8:
		cfg.ColorModel = color.Gray16Model
	}
	return cfg, nil
}
