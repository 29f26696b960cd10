package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/wsq"
)

// runWSQ runs "huella wsq decode IN.wsq OUT.png" and
// "huella wsq encode [--bitrate 0.75] IN.png OUT.wsq".
func runWSQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := errors.New("usage: huella wsq decode [--trace DIR] IN.wsq OUT.png | huella wsq encode [--bitrate 0.75] [--ppi 500] [--trace DIR] IN.png OUT.wsq | huella wsq bench [--bitrate 0.75] FILE|DIR…")
	if len(args) == 0 {
		return usage
	}
	if isHelp(args[0]) {
		return printHelp(stdout, usage.Error())
	}
	switch args[0] {
	case "decode":
		fs := flag.NewFlagSet("wsq decode", flag.ContinueOnError)
		fs.SetOutput(stderr)
		traceDir := fs.String("trace", "", "directory to write each stage's image to (wsq-subbands.png, …)")
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
		trace, traceErr := wsqTraceTo(*traceDir)
		f, err := wsq.Decoder{Trace: trace}.Decode(data)
		if err != nil {
			return err
		}
		if *traceErr != nil {
			return *traceErr
		}
		if err := writePNG(fs.Arg(1), f); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %dx%d, %d ppi\n", fs.Arg(1), f.Frame.Width, f.Frame.Height, f.PPI)
		return nil
	case "encode":
		fs := flag.NewFlagSet("wsq encode", flag.ContinueOnError)
		fs.SetOutput(stderr)
		bitRate := fs.Float64("bitrate", wsq.DefaultBitRate, "bits per pixel of the whole file, achieved within about 0.5% below (0.75 is the FBI's default)")
		ppi := fs.Int("ppi", wsq.DefaultPPI, "resolution recorded in the file, pixels per inch")
		traceDir := fs.String("trace", "", "directory to write each stage's image to (wsq-subbands.png, …)")
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
		trace, traceErr := wsqTraceTo(*traceDir)
		out, err := wsq.EncodeGray(g, &wsq.Options{BitRate: *bitRate, PPI: *ppi, Trace: trace})
		if err != nil {
			return err
		}
		if *traceErr != nil {
			return *traceErr
		}
		if err := os.WriteFile(fs.Arg(1), out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d bytes, %.3f bits per pixel\n", fs.Arg(1), len(out), float64(8*len(out))/float64(len(g.Pix)))
		return ctx.Err()
	case "bench":
		return runWSQBench(ctx, args[1:], stdout, stderr)
	}
	return usage
}

