package ansinist

import (
	"fmt"
	"strconv"
	"strings"
)

// Summary describes the transaction on one line, as "huella nist check"
// prints it: version, transaction type, record types with counts, images
// with their compression, and the warnings.
//
//	version=0400 tot=CAR records=1:1,2:1,4:14 images=4:WSQ20x14 warnings=0
func (t *Transaction) Summary() string {
	var types []int
	counts := map[int]int{}
	var images []string
	imageCounts := map[string]int{}
	for _, r := range t.Records {
		if counts[r.Type] == 0 {
			types = append(types, r.Type)
		}
		counts[r.Type]++
		if img, ok := r.Image(); ok {
			key := strconv.Itoa(r.Type) + ":" + img.Compression
			if imageCounts[key] == 0 {
				images = append(images, key)
			}
			imageCounts[key]++
		}
	}
	recs := make([]string, len(types))
	for i, ty := range types {
		recs[i] = fmt.Sprintf("%d:%d", ty, counts[ty])
	}
	imgs := make([]string, len(images))
	for i, k := range images {
		imgs[i] = fmt.Sprintf("%sx%d", strings.ReplaceAll(k, " ", "_"), imageCounts[k])
	}
	if len(imgs) == 0 {
		imgs = []string{"none"}
	}
	s := fmt.Sprintf("version=%s tot=%s records=%s images=%s warnings=%d",
		orDash(t.Version()), orDash(t.TransactionType()), strings.Join(recs, ","), strings.Join(imgs, ","), len(t.Warnings))
	if len(t.Warnings) > 0 {
		ws := make([]string, len(t.Warnings))
		for i, w := range t.Warnings {
			ws[i] = w.String()
		}
		s += " [" + strings.Join(ws, "; ") + "]"
	}
	return s
}

func orDash(s string) string {
	s = strings.Join(strings.Fields(s), "_")
	if s == "" {
		return "-"
	}
	return s
}

// ImageName returns the base name "huella nist extract" gives a record's
// image: "<record type>-<IDC>-<position>", where position is the first
// finger or palm position (Types 3–6, 13–15), the eye (Type-17), or 0.
func (r *Record) ImageName() string {
	pos := 0
	switch {
	case r.Type >= 3 && r.Type <= 6, r.Type >= 13 && r.Type <= 15:
		if p := r.FingerPositions(); len(p) > 0 {
			pos = p[0]
		}
	case r.Type == 17:
		pos = max(r.EyePosition(), 0)
	}
	return fmt.Sprintf("%d-%d-%d", r.Type, max(r.IDC(), 0), pos)
}

// Extension returns the usual file extension for the image's encoded
// bytes (".wsq", ".jpg", ".jp2", ".png", ".raw"), for writing them as is.
func (img *Image) Extension() string {
	switch img.Compression {
	case CompressionWSQ:
		return ".wsq"
	case CompressionJPEGB, CompressionJPEGL:
		return ".jpg"
	case CompressionJP2, CompressionJP2L:
		return ".jp2"
	case CompressionPNG:
		return ".png"
	case CompressionNone:
		return ".raw"
	}
	return ".bin"
}
