// Package hostile makes the images a hostile or careless client sends: for
// the abuse tests, the fuzz seeds and "huella bench enroll". None of them
// is held whole in memory while it is made.
package hostile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// BombPNG returns an 8-bit grey PNG of w × h black pixels: a few
// kilobytes that declare (and decode to) w·h bytes. The rows are
// compressed as they are made, so making it costs no more memory than one
// row.
func BombPNG(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale; compression, filter, interlace 0
	chunk(&out, "IHDR", ihdr)
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, w+1) // filter byte 0, then the pixels
	for y := 0; y < h; y++ {
		zw.Write(row)
	}
	zw.Close()
	chunk(&out, "IDAT", idat.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

func chunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}

// Case is one hostile image, with the sample it is sent as.
type Case struct {
	Name     string // kebab-case
	Modality string // finger, iris, face or smt
	PPI      int
	Data     []byte
}

// Cases returns the hostile images "huella bench enroll" mixes in and the
// abuse tests send: decompression bombs past each modality's capture
// limit, headers that lie about the size, and bytes that are no image.
func Cases() []Case {
	bomb := BombPNG(10000, 10000)
	truncated := BombPNG(1000, 1000)
	truncated = truncated[:len(truncated)/2]
	return []Case{
		{"finger-png-10000x10000", "finger", 500, bomb},
		{"finger-png-2001x1000", "finger", 500, BombPNG(2001, 1000)},
		{"finger-png-4001x4001-1000ppi", "finger", 1000, BombPNG(4001, 4001)},
		{"iris-png-10000x10000", "iris", 0, bomb},
		{"face-png-10000x10000", "face", 0, bomb},
		{"smt-png-65535x65535-header", "smt", 0, header(65535, 65535)},
		{"finger-png-truncated", "finger", 500, truncated},
		{"finger-not-an-image", "finger", 500, bytes.Repeat([]byte("huella "), 4096)},
	}
}

// header returns the signature and IHDR of a w × h PNG, with no pixels.
func header(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 8
	chunk(&out, "IHDR", ihdr)
	return out.Bytes()
}

// PadPNG returns the PNG with a private ancillary chunk inserted after its
// header so that it is about size bytes long: an image within the capture
// limits that fills the largest part a request may carry. Decoders skip
// the chunk.
func PadPNG(png []byte, size int) []byte {
	pad := max(size-len(png)-12, 0)
	var out bytes.Buffer
	out.Grow(len(png) + pad + 12)
	out.Write(png[:33]) // signature and IHDR
	chunk(&out, "huLa", make([]byte, pad))
	out.Write(png[33:])
	return out.Bytes()
}