// runWSQBench encodes every fingerprint image found in the arguments at the
// given rate, decodes it back and reports bits per pixel, PSNR and the
// decoding and encoding speeds (wall clock, one goroutine), ending with a
// JSON line. Images: PNG, TIFF, BMP, PGM, JPEG and WSQ files, and the
// uncompressed 8-bit finger and palm images of ANSI/NIST transactions.
func runWSQBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wsq bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bitRate := fs.Float64("bitrate", wsq.DefaultBitRate, "encoder bit-rate parameter")
	repeat := fs.Int("repeat", 3, "decodes and encodes per image for the speed figures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: huella wsq bench [--bitrate 0.75] [--repeat 3] FILE|DIR…")
	}
	images, err := wsqBenchImages(fs.Args())
	if err != nil {
		return err
	}
	if len(images) == 0 {
		return errors.New("wsq bench: no images found")
	}
	var psnrs []float64
	var pixels, bytesOut int
	var encodeTime, decodeTime time.Duration
	writeHeader(stdout, "IMAGE", "SIZE", "BITS_PER_PIXEL", "PSNR_DB")
	progress := newProgress(stderr, "wsq bench", len(images))
	defer progress.Done()
	for _, im := range images {
		if err := ctx.Err(); err != nil {
			return err
		}
		var data []byte
		start := time.Now()
		for range max(*repeat, 1) {
			if data, err = wsq.EncodeGray(im.gray, &wsq.Options{BitRate: *bitRate}); err != nil {
				return fmt.Errorf("%s: %w", im.name, err)
			}
		}
		encodeTime += time.Since(start)
		var f *wsq.File
		start = time.Now()
		for range max(*repeat, 1) {
			if f, err = wsq.DecodeFile(data); err != nil {
				return fmt.Errorf("%s: decode: %w", im.name, err)
			}
		}
		decodeTime += time.Since(start)
		n := len(im.gray.Pix)
		p := wsq.PSNR(im.gray, f.Image)
		psnrs = append(psnrs, p)
		pixels += n
		bytesOut += len(data)
		fmt.Fprintf(stdout, "%s\t%dx%d\t%.3f\t%.2f\n", im.name, f.Frame.Width, f.Frame.Height, float64(8*len(data))/float64(n), p)
		progress.Add(1)
	}
	sort.Float64s(psnrs)
	sum, below33 := 0.0, 0
	for _, p := range psnrs {
		sum += p
		if p < 33 {
			below33++
		}
	}
	reps := float64(max(*repeat, 1))
	return writeJSONLine(stdout, map[string]any{
		"images":            len(psnrs),
		"bitrate_parameter": *bitRate,
		"bits_per_pixel":    math.Round(1000*float64(8*bytesOut)/float64(pixels)) / 1000,
		"psnr_min":          math.Round(100*psnrs[0]) / 100,
		"psnr_median":       math.Round(100*psnrs[len(psnrs)/2]) / 100,
		"psnr_mean":         math.Round(100*sum/float64(len(psnrs))) / 100,
		"images_below_33db": below33,
		"decode_mb_per_s":   math.Round(10*reps*float64(pixels)/decodeTime.Seconds()/1e6) / 10,
		"encode_mb_per_s":   math.Round(10*reps*float64(pixels)/encodeTime.Seconds()/1e6) / 10,
	})
}

type wsqBenchImage struct {
	name string
	gray *image.Gray
}

// wsqBenchImages loads the images named by paths (directories are walked).
func wsqBenchImages(paths []string) ([]wsqBenchImage, error) {
	var out []wsqBenchImage
	add := func(path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".an2", ".nist", ".eft":
			tx, err := ansinist.Read(data)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			for _, r := range tx.Records {
				img, ok := r.Image()
				if !ok || img.Compression != ansinist.CompressionNone || img.Depth != 8 || !wsqIsFingerRecord(r.Type) {
					continue
				}
				m, err := img.Decode()
				if err != nil {
					continue
				}
				out = append(out, wsqBenchImage{name: path + "#" + r.ImageName(), gray: imgproc.ToGray(m)})
			}
		case ".wsq":
			f, err := wsq.DecodeFile(data)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, wsqBenchImage{name: path, gray: f.Image})
		case ".png", ".tif", ".tiff", ".bmp", ".pgm", ".jpg", ".jpeg":
			g, err := imgproc.DecodeGray(data)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			out = append(out, wsqBenchImage{name: path, gray: g})
		}
		return nil
	}
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d iofs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return add(path)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// wsqIsFingerRecord reports the record types of 500 ppi finger and palm
// images (Type-3 is 250 ppi, below what WSQ is designed for).
func wsqIsFingerRecord(t int) bool { return t == 4 || (t >= 13 && t <= 15) }

// wsqTraceTo returns a trace hook writing each stage to dir/<key>.png (nil
// when dir is empty) and where its first error will be.
func wsqTraceTo(dir string) (wsq.Trace, *error) {
	var first error
	if dir == "" {
		return nil, &first
	}
	return func(key string, img image.Image) {
		if first != nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			first = err
			return
		}
		out, err := os.Create(filepath.Join(dir, key+".png"))
		if err != nil {
			first = err
			return
		}
		err = png.Encode(out, img)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		first = err
	}, &first
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
