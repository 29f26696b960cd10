package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/wsq"
)

// runWSQ runs "huella wsq decode IN.wsq OUT.png" and
// "huella wsq encode [--bitrate 0.75] IN.png OUT.wsq".
func runWSQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := errors.New("usage: huella wsq decode IN.wsq OUT.png | huella wsq encode [--bitrate 0.75] [--ppi 500] IN.png OUT.wsq")
	if len(args) == 0 {
		return usage
	}
	switch args[0] {
	case "decode":
		fs := flag.NewFlagSet("wsq decode", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return usage
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		f, err := wsq.DecodeFile(data)
		if err != nil {
			return err
		}
		if err := writePNG(fs.Arg(1), f); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %dx%d, %d ppi\n", fs.Arg(1), f.Frame.Width, f.Frame.Height, f.PPI)
		return nil
	case "encode":
		fs := flag.NewFlagSet("wsq encode", flag.ContinueOnError)
		fs.SetOutput(stderr)
		bitRate := fs.Float64("bitrate", wsq.DefaultBitRate, "target bit rate in bits per pixel (0.75 is the FBI's 15:1)")
		ppi := fs.Int("ppi", wsq.DefaultPPI, "resolution recorded in the file, pixels per inch")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return usage
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		g, err := imgproc.DecodeGray(data)
		if err != nil {
			return err
		}
		out, err := wsq.EncodeGray(g, &wsq.Options{BitRate: *bitRate, PPI: *ppi})
		if err != nil {
			return err
		}
		if err := os.WriteFile(fs.Arg(1), out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d bytes, %.3f bits per pixel\n", fs.Arg(1), len(out), float64(8*len(out))/float64(len(g.Pix)))
		return ctx.Err()
	}
	return usage
}

func writePNG(path string, f *wsq.File) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	err = png.Encode(out, f.Image)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
