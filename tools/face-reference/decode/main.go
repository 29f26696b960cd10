// Command decode writes the RGB pixels that face.DecodeRGB reads from an
// image file, so that tools/face-reference/reference.js runs face-api on
// exactly the pixels the Go tests see. Output: width and height as
// little-endian uint32, then width×height×3 bytes.
package main

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/huella-abis/huella/face"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "decode:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: decode IMAGE")
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := face.DecodeRGB(f)
	if err != nil {
		return err
	}
	var header [8]byte
	binary.LittleEndian.PutUint32(header[:], uint32(img.Width))
	binary.LittleEndian.PutUint32(header[4:], uint32(img.Height))
	if _, err := os.Stdout.Write(header[:]); err != nil {
		return err
	}
	_, err = os.Stdout.Write(img.Pix)
	return err
}
