// Package wsq reads and writes FBI WSQ (Wavelet Scalar Quantization) grey
// fingerprint images, IAFIS-IC-0110 version 3.1, in pure Go.
//
// Decoding runs in this order: markers and tables (DTT transform filters,
// DQT quantiser bins, DHT Huffman tables, COM comments), the frame header,
// the Huffman-coded coefficient blocks, dequantisation into the 64 subbands,
// the wavelet-packet reconstruction with the 9/7 filters, and the final
// shift and scale back to 8-bit grey. Encoding runs the same stages in the
// other direction, with the bit allocation of the reference encoder.
//
// Use:
//
//	f, err := wsq.DecodeFile(data)                       // f.Image, f.PPI, f.Comments, f.Frame
//	f, err := wsq.Decoder{MaxPixels: 1 << 22}.Decode(data) // a tighter size cap
//	out, err := wsq.EncodeGray(gray, &wsq.Options{BitRate: 0.75, PPI: 500})
//	db := wsq.PSNR(gray, f.Image)
//
// Hostile input yields ErrFormat, ErrTruncated, ErrTooLarge or
// ErrUnsupported, never a panic; the declared size is capped (by default at
// imgproc.MaxPixels) and the planes are allocated only after the
// coefficient stream has proved to fill them. The encoder meets the bit
// rate it is given (whole file, headers included) with an MSE-oriented
// allocation, carrying all it chooses in the standard DQT so that any
// conformant decoder reads it back.
//
// The package registers the "wsq" format with package image, so
// image.Decode reads WSQ once this package is imported.
package wsq

import (
	"bytes"
	"errors"
	"image"
	"io"
)

// Errors returned by the decoder; wrap-checked with errors.Is.
var (
	// ErrFormat reports bytes that are not a WSQ file or break its syntax.
	ErrFormat = errors.New("wsq: invalid format")
	// ErrTruncated reports a file that ends early.
	ErrTruncated = errors.New("wsq: truncated data")
	// ErrTooLarge reports a declared image size beyond the decoder's cap.
	ErrTooLarge = errors.New("wsq: image too large")
	// ErrUnsupported reports a valid but unsupported feature (even-length filters).
	ErrUnsupported = errors.New("wsq: unsupported feature")
)

// Frame is the WSQ frame header.
type Frame struct {
	Black, White  int     // grey levels of black and white (usually 0 and 255)
	Width, Height int     // image size in pixels
	Shift, Scale  float64 // M and R of the pixel normalisation: pixel = value*R + M
	Encoder       int     // WSQ encoder number (2 for version 3.1 of the specification)
	Software      int     // software implementation number
}

// File is a decoded WSQ file: its pixels and the metadata it carries.
type File struct {
	Image *image.Gray
	Frame Frame
	// PPI is the resolution from the NIST_COM comment, or 0 when absent.
	PPI int
	// Comments holds the text of every COM segment, NIST_COM included.
	Comments []string
}

func init() {
	image.RegisterFormat("wsq", "\xff\xa0", Decode, DecodeConfig)
}

// Decode reads a WSQ image from r (for package image).
func Decode(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f, err := DecodeFile(data)
	if err != nil {
		return nil, err
	}
	return f.Image, nil
}

// DecodeConfig reads the size of a WSQ image from its frame header.
func DecodeConfig(r io.Reader) (image.Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return image.Config{}, err
	}
	d := &decoder{data: data, maxPixels: defaultMaxPixels}
	frame, err := d.readHeaders()
	if err != nil {
		return image.Config{}, err
	}
	return image.Config{ColorModel: grayModel, Width: frame.Width, Height: frame.Height}, nil
}

// IsWSQ reports whether data starts with the WSQ start-of-image marker.
func IsWSQ(data []byte) bool { return bytes.HasPrefix(data, []byte{0xFF, 0xA0}) }
