// Package cbeff reads and writes CBEFF containers for a set of biometric
// records: the XML patron format of ISO/IEC 19785-3:2015 (OASIS
// cbeff_ed2.xsd, namespace http://standards.iso.org/iso-iec/19785/-3/ed-2/),
// a root BIR holding one BIR per biometric data block (BDB), each BDB an
// ISO/IEC 19794 record in base64 with its BDB header (format owner and
// type, biometric type and subtype, processed level, purpose, creation
// date, quality).
//
// The XML patron format is the one national ID platforms exchange (MOSIP's
// registration packets and ABIS interface carry it), and it is text that an
// operator can read; the binary patron formats of ISO/IEC 19785-3 are not
// written.
package cbeff

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Namespace is the XML namespace of the ISO/IEC 19785-3 XML patron format.
const Namespace = "http://standards.iso.org/iso-iec/19785/-3/ed-2/"

// Format owner and types registered with IBIA for ISO/IEC JTC 1 SC 37
// (patron 257): the BDB formats of ISO/IEC 19794 records.
const (
	OwnerJTC1SC37     = 257
	TypeFingerMinutia = 2 // ISO/IEC 19794-2
	TypeFingerImage   = 7 // ISO/IEC 19794-4
	TypeFaceImage     = 8 // ISO/IEC 19794-5
	TypeIrisImage     = 9 // ISO/IEC 19794-6
)

// MaxSize bounds the container Unmarshal reads (64 MiB): the XML and the
// base64 of every record it holds.
const MaxSize = 64 << 20

// MaxRecords bounds the number of BDBs in a container.
const MaxRecords = 1000

// ErrMalformed reports a container that is not a CBEFF XML BIR or whose
// fields are out of range.
var ErrMalformed = errors.New("cbeff: malformed container")

// Record is one BDB with its header.
type Record struct {
	// FormatOwner and FormatType name the BDB's format (OwnerJTC1SC37 and
	// TypeFingerImage, …). Some writers put a name in FormatOwner (MOSIP
	// writes "Mosip"): it is kept as read.
	FormatOwner, FormatType string
	// Created is when the BDB was made (zero: not given).
	Created time.Time
	// Type is the biometric type: "Finger", "Iris", "Face", …
	Type string
	// Subtype qualifies it: "Left IndexFinger", "Right", … (empty: none).
	Subtype string
	// Level is "Raw", "Intermediate" or "Processed" (empty: not given).
	Level string
	// Purpose is "Enroll", "Verify", "Identify", … (empty: not given).
	Purpose string
	// Quality is the quality score 0–100, or nil.
	Quality *int
	// Data is the BDB: the biometric record's bytes.
	Data []byte
}

type version struct {
	Major int `xml:"Major"`
	Minor int `xml:"Minor"`
}

type registryID struct {
	Organization string `xml:"Organization"`
	Type         string `xml:"Type"`
}

type quality struct {
	Algorithm registryID `xml:"Algorithm"`
	Score     *int       `xml:"Score,omitempty"`
}

type bdbInfo struct {
	Format       registryID `xml:"Format"`
	CreationDate string     `xml:"CreationDate,omitempty"`
	Type         string     `xml:"Type,omitempty"`
	Subtype      string     `xml:"Subtype,omitempty"`
	Level        string     `xml:"Level,omitempty"`
	Purpose      string     `xml:"Purpose,omitempty"`
	Quality      *quality   `xml:"Quality,omitempty"`
}

type birInfo struct {
	Integrity bool `xml:"Integrity"`
}

