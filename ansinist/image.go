package ansinist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // JPEGB images
	_ "image/png"  // PNG images
	"math"
	"strconv"
	"strings"

	"github.com/huella-abis/huella/ansinist/internal/ljpeg"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/jpeg2000"
	"github.com/huella-abis/huella/wsq"
)

// Compression names, as field x.011 (CGA) of the 2011 standard writes them.
const (
	CompressionNone  = "NONE"
	CompressionWSQ   = "WSQ20"
	CompressionJPEGB = "JPEGB"
	CompressionJPEGL = "JPEGL"
	CompressionJP2   = "JP2"
	CompressionJP2L  = "JP2L"
	CompressionPNG   = "PNG"
)

// binaryCompression maps the numeric compression codes of binary records
// (and of early tagged records) to their names.
var binaryCompression = []string{CompressionNone, CompressionWSQ, CompressionJPEGB, CompressionJPEGL, CompressionJP2, CompressionJP2L, CompressionPNG}

// ErrUnsupportedCompression reports an image whose compression this package
// cannot decode (JPEG 2000, lossless JPEG, unknown codes).
var ErrUnsupportedCompression = errors.New("ansinist: unsupported compression")

// Image is the image a record carries, with what is needed to decode it.
type Image struct {
	// Compression is the normalised compression name (CompressionWSQ, …).
	Compression string
	// Width and Height are the declared size in pixels (0 when unknown).
	Width, Height int
	// Depth is the declared bits per pixel (8 for grey, 24 for RGB, 1 bilevel).
	Depth int
	// PPI is the horizontal resolution in pixels per inch (0 when unknown).
	PPI int
	// Data is the encoded (or raw) image bytes.
	Data []byte
}

// Image returns the image a record carries; ok is false for records with
// none (Types 1, 2, 9, 7 and records without a data field).
func (r *Record) Image() (img *Image, ok bool) {
	switch {
	case IsBinary(r.Type) && len(r.Header) < binaryHeaderSize(r.Type):
		return nil, false
	case r.Type >= 3 && r.Type <= 6:
		h := r.Header
		img = &Image{
			Width:  int(binary.BigEndian.Uint16(h[9:])),
			Height: int(binary.BigEndian.Uint16(h[11:])),
			Depth:  8,
			Data:   r.Data,
		}
		img.Compression = compressionName(strconv.Itoa(int(h[13])))
		// High-resolution records (Types 4 and 6) are 500 ppi nominal and
		// low-resolution ones (3 and 5) 250 ppi.
		img.PPI = 500
		if r.Type == 3 || r.Type == 5 {
			img.PPI = 250
		}
		if r.Type == 5 || r.Type == 6 {
			// Binary images: 0 is uncompressed, other codes are vendor (CCITT) ones.
			img.Depth = 1
			if h[13] != 0 {
				img.Compression = "CODE " + strconv.Itoa(int(h[13]))
			}
		}
		return img, true
	case r.Type == 8:
		h := r.Header
		img = &Image{Width: int(binary.BigEndian.Uint16(h[4:])), Height: int(binary.BigEndian.Uint16(h[6:])), Depth: 1, Data: r.Data}
		switch h[2] {
		case 0:
			img.Compression = CompressionNone
		case 1:
			img.Compression = "FAX" // CCITT group 4, as Type-6 defines it
		default:
			return nil, false // vector signature: no raster
		}
		return img, true
	case IsBinary(r.Type) || r.Type < 10 || r.Type == 18 || r.Type > 21:
		return nil, false // no image: text, minutiae, DNA, CBEFF, …
	}
	var f *Field
	for i := range r.Fields {
		if r.Fields[i].Data != nil {
			f = &r.Fields[i] // the binary one, even after a repeated text 999
		}
	}
	if f == nil {
		return nil, false
	}
	img = &Image{Data: f.Data, Compression: compressionName(r.Get(11))}
	img.Width, _ = r.GetInt(6)
	img.Height, _ = r.GetInt(7)
	if slc, ok := r.GetInt(8); ok {
		if h, ok := r.GetInt(9); ok {
			switch slc {
			case 1:
				img.PPI = h
			case 2:
				img.PPI = int(math.Round(float64(h) * 2.54))
			}
		}
	}
	img.Depth = 8
	switch r.Type {
	case 10:
		if cs := strings.ToUpper(r.Get(12)); cs != "" && cs != "GRAY" {
			img.Depth = 24
		}
	case 17:
		if d, ok := r.GetInt(12); ok {
			img.Depth = d
		}
	default:
		if d, ok := r.GetInt(12); ok {
			img.Depth = d
		}
	}
	return img, true
}

