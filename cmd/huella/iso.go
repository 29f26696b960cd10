package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella/cbeff"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/iso19794"
)

const isoUsage = "usage: huella iso check [--strict] [--json] FILE… | huella iso extract FILE DIR"

// runISO runs "huella iso check [--strict] [--json] FILE…" and
// "huella iso extract FILE DIR": ISO/IEC 19794 biometric data interchange
// records, as livescan SDKs and national ID systems hand them over, alone
// or in a CBEFF XML container.
func runISO(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(isoUsage)
	}
	if isHelp(args[0]) {
		return printHelp(stdout, isoUsage)
	}
	switch args[0] {
	case "check":
		return runISOCheck(ctx, args[1:], stdout, stderr)
	case "extract":
		return runISOExtract(ctx, args[1:], stdout, stderr)
	}
	return errors.New(isoUsage)
}

// isoRecord is a decoded record: what it is and the images it holds.
type isoRecord struct {
	kind    string // finger minutiae, face, iris
	edition string // the standard and its edition
	detail  string // counts, image formats
	images  []isoImage
}

type isoImage struct {
	name   string // file name without extension
	data   []byte // the encoded bytes, as the record holds them
	ext    string // their extension
	decode func() (image.Image, error)
}

func (r *isoRecord) summary() string {
	return fmt.Sprintf("%s %s, %s", r.kind, r.edition, r.detail)
}

// decodeISO tells the record type by its magic and decodes it. Record types
// and editions not read yet are named in the error.
func decodeISO(data []byte, strict bool) (*isoRecord, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%d bytes: not an ISO/IEC 19794 record", len(data))
	}
	magic, version := string(data[:4]), string(data[4:8])
	switch magic {
	case "FMR\x00":
		f := iso19794.DetectFingerFormat(data)
		var rec *iso19794.FingerMinutiaeRecord
		var err error
		switch f {
		case iso19794.FingerISO19794p2v2005:
			rec, err = iso19794.Iso19794p2v2005Codec{Strict: strict}.Decode(data)
		case iso19794.FingerANSI378v2004:
			rec, err = iso19794.Ansi378v2004Codec{Strict: strict}.Decode(data)
		case iso19794.FingerANSI378v2007:
			rec, err = iso19794.Ansi378v2007Codec{Strict: strict}.Decode(data)
		default:
			return nil, fmt.Errorf("finger minutiae record of version %q: not read", strings.TrimRight(version, "\x00"))
		}
		if err != nil {
			return nil, err
		}
		minutiae := 0
		for _, v := range rec.Views {
			minutiae += len(v.Minutiae)
		}
		return &isoRecord{kind: "finger minutiae", edition: f.String(),
			detail: fmt.Sprintf("%s, %s, no image", count(len(rec.Views), "view"), count(minutiae, "minutia"))}, nil
	case "FAC\x00":
		r := &isoRecord{kind: "face"}
		var datas [][]byte
		var decoders []func() (image.Image, error)
		switch version {
		case "010\x00":
			rec, err := iso19794.Iso19794p5v2005Codec{Strict: strict}.Decode(data)
			if err != nil {
				return nil, err
			}
			r.edition = "ISO/IEC 19794-5:2005"
			for i := range rec.Images {
				datas, decoders = append(datas, rec.Images[i].Data), append(decoders, rec.Images[i].DecodeImage)
			}
		case "030\x00":
			rec, err := iso19794.Iso19794p5v2011Codec{Strict: strict}.Decode(data)
			if err != nil {
				return nil, err
			}
			r.edition = "ISO/IEC 19794-5:2011"
			for i := range rec.Representations {
				datas, decoders = append(datas, rec.Representations[i].Data), append(decoders, rec.Representations[i].DecodeImage)
			}
		default:
			return nil, fmt.Errorf("face record of version %q: only ISO/IEC 19794-5:2005 (\"010\") and 2011 (\"030\") are read", strings.TrimRight(version, "\x00"))
		}
		var formats []string
		for i, d := range datas {
			enc := iso19794.DetectImageEncoding(d)
			formats = append(formats, enc.String())
			r.images = append(r.images, isoImage{name: fmt.Sprintf("face-%d", i+1), data: d, ext: extension(enc), decode: decoders[i]})
		}
		r.detail = fmt.Sprintf("%s (%s)", count(len(datas), "image"), strings.Join(formats, ", "))
		return r, nil
	case "IIR\x00":
		if version == "010\x00" {
			return decodeIris2005(data, strict)
		}
		if version != "020\x00" {
			return nil, fmt.Errorf("iris record of version %q: only ISO/IEC 19794-6:2005 (\"010\") and 2011 (\"020\") are read", strings.TrimRight(version, "\x00"))
		}
		rec, err := iso19794.Iso19794p6v2011Codec{Strict: strict}.Decode(data)
		if err != nil {
			return nil, err
		}
		r := &isoRecord{kind: "iris", edition: "ISO/IEC 19794-6:2011"}
		var formats []string
		for i := range rec.Representations {
			p := &rec.Representations[i]
			formats = append(formats, p.ImageFormat.String())
			r.images = append(r.images, isoImage{name: fmt.Sprintf("iris-%s-%d", p.Eye, i+1), data: p.Data,
				ext: extension(iso19794.DetectImageEncoding(p.Data)), decode: p.DecodeImage})
		}
		r.detail = fmt.Sprintf("%s (%s)", count(len(rec.Representations), "image"), strings.Join(formats, ", "))
		return r, nil
	case "FIR\x00":
		if version == "020\x00" {
			return decodeFingerImage2011(data, strict)
		}
		if version != "010\x00" {
			return nil, fmt.Errorf("finger image record of version %q: only ISO/IEC 19794-4:2005 (\"010\") and 2011 (\"020\") are read", strings.TrimRight(version, "\x00"))
		}
		rec, err := iso19794.Iso19794p4v2005Codec{Strict: strict}.Decode(data)
		if err != nil {
			return nil, err
		}
		r := &isoRecord{kind: "finger image", edition: "ISO/IEC 19794-4:2005",
			detail: fmt.Sprintf("%s (%s, %d ppi)", count(len(rec.Views), "image"), rec.Compression, rec.ImageResX)}
		if rec.ScaleUnits == 2 {
			r.detail = fmt.Sprintf("%s (%s, %d px/cm)", count(len(rec.Views), "image"), rec.Compression, rec.ImageResX)
		}
		for i := range rec.Views {
			v := &rec.Views[i]
			decode := func() (image.Image, error) { return rec.DecodeImage(v) }
			if rec.Compression != iso19794.FingerUncompressed {
				// WSQ and JPEG 2000 too: the decoders this binary links in.
				decode = func() (image.Image, error) { m, _, err := imgproc.Decode(v.Data, imgproc.MaxPixels); return m, err }
			}
			r.images = append(r.images, isoImage{name: fmt.Sprintf("finger-%d-%d", v.Position, v.ViewNumber), data: v.Data,
				ext: fingerExtension(rec.Compression), decode: decode})
		}
		return r, nil
	}
	if trimmed := bytes.TrimSpace(data); bytes.HasPrefix(trimmed, []byte("<")) {
		return decodeCBEFF(data, strict)
	}
	return nil, errors.New("not an ISO/IEC 19794 record (FMR, FIR, FAC or IIR expected) nor a CBEFF XML container")
}