// Marshal writes the records as one CBEFF XML container: a root BIR with
// one child BIR per record.
func Marshal(records []Record) ([]byte, error) {
	if len(records) > MaxRecords {
		return nil, fmt.Errorf("cbeff: %d records, at most %d: %w", len(records), MaxRecords, ErrMalformed)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString(`<BIR xmlns="` + Namespace + `">` + "\n")
	buf.WriteString("  <BIRInfo><Integrity>false</Integrity></BIRInfo>\n")
	for i, r := range records {
		if len(r.Data) == 0 {
			return nil, fmt.Errorf("cbeff: record %d has no data: %w", i, ErrMalformed)
		}
		if r.Quality != nil && (*r.Quality < 0 || *r.Quality > 100) {
			return nil, fmt.Errorf("cbeff: record %d: quality %d out of 0-100: %w", i, *r.Quality, ErrMalformed)
		}
		info := bdbInfo{Format: registryID{Organization: r.FormatOwner, Type: r.FormatType}, Type: r.Type,
			Subtype: r.Subtype, Level: r.Level, Purpose: r.Purpose}
		if !r.Created.IsZero() {
			info.CreationDate = r.Created.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if r.Quality != nil {
			q := *r.Quality
			info.Quality = &quality{Algorithm: registryID{Organization: "Huella", Type: "quality"}, Score: &q}
		}
		child := struct {
			XMLName      xml.Name `xml:"BIR"`
			Version      version  `xml:"Version"`
			CBEFFVersion version  `xml:"CBEFFVersion"`
			BIRInfo      birInfo  `xml:"BIRInfo"`
			BDBInfo      bdbInfo  `xml:"BDBInfo"`
			BDB          string   `xml:"BDB"`
		}{Version: version{1, 1}, CBEFFVersion: version{1, 1}, BDBInfo: info, BDB: base64Std(r.Data)}
		out, err := xml.MarshalIndent(child, "  ", "  ")
		if err != nil {
			return nil, fmt.Errorf("cbeff: record %d: %w", i, err)
		}
		buf.Write(out)
		buf.WriteByte('\n')
	}
	buf.WriteString("</BIR>\n")
	return buf.Bytes(), nil
}

// Unmarshal reads a CBEFF XML container: the BDBs of its child BIRs, in
// order, at any depth (a root BIR may nest others). A BIR without a BDB
// (the root) contributes none. Errors wrap ErrMalformed.
func Unmarshal(data []byte) ([]Record, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("cbeff: container of %d bytes, at most %d: %w", len(data), MaxSize, ErrMalformed)
	}
	var root xmlBIR
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("cbeff: %v: %w", err, ErrMalformed)
	}
	if root.XMLName.Local != "BIR" {
		return nil, fmt.Errorf("cbeff: root element %q is not BIR: %w", root.XMLName.Local, ErrMalformed)
	}
	if root.XMLName.Space != "" && root.XMLName.Space != Namespace {
		return nil, fmt.Errorf("cbeff: namespace %q is not ISO/IEC 19785-3's: %w", root.XMLName.Space, ErrMalformed)
	}
	var out []Record
	var walk func(b *xmlBIR, depth int) error
	walk = func(b *xmlBIR, depth int) error {
		if depth > 8 {
			return fmt.Errorf("cbeff: BIRs nested deeper than 8: %w", ErrMalformed)
		}
		if b.BDB != nil {
			r, err := b.record()
			if err != nil {
				return fmt.Errorf("cbeff: BDB %d: %w", len(out)+1, err)
			}
			if len(out) == MaxRecords {
				return fmt.Errorf("cbeff: more than %d BDBs: %w", MaxRecords, ErrMalformed)
			}
			out = append(out, r)
		}
		for i := range b.Children {
			if err := walk(&b.Children[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&root, 0); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cbeff: no BDB: %w", ErrMalformed)
	}
	return out, nil
}

// xmlBIR is a BIR as read: the BDB stays text until record decodes it.
type xmlBIR struct {
	XMLName xml.Name
	BDBInfo *bdbInfo `xml:"BDBInfo"`
	BDB     *string  `xml:"BDB"`
	// Children are the nested BIRs.
	Children []xmlBIR `xml:"BIR"`
}

func (b *xmlBIR) record() (Record, error) {
	data, err := base64Decode(*b.BDB)
	if err != nil {
		return Record{}, err
	}
	if len(data) == 0 {
		return Record{}, fmt.Errorf("empty BDB: %w", ErrMalformed)
	}
	r := Record{Data: data}
	if b.BDBInfo == nil {
		return Record{}, fmt.Errorf("BDB without BDBInfo: %w", ErrMalformed)
	}
	i := b.BDBInfo
	r.FormatOwner, r.FormatType = strings.TrimSpace(i.Format.Organization), strings.TrimSpace(i.Format.Type)
	r.Type, r.Subtype = strings.Join(strings.Fields(i.Type), " "), strings.Join(strings.Fields(i.Subtype), " ")
	r.Level, r.Purpose = strings.TrimSpace(i.Level), strings.TrimSpace(i.Purpose)
	if s := strings.TrimSpace(i.CreationDate); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Record{}, fmt.Errorf("creation date %q: %w", s, ErrMalformed)
		}
		r.Created = t
	}
	if i.Quality != nil && i.Quality.Score != nil {
		q := *i.Quality.Score
		if q < 0 || q > 100 {
			return Record{}, fmt.Errorf("quality %d out of 0-100: %w", q, ErrMalformed)
		}
		r.Quality = &q
	}
	return r, nil
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// base64Decode reads xs:base64Binary: standard base64, whitespace allowed.
func base64Decode(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("BDB is not base64: %w", ErrMalformed)
	}
	return b, nil
}