// compressionName normalises a compression field (name or numeric code).
func compressionName(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if n, err := strconv.Atoi(v); err == nil {
		if n >= 0 && n < len(binaryCompression) {
			return binaryCompression[n]
		}
		return "CODE " + v
	}
	switch v {
	case "", "NONE":
		return CompressionNone
	case "WSQ", "WSQ20":
		return CompressionWSQ
	}
	return v
}

// Decode decodes the image: WSQ with package wsq, JPEGB and PNG with the
// standard library, JPEGL (lossless JPEG) and JP2/JP2L (JPEG 2000) with
// their own decoders, raw pixels from the declared size and depth. Unknown
// compressions and JPEG 2000 features outside the supported subset return
// ErrUnsupportedCompression.
//
// Files in the wild mislabel their images (TIFF in Type-5 records, JPEG in a
// field that says WSQ), so a recognised signature at the start of the data
// wins over the declared compression.
func (img *Image) Decode() (image.Image, error) {
	compression := img.Compression
	switch {
	case wsq.IsWSQ(img.Data):
		compression = CompressionWSQ
	case bytes.HasPrefix(img.Data, []byte("\xff\xd8\xff")) && compression != CompressionJPEGL:
		compression = CompressionJPEGB
	case bytes.HasPrefix(img.Data, []byte("\x89PNG")):
		compression = CompressionPNG
	case bytes.HasPrefix(img.Data, []byte("\x00\x00\x00\x0cjP  ")), bytes.HasPrefix(img.Data, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		if compression != CompressionJP2L {
			compression = CompressionJP2
		}
	case bytes.HasPrefix(img.Data, []byte("II*\x00")), bytes.HasPrefix(img.Data, []byte("MM\x00*")):
		compression = "TIFF"
	}
	switch compression {
	case "TIFF":
		m, err := imgproc.DecodeGray(img.Data)
		if err != nil {
			return nil, fmt.Errorf("ansinist: decode TIFF image: %w", err)
		}
		return m, nil
	case CompressionWSQ:
		f, err := wsq.DecodeFile(img.Data)
		if err != nil {
			return nil, err
		}
		return f.Image, nil
	case CompressionJPEGB, CompressionPNG:
		m, _, err := imgproc.Decode(img.Data, imgproc.MaxPixels)
		if err != nil {
			return nil, fmt.Errorf("ansinist: decode %s image: %w", img.Compression, err)
		}
		return m, nil
	case CompressionJP2, CompressionJP2L:
		m, err := jpeg2000.Decode(img.Data, imgproc.MaxPixels)
		if errors.Is(err, jpeg2000.ErrUnsupported) {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsupportedCompression, compression, err)
		}
		if err != nil {
			return nil, fmt.Errorf("ansinist: decode %s image: %w", compression, err)
		}
		return m, nil
	case CompressionJPEGL:
		m, err := ljpeg.Decode(img.Data, imgproc.MaxPixels)
		if err != nil {
			return nil, fmt.Errorf("ansinist: decode JPEGL image: %w", err)
		}
		return m, nil
	case CompressionNone:
		return img.decodeRaw()
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedCompression, compression)
}

