package iso19794

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decode JPEG face and iris images
	_ "image/png"  // decode PNG iris images

	"github.com/huella-abis/huella/imgproc"
)

// ImageEncoding is the container an embedded image's bytes are actually in,
// detected from their signature rather than from the record's type field.
type ImageEncoding uint8

// Image encodings recognised by DetectImageEncoding.
const (
	// EncodingUnknown is no signature recognised (raw pixels, or unknown).
	EncodingUnknown ImageEncoding = iota
	// EncodingJPEG is a JPEG (JFIF/EXIF) stream.
	EncodingJPEG
	// EncodingJPEG2000 is a JPEG 2000 JP2 file or raw J2K codestream.
	EncodingJPEG2000
	// EncodingPNG is a PNG file.
	EncodingPNG
)

// String names the encoding.
func (e ImageEncoding) String() string {
	switch e {
	case EncodingJPEG:
		return "JPEG"
	case EncodingJPEG2000:
		return "JPEG 2000"
	case EncodingPNG:
		return "PNG"
	}
	return "unknown"
}

var (
	sigPNG  = []byte("\x89PNG\r\n\x1a\n")
	sigJPEG = []byte{0xFF, 0xD8, 0xFF}
	sigJP2  = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	sigJ2K  = []byte{0xFF, 0x4F, 0xFF, 0x51}
)

// DetectImageEncoding tells which image container data starts with.
func DetectImageEncoding(data []byte) ImageEncoding {
	switch {
	case bytes.HasPrefix(data, sigPNG):
		return EncodingPNG
	case bytes.HasPrefix(data, sigJPEG):
		return EncodingJPEG
	case bytes.HasPrefix(data, sigJP2), bytes.HasPrefix(data, sigJ2K):
		return EncodingJPEG2000
	}
	return EncodingUnknown
}

// MaxImagePixels bounds the pixel count the DecodeImage helpers accept
// (16 megapixels, far above any face or iris photo), so that a hostile image
// header cannot make them allocate hundreds of megabytes.
const MaxImagePixels = 16 << 20

// ErrUnsupportedImage reports embedded image bytes this package cannot turn
// into pixels (JPEG 2000 needs a decoder of its own).
var ErrUnsupportedImage = errors.New("unsupported embedded image")

// decodeEmbedded decodes PNG or JPEG bytes after checking the declared size.
func decodeEmbedded(data []byte) (image.Image, error) {
	switch DetectImageEncoding(data) {
	case EncodingPNG, EncodingJPEG:
	default:
		return nil, fmt.Errorf("%v bytes: %w", DetectImageEncoding(data), ErrUnsupportedImage)
	}
	img, h, err := imgproc.Decode(data, MaxImagePixels)
	if errors.Is(err, imgproc.ErrImageSize) {
		return nil, fmt.Errorf("image of %dx%d pixels: %w", h.Width, h.Height, ErrMalformed)
	}
	return img, err
}
