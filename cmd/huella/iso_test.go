package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iso19794"
	"github.com/huella-abis/huella/wsq"
)

// TestISO checks NIST libbiomeval's ISO/ANSI records and an iris record of
// our encoder with "huella iso check", and extracts their images.
func TestISO(t *testing.T) {
	dir := datasets.Path(t, "fingerprint/libbiomeval")
	tmp := t.TempDir()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	iris, err := iso19794.Iso19794p6v2011Codec{}.Encode(&iso19794.IrisRecord{Eyes: 1, Representations: []iso19794.IrisRepresentation{{
		Number: 1, Eye: iso19794.EyeLeft, ImageType: 1, ImageFormat: iso19794.IrisPNG, Width: 64, Height: 48, BitDepth: 8,
		RollAngle: iso19794.UndefinedAngle, RollAngleUncertainty: iso19794.UndefinedAngle, Data: buf.Bytes(),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	irisFile := filepath.Join(tmp, "iris.iso")
	// A finger image record around libbiomeval's WSQ print, as a livescan
	// SDK writes one.
	wsqData, err := os.ReadFile(filepath.Join(dir, "img.wsq"))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := wsq.DecodeFile(wsqData)
	if err != nil {
		t.Fatal(err)
	}
	pb := fp.Image.Bounds()
	fir, err := iso19794.Iso19794p4v2005Codec{}.Encode(&iso19794.FingerImageRecord{AcquisitionLevel: 31, ScaleUnits: 1,
		ScanResX: 500, ScanResY: 500, ImageResX: 500, ImageResY: 500, PixelDepth: 8, Compression: iso19794.FingerWSQ,
		Views: []iso19794.FingerImageView{{Position: 2, CountOfViews: 1, ViewNumber: 1, Quality: 254,
			Width: uint16(pb.Dx()), Height: uint16(pb.Dy()), Data: wsqData}}})
	if err != nil {
		t.Fatal(err)
	}
	firFile := filepath.Join(tmp, "finger.fir")
	face, err := os.ReadFile(filepath.Join(dir, "face01.iso2005"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "face-cut.iso")
	for path, data := range map[string][]byte{irisFile: iris, firFile: fir, cut: face[:len(face)/2]} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	good := []string{filepath.Join(dir, "face01.iso2005"), filepath.Join(dir, "fmr.iso2005"),
		filepath.Join(dir, "fmr.ansi2004"), filepath.Join(dir, "fmr.ansi2007"), irisFile, firFile}
	out := MustRun(t, append([]string{"iso", "check"}, good...)...)
	for _, want := range []string{"ok face ISO/IEC 19794-5:2005, 1 image (JPEG)", "ok finger minutiae ISO/IEC 19794-2:2005, 2 views",
		"ok finger minutiae ANSI INCITS 378-2004", "ok finger minutiae ANSI INCITS 378-2007", "ok iris ISO/IEC 19794-6:2011, 1 image (PNG)",
		"ok finger image ISO/IEC 19794-4:2005, 1 image (WSQ, 500 ppi)"} {
		if !strings.Contains(out, want) {
			t.Errorf("iso check lacks %q:\n%s", want, out)
		}
	}
	var stdout bytes.Buffer
	err = Run(context.Background(), []string{"iso", "check", "--json", cut, filepath.Join(dir, "img.wsq")}, &stdout, io.Discard)
	if exitCode(err) != 1 || strings.Count(stdout.String(), `"ok":false`) != 2 {
		t.Errorf("a cut face record and a WSQ image: exit %d, %s; want two failures and exit 1", exitCode(err), stdout.String())
	}

	out = MustRun(t, "iso", "extract", filepath.Join(dir, "face01.iso2005"), filepath.Join(tmp, "face"))
	if !strings.Contains(out, "face-1.png 280x320") {
		t.Errorf("iso extract of the face record: %s", out)
	}
	out = MustRun(t, "iso", "extract", irisFile, filepath.Join(tmp, "iris"))
	if !strings.Contains(out, "iris-left-1.png 64x48") {
		t.Errorf("iso extract of the iris record: %s", out)
	}
	out = MustRun(t, "iso", "extract", firFile, filepath.Join(tmp, "finger"))
	if want := fmt.Sprintf("finger-2-1.png %dx%d", pb.Dx(), pb.Dy()); !strings.Contains(out, want) {
		t.Errorf("iso extract of the finger image record: %s, want %s", out, want)
	}
	if err := Run(context.Background(), []string{"iso", "extract", filepath.Join(dir, "fmr.iso2005"), filepath.Join(tmp, "fmr")}, io.Discard, io.Discard); err == nil {
		t.Error("iso extract of a minutiae record: no error, want 'holds no image'")
	}
}
