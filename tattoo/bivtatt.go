package tattoo

import (
	"bufio"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DatasetImage is one photograph of a dataset in the BIVTatt layout.
type DatasetImage struct {
	// Path is the image file.
	Path string
	// Subject and Number identify the original photo <subject>_<number>;
	// Variant is the generated transformation ("a1", "r1"…), empty for an
	// original. Distractors have an empty Subject.
	Subject, Number, Variant string
	// Box is the first bounding box, empty when none is given (whole image).
	Box image.Rectangle
}

// Source returns the name of the original photo this image is or was made
// from ("<subject>_<number>").
func (d DatasetImage) Source() string { return d.Subject + "_" + d.Number }

var bivtattName = regexp.MustCompile(`^([0-9A-Za-z]+)_([0-9]+)(?:_([A-Za-z]+[0-9]*))?$`)

// isImageFile reports whether name has an image extension the engine reads.
func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp":
		return true
	}
	return false
}

// ReadBIVTatt lists the images of a dataset in the BIVTatt layout:
// images/<subject>_<n>[_<variant>].<ext> and bounding_boxes/<same>.txt with
// "x1 y1 x2 y2" per line, of which the first is used.
func ReadBIVTatt(dir string) ([]DatasetImage, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "images"))
	if err != nil {
		return nil, fmt.Errorf("tattoo: read dataset: %w", err)
	}
	var out []DatasetImage
	for _, e := range entries {
		if e.IsDir() || !isImageFile(e.Name()) {
			continue
		}
		stem := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		m := bivtattName.FindStringSubmatch(stem)
		if m == nil {
			continue
		}
		d := DatasetImage{Path: filepath.Join(dir, "images", e.Name()), Subject: m[1], Number: m[2], Variant: m[3]}
		box, err := readFirstBox(filepath.Join(dir, "bounding_boxes", stem+".txt"))
		if err != nil {
			return nil, err
		}
		d.Box = box
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ReadImageDir lists every image file of dir (no boxes: whole images), as
// distractors.
func ReadImageDir(dir string) ([]DatasetImage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tattoo: read distractors: %w", err)
	}
	var out []DatasetImage
	for _, e := range entries {
		if !e.IsDir() && isImageFile(e.Name()) {
			out = append(out, DatasetImage{Path: filepath.Join(dir, e.Name())})
		}
	}
	return out, nil
}

// readFirstBox reads the first "x1 y1 x2 y2" line; a missing file means no box.
func readFirstBox(path string) (image.Rectangle, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return image.Rectangle{}, nil
	}
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("tattoo: read box: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 4 {
			return image.Rectangle{}, fmt.Errorf("tattoo: box %s: want x1 y1 x2 y2, have %q", filepath.Base(path), sc.Text())
		}
		var v [4]int
		for i := range v {
			f, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return image.Rectangle{}, fmt.Errorf("tattoo: box %s: %w", filepath.Base(path), err)
			}
			v[i] = int(f)
		}
		return image.Rect(v[0], v[1], v[2], v[3]), nil
	}
	return image.Rectangle{}, sc.Err()
}