// decodeCBEFF reads a CBEFF XML container (ISO/IEC 19785-3) and each
// ISO/IEC 19794 record it holds; the images of record n are named
// bdb-n-….
func decodeCBEFF(data []byte, strict bool) (*isoRecord, error) {
	records, err := cbeff.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	r := &isoRecord{kind: "CBEFF container", edition: "ISO/IEC 19785-3 XML"}
	var parts []string
	for i, b := range records {
		rec, err := decodeISO(b.Data, strict)
		if err != nil {
			return nil, fmt.Errorf("CBEFF record %d (%s %s): %w", i+1, b.Type, b.Subtype, err)
		}
		if rec.kind == r.kind {
			return nil, fmt.Errorf("CBEFF record %d: a container inside a container", i+1)
		}
		parts = append(parts, rec.summary())
		for _, img := range rec.images {
			img.name = fmt.Sprintf("bdb-%d-%s", i+1, img.name)
			r.images = append(r.images, img)
		}
	}
	r.detail = fmt.Sprintf("%s: %s", count(len(records), "record"), strings.Join(parts, "; "))
	return r, nil
}

// decodeIris2005 reads an ISO/IEC 19794-6:2005 iris record; its JPEG 2000
// images decode with the decoders this binary links in.
func decodeIris2005(data []byte, strict bool) (*isoRecord, error) {
	rec, err := iso19794.Iso19794p6v2005Codec{Strict: strict}.Decode(data)
	if err != nil {
		return nil, err
	}
	r := &isoRecord{kind: "iris", edition: "ISO/IEC 19794-6:2005",
		detail: fmt.Sprintf("%s (%s)", count(rec.Images(), "image"), rec.ImageFormat)}
	if rec.Width != 0 && rec.Height != 0 {
		r.detail = fmt.Sprintf("%s (%s, %dx%d)", count(rec.Images(), "image"), rec.ImageFormat, rec.Width, rec.Height)
	}
	for _, s := range rec.Subtypes {
		for i := range s.Images {
			img := &s.Images[i]
			decode := func() (image.Image, error) { return rec.DecodeImage(img) }
			enc := iso19794.DetectImageEncoding(img.Data)
			if enc == iso19794.EncodingJPEG2000 {
				decode = func() (image.Image, error) { m, _, err := imgproc.Decode(img.Data, imgproc.MaxPixels); return m, err }
			}
			ext := extension(enc)
			if rec.ImageFormat == iso19794.Iris2005MonoJPEGLS || rec.ImageFormat == iso19794.Iris2005RGBJPEGLS {
				ext = ".jls"
			}
			r.images = append(r.images, isoImage{name: fmt.Sprintf("iris-%s-%d", s.Eye, img.Number), data: img.Data, ext: ext, decode: decode})
		}
	}
	return r, nil
}

