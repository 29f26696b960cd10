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
	// The 2005 iris edition around libbiomeval's JPEG 2000 image, and the
	// 2011 finger image edition around MOSIP's JPEG 2000 print.
	jp2, err := os.ReadFile(filepath.Join(dir, "img.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	iris2005, err := iso19794.Iso19794p6v2005Codec{}.Encode(&iso19794.IrisRecord2005{ImageFormat: iso19794.Iris2005MonoJPEG2000,
		IntensityDepth: 8, Subtypes: []iso19794.IrisSubtype2005{{Eye: iso19794.EyeRight, Images: []iso19794.IrisImage2005{{Number: 1,
			Quality: 254, RotationAngle: iso19794.UndefinedAngle, RotationUncertainty: iso19794.UndefinedAngle, Data: jp2}}}}})
	if err != nil {
		t.Fatal(err)
	}
	iris2005File := filepath.Join(tmp, "iris2005.iso")
	mosip, err := os.ReadFile(datasets.Path(t, "fingerprint/mosip-iso/FingerPrintRight_Thumb.iso"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := iso19794.Iso19794p4v2005Codec{}.Decode(mosip)
	if err != nil {
		t.Fatal(err)
	}
	thumb := old.Views[0]
	fir2011, err := iso19794.Iso19794p4v2011Codec{}.Encode(&iso19794.FingerImageRecord2011{Positions: 1,
		Representations: []iso19794.FingerImageRepresentation{{Position: thumb.Position, Number: 1, ScaleUnits: 1,
			ScanResX: 500, ScanResY: 500, ImageResX: 500, ImageResY: 500, BitDepth: 8, Compression: iso19794.Finger2011JPEG2000Lossless,
			Width: thumb.Width, Height: thumb.Height, Data: thumb.Data}}})
	if err != nil {
		t.Fatal(err)
	}
	fir2011File := filepath.Join(tmp, "finger2011.fir")
	face, err := os.ReadFile(filepath.Join(dir, "face01.iso2005"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "face-cut.iso")
	// The same photograph in the 2011 face edition.
	face2005, err := iso19794.Iso19794p5v2005Codec{}.Decode(face)
	if err != nil {
		t.Fatal(err)
	}
	f := face2005.Images[0]
	face2011, err := iso19794.Iso19794p5v2011Codec{}.Encode(&iso19794.FaceRecord2011{Representations: []iso19794.FaceRepresentation{{
		ImageType: 1, DataType: iso19794.Face2011JPEG, Width: f.Width, Height: f.Height, ColourSpace: 1, Data: f.Data}}})
	if err != nil {
		t.Fatal(err)
	}
	face2011File := filepath.Join(tmp, "face2011.iso")
	for path, data := range map[string][]byte{irisFile: iris, firFile: fir, cut: face[:len(face)/2], iris2005File: iris2005, fir2011File: fir2011, face2011File: face2011} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	good := []string{filepath.Join(dir, "face01.iso2005"), filepath.Join(dir, "fmr.iso2005"),
		filepath.Join(dir, "fmr.ansi2004"), filepath.Join(dir, "fmr.ansi2007"), irisFile, firFile, iris2005File, fir2011File, face2011File}
	out := MustRun(t, append([]string{"iso", "check"}, good...)...)
	for _, want := range []string{"ok face ISO/IEC 19794-5:2005, 1 image (JPEG)", "ok finger minutiae ISO/IEC 19794-2:2005, 2 views",
		"ok finger minutiae ANSI INCITS 378-2004", "ok finger minutiae ANSI INCITS 378-2007", "ok iris ISO/IEC 19794-6:2011, 1 image (PNG)",
		"ok finger image ISO/IEC 19794-4:2005, 1 image (WSQ, 500 ppi)", "ok iris ISO/IEC 19794-6:2005, 1 image (JPEG 2000)",
		"ok finger image ISO/IEC 19794-4:2011, 1 image (JPEG 2000 lossless, 500 ppi)", "ok face ISO/IEC 19794-5:2011, 1 image (JPEG)"} {
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
	out = MustRun(t, "iso", "extract", face2011File, filepath.Join(tmp, "face2011"))
	if !strings.Contains(out, "face-1.png 280x320") {
		t.Errorf("iso extract of the 2011 face record: %s", out)
	}
	out = MustRun(t, "iso", "extract", irisFile, filepath.Join(tmp, "iris"))
	if !strings.Contains(out, "iris-left-1.png 64x48") {
		t.Errorf("iso extract of the iris record: %s", out)
	}
	out = MustRun(t, "iso", "extract", firFile, filepath.Join(tmp, "finger"))
	if want := fmt.Sprintf("finger-2-1.png %dx%d", pb.Dx(), pb.Dy()); !strings.Contains(out, want) {
		t.Errorf("iso extract of the finger image record: %s, want %s", out, want)
	}
	out = MustRun(t, "iso", "extract", iris2005File, filepath.Join(tmp, "iris2005"))
	if !strings.Contains(out, "iris-right-1.png ") {
		t.Errorf("iso extract of the 2005 iris record: %s", out)
	}
	out = MustRun(t, "iso", "extract", fir2011File, filepath.Join(tmp, "finger2011"))
	if want := fmt.Sprintf("finger-%d-1.png %dx%d", thumb.Position, thumb.Width, thumb.Height); !strings.Contains(out, want) {
		t.Errorf("iso extract of the 2011 finger image record: %s, want %s", out, want)
	}
	if err := Run(context.Background(), []string{"iso", "extract", filepath.Join(dir, "fmr.iso2005"), filepath.Join(tmp, "fmr")}, io.Discard, io.Discard); err == nil {
		t.Error("iso extract of a minutiae record: no error, want 'holds no image'")
	}
}
