// Command shape-predictor re-encodes a dlib shape predictor (.dat) in the
// compact format the face package embeds:
//
//	go run ./tools/shape-predictor [-leaf-bits 32] shape_predictor_5_face_landmarks.dat \
//	    face/models/shape_predictor_5_face_landmarks.hsp
//
// 32-bit leaves keep every prediction identical to dlib's; 24, 16 and 8
// bits are smaller but move some landmarks (see BENCHMARKS.md).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/huella-abis/huella/face"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "shape-predictor:", err)
		os.Exit(1)
	}
}

func run() error {
	bits := flag.Int("leaf-bits", 32, "bits per leaf value: 8, 16, 24 or 32")
	flag.Parse()
	if flag.NArg() != 2 {
		return fmt.Errorf("usage: shape-predictor [-leaf-bits N] IN.dat OUT.hsp")
	}
	in, err := os.Open(flag.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	sp, err := face.DecodeDlibShapePredictor(in)
	if err != nil {
		return err
	}
	b, err := sp.MarshalCompact(*bits)
	if err != nil {
		return err
	}
	return os.WriteFile(flag.Arg(1), b, 0o644)
}
