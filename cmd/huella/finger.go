package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/huella-abis/huella/finger/slap"
	"github.com/huella-abis/huella/imgproc"
)

// runFinger runs "huella finger segment [--json] SLAP DIR".
func runFinger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := errors.New("usage: huella finger segment [--json] [--position 13|14|15] [--ppi N] SLAP DIR")
	if len(args) == 0 {
		return usage
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage.Error())
	}
	switch args[0] {
	case "segment":
		return runFingerSegment(ctx, args[1:], stdout, stderr)
	}
	return usage
}

// segmentLine is one fingertip as "finger segment --json" prints it: the
// position, the rotated box (centre, size, tilt in degrees clockwise) and
// the file written.
type segmentLine struct {
	Position int     `json:"position"`
	CenterX  int     `json:"center_x"`
	CenterY  int     `json:"center_y"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Angle    float64 `json:"angle"`
	File     string  `json:"file"`
}

// runFingerSegment cuts a slap into its fingertips and writes each as
// DIR/<position>.png, printing each position with its box.
func runFingerSegment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("finger segment", "huella finger segment [--json] [--position 13|14|15] [--ppi N] SLAP.{png,wsq,…} DIR", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per fingertip (position, box, file)")
	position := fs.Int("position", 0, "slap position: 13 right four, 14 left four, 15 both thumbs; 0 guesses it")
	ppi := fs.Int("ppi", 500, "resolution of the slap")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: huella finger segment [--json] [--position 13|14|15] [--ppi N] SLAP DIR")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		return fmt.Errorf("decode %s: %w", fs.Arg(0), err)
	}
	res, err := slap.Segment(img, *position, slap.Options{PPI: *ppi})
	if err != nil {
		return err
	}
	dir := fs.Arg(1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, tip := range res.Fingertips {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.png", tip.Position))
		if err := writeFingertipPNG(path, tip); err != nil {
			return err
		}
		b := tip.Box
		line := segmentLine{Position: tip.Position, CenterX: int(math.Round(b.CenterX)), CenterY: int(math.Round(b.CenterY)),
			Width: int(math.Round(b.Width)), Height: int(math.Round(b.Height)), Angle: math.Round(b.Angle*1800/math.Pi) / 10, File: path}
		if *asJSON {
			if err := writeJSONLine(stdout, line); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "%d %s centre=%d,%d size=%dx%d angle=%.1f\n", line.Position, path, line.CenterX, line.CenterY, line.Width, line.Height, line.Angle)
	}
	return nil
}

func writeFingertipPNG(path string, tip slap.Fingertip) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = png.Encode(f, tip.Image)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
