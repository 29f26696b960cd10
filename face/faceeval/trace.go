package faceeval

import (
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/huella-abis/huella/face"
)

// Trace extracts the face of one image and writes each stage image as
// <dir>/<key>.png (keys: face.TraceDetections, face.TraceLandmarks,
// face.TraceAlignedCrop), then a summary of the face and its quality to w.
func Trace(path, dir string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("faceeval: %w", err)
	}
	img, err := face.DecodeRGB(f)
	f.Close()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("faceeval: %w", err)
	}
	var werr error
	x := &face.Extractor{Trace: func(key string, m image.Image) {
		out := filepath.Join(dir, key+".png")
		file, err := os.Create(out)
		if err == nil {
			err = png.Encode(file, m)
			if cerr := file.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && werr == nil {
			werr = fmt.Errorf("faceeval: trace %s: %w", key, err)
		}
		fmt.Fprintf(w, "wrote %s\n", out)
	}}
	fc, err := x.Extract(img)
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	q := fc.Quality
	fmt.Fprintf(w, "face: box %.0f,%.0f %.0fx%.0f score %.2f, %d face(s)\n", fc.Detection.Box.X, fc.Detection.Box.Y, fc.Detection.Box.Width, fc.Detection.Box.Height, q.Score, q.Faces)
	fmt.Fprintf(w, "quality: inter-eye %.1f px, yaw %.0f°, pitch %.0f°, roll %.0f°, sharpness %.0f, eye opening %.2f\n", q.InterEye, q.Yaw, q.Pitch, q.Roll, q.Sharpness, q.EyeOpening)
	if q.Acceptable() {
		fmt.Fprintln(w, "quality: acceptable")
	} else {
		fmt.Fprintf(w, "quality: rejected: %s\n", strings.Join(q.Reasons, "; "))
	}
	return nil
}
