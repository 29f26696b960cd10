// Package imgproc holds the image helpers shared by the biometric engines:
// decoding any supported still-image format to 8-bit grey and resampling.
package imgproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"io"
	"strconv"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
)

// MaxPixels bounds the size of an image any decoder here will allocate, so
// that a hostile header cannot exhaust memory (100 megapixels).
const MaxPixels = 100 << 20

// ErrUnsupportedFormat is returned for bytes that are no image format known here.
var ErrUnsupportedFormat = errors.New("unsupported image format")

// ErrImageSize is returned for an image that declares no pixels, or more
// than the caller admits.
var ErrImageSize = errors.New("image size out of range")

// Decode decodes an image of any format registered with package image
// (PNG, JPEG, TIFF, BMP, and WSQ once package wsq is linked in) after
// reading its header and checking the size it declares against maxPixels:
// a few hundred bytes can declare billions of pixels. It returns the
// header whenever it read one. Errors wrap ErrUnsupportedFormat for bytes
// of no known format and ErrImageSize for a size out of range; any other
// error is a header or pixel data that does not decode. Every decoder of
// images that come from outside goes through here.
func Decode(data []byte, maxPixels int) (image.Image, Header, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, Header{}, ErrUnsupportedFormat
		}
		return nil, Header{}, fmt.Errorf("decode image header: %w", err)
	}
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height}
	if h.Width <= 0 || h.Height <= 0 || int64(h.Width)*int64(h.Height) > int64(maxPixels) {
		return nil, h, fmt.Errorf("%w: %dx%d", ErrImageSize, h.Width, h.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, h, fmt.Errorf("decode image: %w", err)
	}
	return img, h, nil
}

// DecodeGray decodes a PNG, JPEG, TIFF, BMP or binary PGM (P5) image and
// converts it to 8-bit grey (ITU-R BT.601 luma for colour input). It checks
// the declared size against MaxPixels before decoding pixels.
func DecodeGray(data []byte) (*image.Gray, error) {
	if bytes.HasPrefix(data, []byte("P5")) {
		return decodePGM(data)
	}
	img, _, err := Decode(data, MaxPixels)
	if err != nil {
		return nil, err
	}
	return ToGray(img), nil
}

// ToGray converts any image to 8-bit grey with its origin at (0, 0).
func ToGray(img image.Image) *image.Gray {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}

// GrayFromRaw wraps raw 8-bit grey pixels (row-major, no header) as an image.
func GrayFromRaw(pix []byte, width, height int) (*image.Gray, error) {
	if width <= 0 || height <= 0 || width*height > MaxPixels {
		return nil, fmt.Errorf("raw image size %dx%d out of range", width, height)
	}
	if len(pix) != width*height {
		return nil, fmt.Errorf("raw image: have %d bytes, want %dx%d = %d", len(pix), width, height, width*height)
	}
	g := image.NewGray(image.Rect(0, 0, width, height))
	copy(g.Pix, pix)
	return g, nil
}

// decodePGM reads a binary 8-bit PGM (P5) image.
func decodePGM(data []byte) (*image.Gray, error) {
	r := bufio.NewReader(bytes.NewReader(data))
	w, h, maxval, err := readPGMHeader(r)
	if err != nil {
		return nil, err
	}
	if w > MaxPixels || h > MaxPixels || w*h > MaxPixels {
		return nil, fmt.Errorf("pgm: image size %dx%d out of range", w, h)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(r, g.Pix); err != nil {
		return nil, fmt.Errorf("pgm pixels: %w", err)
	}
	if maxval != 255 {
		for i, v := range g.Pix {
			g.Pix[i] = uint8(int(v) * 255 / maxval)
		}
	}
	return g, nil
}

// pgmHeader reads the size and maximum grey value of a binary PGM image.
func pgmHeader(data []byte) (w, h, maxval int, err error) {
	return readPGMHeader(bufio.NewReader(bytes.NewReader(data)))
}

// readPGMHeader reads a binary PGM header from r, leaving r at the pixels.
func readPGMHeader(r *bufio.Reader) (w, h, maxval int, err error) {
	var fields [4]int
	magic := make([]byte, 2)
	if _, err := io.ReadFull(r, magic); err != nil {
		return 0, 0, 0, fmt.Errorf("pgm: %w", err)
	}
	for i := 1; i < 4; i++ {
		tok, err := pgmToken(r)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("pgm header: %w", err)
		}
		v, err := strconv.Atoi(tok)
		if err != nil || v <= 0 {
			return 0, 0, 0, fmt.Errorf("pgm header: bad number %q", tok)
		}
		fields[i] = v
	}
	if fields[3] > 255 {
		return 0, 0, 0, errors.New("pgm: only 8-bit images are supported")
	}
	return fields[1], fields[2], fields[3], nil
}

// pgmToken reads the next whitespace-separated header token, skipping
// comments, and consumes exactly one whitespace byte after it.
func pgmToken(r *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '#':
			if _, err := r.ReadString('\n'); err != nil {
				return "", err
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			tok = append(tok, c)
			if len(tok) > 12 {
				return "", errors.New("token too long")
			}
		}
	}
}

// Luma returns the BT.601 grey level of a colour.
func Luma(c color.Color) uint8 { return color.GrayModel.Convert(c).(color.Gray).Y }
