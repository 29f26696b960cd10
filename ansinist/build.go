package ansinist

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Header holds the Type-1 fields a new transaction needs.
type Header struct {
	// Version is 1.002 (VER); empty means "0502" (ANSI/NIST-ITL 1-2011 Update 2015).
	Version string
	// TransactionType is 1.004 (TOT), for example "CAR" or "MAP".
	TransactionType string
	// Date is 1.005 (DAT); it also dates the image records added later.
	Date time.Time
	// Priority is 1.006 (PRY), 1–9; 0 leaves the field out.
	Priority int
	// Destination and Originator are 1.007 (DAI) and 1.008 (ORI).
	Destination, Originator string
	// ControlNumber is 1.009 (TCN).
	ControlNumber string
	// NativeResolution and TransmittingResolution are 1.011 (NSR) and 1.012
	// (NTR) in pixels per millimetre; empty means "19.69" (500 ppi).
	NativeResolution, TransmittingResolution string
}

// NewTransaction starts a transaction holding only its Type-1 record.
// Records are added with the Add methods; Marshal computes CNT and LEN.
func NewTransaction(h Header) *Transaction {
	r := &Record{Type: 1}
	r.Set(1, "0")
	r.Set(2, cmpOr(h.Version, "0502"))
	r.SetSubfields(3, [][]string{{"1", "0"}})
	r.Set(4, h.TransactionType)
	r.Set(5, h.Date.UTC().Format("20060102"))
	if h.Priority > 0 {
		r.Set(6, strconv.Itoa(h.Priority))
	}
	r.Set(7, h.Destination)
	r.Set(8, h.Originator)
	r.Set(9, h.ControlNumber)
	r.Set(11, cmpOr(h.NativeResolution, "19.69"))
	r.Set(12, cmpOr(h.TransmittingResolution, "19.69"))
	return &Transaction{Records: []*Record{r}}
}