// decodeFingerImage2011 reads an ISO/IEC 19794-4:2011 finger image record,
// whose representations each have their own encoding and resolution.
func decodeFingerImage2011(data []byte, strict bool) (*isoRecord, error) {
	rec, err := iso19794.Iso19794p4v2011Codec{Strict: strict}.Decode(data)
	if err != nil {
		return nil, err
	}
	r := &isoRecord{kind: "finger image", edition: "ISO/IEC 19794-4:2011"}
	var formats []string
	seen := map[string]bool{}
	for i := range rec.Representations {
		p := &rec.Representations[i]
		unit := "ppi"
		if p.ScaleUnits == 2 {
			unit = "px/cm"
		}
		if f := fmt.Sprintf("%s, %d %s", p.Compression, p.ImageResX, unit); !seen[f] {
			seen[f] = true
			formats = append(formats, f)
		}
		decode := p.DecodeImage
		enc, _ := p.Compression.Encoding()
		if enc != iso19794.FingerUncompressed {
			// WSQ and JPEG 2000 too: the decoders this binary links in.
			decode = func() (image.Image, error) { m, _, err := imgproc.Decode(p.Data, imgproc.MaxPixels); return m, err }
		}
		r.images = append(r.images, isoImage{name: fmt.Sprintf("finger-%d-%d", p.Position, p.Number), data: p.Data,
			ext: fingerExtension(enc), decode: decode})
	}
	r.detail = fmt.Sprintf("%s (%s)", count(len(rec.Representations), "image"), strings.Join(formats, "; "))
	return r, nil
}

// count says "1 image", "2 images" (and "minutia", "minutiae").
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if noun == "minutia" {
		return fmt.Sprintf("%d minutiae", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func fingerExtension(c iso19794.FingerImageCompression) string {
	switch c {
	case iso19794.FingerWSQ:
		return ".wsq"
	case iso19794.FingerJPEG:
		return ".jpg"
	case iso19794.FingerJPEG2000:
		return ".jp2"
	case iso19794.FingerPNG:
		return ".png"
	}
	return ".raw"
}

func extension(e iso19794.ImageEncoding) string {
	switch e {
	case iso19794.EncodingJPEG:
		return ".jpg"
	case iso19794.EncodingJPEG2000:
		return ".jp2"
	case iso19794.EncodingPNG:
		return ".png"
	}
	return ".raw"
}

// runISOCheck prints one line per file: ok with the record type, edition
// and images, or the error. It fails (exit 1) when any file does not read.
func runISOCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("iso check", "huella iso check [--strict] [--json] FILE…", stderr)
	strict := fs.Bool("strict", false, "reject records whose length fields disagree with their content")
	asJSON := fs.Bool("json", false, "print one JSON object per file (file, ok, summary or error)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: huella iso check [--strict] [--json] FILE…")
	}
	failed := 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec *isoRecord
		data, err := os.ReadFile(path)
		if err == nil {
			rec, err = decodeISO(data, *strict)
		}
		if err != nil {
			failed++
		}
		if *asJSON {
			r := struct {
				File    string `json:"file"`
				OK      bool   `json:"ok"`
				Summary string `json:"summary,omitempty"`
				Error   string `json:"error,omitempty"`
			}{File: path, OK: err == nil}
			if err != nil {
				r.Error = err.Error()
			} else {
				r.Summary = rec.summary()
			}
			if err := writeJSONLine(stdout, r); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			fmt.Fprintf(stdout, "%s: FAIL %v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok %s\n", path, rec.summary())
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("iso check: %d of %d files failed", failed, fs.NArg())}
	}
	return nil
}

// runISOExtract writes every image of a record to DIR: as PNG where it
// decodes, else as the bytes the record holds (.jp2, .jpg, .raw).
func runISOExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("iso extract", "huella iso extract FILE DIR", stderr)
	if err := parseFlags(fs, args, 2); err != nil {
		return err
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	rec, err := decodeISO(data, false)
	if err != nil {
		return err
	}
	if len(rec.images) == 0 {
		return fmt.Errorf("iso extract: the %s record holds no image", rec.kind)
	}
	dir := fs.Arg(1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, img := range rec.images {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, decodeErr := img.decode()
		if decodeErr != nil {
			path := filepath.Join(dir, img.name+img.ext)
			if err := os.WriteFile(path, img.data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s (not decoded: %v)\n", path, decodeErr)
			continue
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			return err
		}
		path := filepath.Join(dir, img.name+".png")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return err
		}
		b := m.Bounds()
		fmt.Fprintf(stdout, "%s %dx%d\n", path, b.Dx(), b.Dy())
	}
	return nil
}
