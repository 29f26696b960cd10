package imgproc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
)

// ErrImageTooLarge is returned for an image that declares more pixels than
// a capture device of its kind produces.
var ErrImageTooLarge = errors.New("image larger than a capture device produces")

// Header is what an image declares about itself before any pixel is
// decoded: its format and size.
type Header struct {
	Format        string // png, jpeg, tiff, bmp, pgm, or wsq once package wsq is linked in
	Width, Height int
}

// ReadHeader reads the format and size an image declares, without decoding
// its pixels: any format registered with package image, and binary PGM. A
// few hundred bytes of a compressed image can declare billions of pixels;
// check the Header against a CaptureLimit before decoding.
func ReadHeader(data []byte) (Header, error) {
	if bytes.HasPrefix(data, []byte("P5")) {
		w, h, _, err := pgmHeader(data)
		return Header{Format: "pgm", Width: w, Height: h}, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Header{}, ErrUnsupportedFormat
		}
		return Header{}, fmt.Errorf("decode image header: %w", err)
	}
	return Header{Format: format, Width: cfg.Width, Height: cfg.Height}, nil
}

// CaptureLimit is the largest image a capture device produces for one
// modality: no side longer than MaxSide pixels.
type CaptureLimit struct {
	MaxSide int
}

// Capture limits. A rolled or slap finger image covers at most 3.2 × 3.0
// inches (ANSI/NIST-ITL 1-2011, Table 31): 1600 × 1500 pixels at 500 ppi,
// 3200 × 3000 at 1000 ppi. An iris camera gives 640 × 480 (ISO/IEC
// 19794-6); a face or tattoo photograph up to 16 megapixels (a phone's
// 4032 × 3024 fits).
var (
	FingerLimit     = CaptureLimit{MaxSide: 2000} // up to 600 ppi, or unknown
	FingerLimit1000 = CaptureLimit{MaxSide: 4000} // 601 to 1000 ppi
	IrisLimit       = CaptureLimit{MaxSide: 2000}
	PhotoLimit      = CaptureLimit{MaxSide: 4096} // face, scar, mark or tattoo
)

// LimitFor returns the capture limit of a modality ("finger", "iris",
// "face", "smt") at the declared resolution (0: unknown). Modalities not
// named get the photograph limit.
func LimitFor(modality string, ppi int) CaptureLimit {
	switch modality {
	case "finger":
		if ppi > 600 {
			return FingerLimit1000
		}
		return FingerLimit
	case "iris":
		return IrisLimit
	}
	return PhotoLimit
}

// Check reports an image of w × h pixels that the limit does not admit, as
// an error wrapping ErrImageTooLarge.
func (l CaptureLimit) Check(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("image size %dx%d out of range", w, h)
	}
	if w > l.MaxSide || h > l.MaxSide {
		return fmt.Errorf("%w: %dx%d, at most %dx%d", ErrImageTooLarge, w, h, l.MaxSide, l.MaxSide)
	}
	return nil
}