func cmpOr(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// AddRecord appends an empty tagged record of the given type with the next
// IDC (0 for the first record after Type-1, then 1, 2, …) and returns it.
func (t *Transaction) AddRecord(recordType int) *Record {
	r := &Record{Type: recordType}
	r.Set(1, "0")
	r.Set(2, fmt.Sprintf("%02d", t.nextIDC()))
	t.Records = append(t.Records, r)
	return r
}

func (t *Transaction) nextIDC() int {
	return len(t.Records) - 1
}

// date returns the transaction date (1.005) for dating image records.
func (t *Transaction) date() string {
	if h := t.Header(); h != nil {
		return h.Get(5)
	}
	return ""
}

// origin returns 1.008 (ORI), the default source agency of image records.
func (t *Transaction) origin() string {
	if h := t.Header(); h != nil {
		return h.Get(8)
	}
	return ""
}

// AddText appends a Type-2 (user-defined descriptive text) record with the
// given fields, for example {18: "DOE,JOHN", 22: "19800101", 24: "M"}.
func (t *Transaction) AddText(fields map[int]string) *Record {
	r := t.AddRecord(2)
	keys := make([]int, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k > 2 {
			r.Set(k, fields[k])
		}
	}
	return r
}

// Fingerprint is a finger (or palm) image for a Type-14 or Type-4 record.
type Fingerprint struct {
	// Position is the finger position code (FGP): 1 right thumb … 10 left
	// little, 0 unknown, 13–15 plain slaps.
	Position int
	// Impression is the impression type (IMP): 0 live-scan plain, 1
	// live-scan rolled, 2 non-live plain, 3 non-live rolled, …
	Impression int
	// Width, Height and PPI describe the image; PPI 0 means 500.
	Width, Height, PPI int
	// Compression is CompressionWSQ (the default), CompressionNone, …
	Compression string
	// Data is the encoded image.
	Data []byte
	// Source is the source agency (SRC); empty means 1.008 (ORI).
	Source string
}

// AddFingerprint appends a Type-14 (variable-resolution fingerprint) record.
func (t *Transaction) AddFingerprint(f Fingerprint) *Record {
	r := t.AddRecord(14)
	r.Set(3, strconv.Itoa(f.Impression))
	r.Set(4, cmpOr(f.Source, t.origin()))
	r.Set(5, t.date())
	setRaster(r, f.Width, f.Height, cmpOrInt(f.PPI, 500), cmpOr(f.Compression, CompressionWSQ))
	r.Set(12, "8")
	r.Set(13, strconv.Itoa(f.Position))
	r.SetData(f.Data)
	return r
}

func cmpOrInt(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}

// setRaster sets fields 6–11: size, resolution in ppi and compression.
func setRaster(r *Record, w, h, ppi int, compression string) {
	r.Set(6, strconv.Itoa(w))
	r.Set(7, strconv.Itoa(h))
	r.Set(8, "1")
	r.Set(9, strconv.Itoa(ppi))
	r.Set(10, strconv.Itoa(ppi))
	r.Set(11, compression)
}

// AddFingerprintType4 appends a binary Type-4 (high-resolution grey
// fingerprint) record, as older partners still require. The image must be
// 500 ppi (the resolution 1.011 declares) and WSQ or uncompressed.
func (t *Transaction) AddFingerprintType4(f Fingerprint) (*Record, error) {
	code := slices.Index(binaryCompression, cmpOr(f.Compression, CompressionWSQ))
	if code < 0 || f.Width > 0xFFFF || f.Height > 0xFFFF || f.Position < 0 || f.Position > 255 || f.Impression < 0 || f.Impression > 255 {
		return nil, fmt.Errorf("ansinist: type-4 record cannot hold %s %dx%d image at position %d", f.Compression, f.Width, f.Height, f.Position)
	}
	h := make([]byte, 14)
	h[0] = byte(t.nextIDC())
	h[1] = byte(f.Impression)
	h[2] = byte(f.Position)
	for i := 3; i < 8; i++ {
		h[i] = 255
	}
	h[8] = 0 // ISR: the native scanning resolution of 1.011
	binary.BigEndian.PutUint16(h[9:], uint16(f.Width))
	binary.BigEndian.PutUint16(h[11:], uint16(f.Height))
	h[13] = byte(code)
	r := &Record{Type: 4, Header: h, Data: f.Data}
	t.Records = append(t.Records, r)
	return r, nil
}

// FacialImage is a face or scar, mark or tattoo photo for a Type-10 record.
type FacialImage struct {
	// ImageType is 10.003 (IMT): "FACE", "SCAR", "MARK" or "TATTOO".
	ImageType string
	// Width and Height are the image size in pixels.
	Width, Height int
	// Compression is CompressionJPEGB (the default), CompressionPNG, …
	Compression string
	// ColorSpace is 10.012 (CSP): "SRGB" (the default), "GRAY", "YCC".
	ColorSpace string
	// Data is the encoded image.
	Data []byte
	// SMT describes a scar, mark or tattoo (fields 10.040–10.043).
	SMT SMT
	// Source is the source agency (SRC); empty means 1.008 (ORI).
	Source string
}

// AddFacial appends a Type-10 (facial and SMT image) record.
func (t *Transaction) AddFacial(f FacialImage) *Record {
	r := t.AddRecord(10)
	r.Set(3, cmpOr(f.ImageType, "FACE"))
	r.Set(4, cmpOr(f.Source, t.origin()))
	r.Set(5, t.date())
	r.Set(6, strconv.Itoa(f.Width))
	r.Set(7, strconv.Itoa(f.Height))
	r.Set(8, "0") // pixel aspect ratio only
	r.Set(9, "1")
	r.Set(10, "1")
	r.Set(11, cmpOr(f.Compression, CompressionJPEGB))
	r.Set(12, cmpOr(f.ColorSpace, "SRGB"))
	s := f.SMT
	if len(s.Codes) > 0 {
		subs := make([][]string, len(s.Codes))
		for i, c := range s.Codes {
			subs[i] = []string{c}
		}
		r.SetSubfields(40, subs)
	}
	if s.Height != "" || s.Width != "" {
		r.SetSubfields(41, [][]string{{s.Height, s.Width}})
	}
	if len(s.Descriptors) > 0 {
		r.SetSubfields(42, s.Descriptors)
	}
	if len(s.Colors) > 0 {
		r.SetSubfields(43, s.Colors)
	}
	r.SetData(f.Data)
	return r
}

// IrisImage is an iris image for a Type-17 record.
type IrisImage struct {
	// Eye is 17.003 (ELR): 0 undefined, 1 right, 2 left.
	Eye int
	// Width, Height and Depth (bits per pixel, default 8) describe the
	// image; PPI 0 leaves the resolution unstated.
	Width, Height, Depth, PPI int
	// Compression is CompressionPNG (the default), CompressionJPEGB, …
	Compression string
	// Data is the encoded image.
	Data []byte
	// Source is the source agency (SRC); empty means 1.008 (ORI).
	Source string
}

// AddIris appends a Type-17 (iris image) record.
func (t *Transaction) AddIris(f IrisImage) *Record {
	r := t.AddRecord(17)
	r.Set(3, strconv.Itoa(f.Eye))
	r.Set(4, cmpOr(f.Source, t.origin()))
	r.Set(5, t.date())
	setRaster(r, f.Width, f.Height, f.PPI, cmpOr(f.Compression, CompressionPNG))
	if f.PPI == 0 {
		r.Set(8, "0")
		r.Set(9, "1")
		r.Set(10, "1")
	}
	r.Set(12, strconv.Itoa(cmpOrInt(f.Depth, 8)))
	if cmpOrInt(f.Depth, 8) == 8 {
		r.Set(13, "GRAY")
	} else {
		r.Set(13, "SRGB")
	}
	r.SetData(f.Data)
	return r
}