// decodeRaw reads uncompressed pixels: 8-bit grey, 24-bit RGB or packed bilevel.
func (img *Image) decodeRaw() (image.Image, error) {
	w, h := img.Width, img.Height
	if w <= 0 || h <= 0 || w*h > imgproc.MaxPixels {
		return nil, fmt.Errorf("ansinist: raw image size %dx%d out of range", w, h)
	}
	need := func(n int) error {
		if len(img.Data) < n {
			return fmt.Errorf("ansinist: raw %dx%d image at %d bits needs %d bytes, has %d", w, h, img.Depth, n, len(img.Data))
		}
		return nil
	}
	switch img.Depth {
	case 8:
		if err := need(w * h); err != nil {
			return nil, err
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, img.Data)
		return g, nil
	case 24:
		if err := need(3 * w * h); err != nil {
			return nil, err
		}
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := 0; i < w*h; i++ {
			m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = img.Data[3*i], img.Data[3*i+1], img.Data[3*i+2], 0xFF
		}
		return m, nil
	case 1:
		stride := (w + 7) / 8
		if err := need(stride * h); err != nil {
			return nil, err
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				// 1 is black in the binary fingerprint records.
				if img.Data[y*stride+x/8]&(0x80>>(x%8)) == 0 {
					g.SetGray(x, y, color.Gray{Y: 255})
				}
			}
		}
		return g, nil
	}
	return nil, fmt.Errorf("%w: raw image at %d bits per pixel", ErrUnsupportedCompression, img.Depth)
}

// Finger positions and impressions of Types 4, 13, 14 and 15.

// FingerPositions returns the finger (or palm) position codes of a Type-3–6
// record (FGP, unused bytes 255 dropped) or of field 13 (FGP / PLP) of a
// Type-13, 14 or 15 record.
func (r *Record) FingerPositions() []int {
	if r.Type >= 3 && r.Type <= 6 && len(r.Header) >= 8 {
		var out []int
		for _, b := range r.Header[2:8] {
			if b != 255 {
				out = append(out, int(b))
			}
		}
		return out
	}
	f := r.Field(13)
	if f == nil {
		return nil
	}
	var out []int
	for _, sub := range f.Subfields {
		if v, err := strconv.Atoi(strings.TrimSpace(sub[0])); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// Impression returns the impression type (IMP): the header byte of Types
// 3–6, field 3 of Types 13, 14 and 15; -1 when absent.
func (r *Record) Impression() int {
	if r.Type >= 3 && r.Type <= 6 && len(r.Header) >= 2 {
		return int(r.Header[1])
	}
	if v, ok := r.GetInt(3); ok && r.Type >= 13 && r.Type <= 15 {
		return v
	}
	return -1
}

// EyePosition returns field 17.003 (ELR): 0 undefined, 1 right, 2 left; -1
// when absent or not a Type-17 record.
func (r *Record) EyePosition() int {
	if v, ok := r.GetInt(3); ok && r.Type == 17 {
		return v
	}
	return -1
}

// ImageType returns field 10.003 (IMT) in upper case: FACE, SCAR, MARK,
// TATTOO, …; "" for other records.
func (r *Record) ImageType() string {
	if r.Type != 10 {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(r.Get(3)))
}

// SMT is the scar, mark and tattoo description of a Type-10 record.
type SMT struct {
	// Codes holds 10.040 (SMT): NCIC codes such as "TAT L ARM".
	Codes []string
	// Size holds 10.041 (SMS): height and width in centimetres.
	Height, Width string
	// Descriptors holds 10.042 (SMD) subfields: class, subclass, description.
	Descriptors [][]string
	// Colors holds 10.043 (COL) subfields: the colours of each tattoo.
	Colors [][]string
}

// SMT returns the SMT fields of a Type-10 record (zero when absent).
func (r *Record) SMT() SMT {
	var s SMT
	if r.Type != 10 {
		return s
	}
	if f := r.Field(40); f != nil {
		for _, sub := range f.Subfields {
			s.Codes = append(s.Codes, sub[0])
		}
	}
	if f := r.Field(41); f != nil && len(f.Subfields) > 0 {
		sub := f.Subfields[0]
		s.Height = sub[0]
		if len(sub) > 1 {
			s.Width = sub[1]
		}
	}
	if f := r.Field(42); f != nil {
		s.Descriptors = f.Subfields
	}
	if f := r.Field(43); f != nil {
		s.Colors = f.Subfields
	}
	return s
}
