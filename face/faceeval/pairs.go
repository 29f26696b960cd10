package faceeval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrPairs reports an LFW pairs file that cannot be parsed.
var ErrPairs = errors.New("faceeval: bad pairs file")

// Pair is one comparison of an LFW pairs file: two image paths relative to
// the LFW image root, whether they show the same person, and the fold (0
// when the file has a single set).
type Pair struct {
	A, B    string
	Genuine bool
	Fold    int
}

// lfwPath is the LFW image path of a person's nth image.
func lfwPath(name string, n int) string {
	return fmt.Sprintf("%s/%s_%04d.jpg", name, name, n)
}

// ReadPairs parses an LFW pairs file (pairsDevTrain.txt, pairsDevTest.txt:
// a count line then "name n1 n2" genuine and "name1 n1 name2 n2" impostor
// lines; pairs.txt: "folds count" then folds of count genuine and count
// impostor lines). It also returns the number of folds (1 for View 1).
func ReadPairs(r io.Reader) ([]Pair, int, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return nil, 0, fmt.Errorf("%w: empty", ErrPairs)
	}
	head := strings.Fields(sc.Text())
	folds, per := 1, 0
	var err error
	switch len(head) {
	case 1:
		per, err = strconv.Atoi(head[0])
	case 2:
		if folds, err = strconv.Atoi(head[0]); err == nil {
			per, err = strconv.Atoi(head[1])
		}
	default:
		err = fmt.Errorf("header %q", sc.Text())
	}
	if err != nil || folds <= 0 || per <= 0 {
		return nil, 0, fmt.Errorf("%w: header: %v", ErrPairs, err)
	}
	var pairs []Pair
	line := 1
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		p := Pair{Fold: len(pairs) / (2 * per)}
		switch len(f) {
		case 3:
			n1, e1 := strconv.Atoi(f[1])
			n2, e2 := strconv.Atoi(f[2])
			if e1 != nil || e2 != nil {
				return nil, 0, fmt.Errorf("%w: line %d", ErrPairs, line)
			}
			p.A, p.B, p.Genuine = lfwPath(f[0], n1), lfwPath(f[0], n2), true
		case 4:
			n1, e1 := strconv.Atoi(f[1])
			n2, e2 := strconv.Atoi(f[3])
			if e1 != nil || e2 != nil {
				return nil, 0, fmt.Errorf("%w: line %d", ErrPairs, line)
			}
			p.A, p.B = lfwPath(f[0], n1), lfwPath(f[2], n2)
		default:
			return nil, 0, fmt.Errorf("%w: line %d has %d fields", ErrPairs, line, len(f))
		}
		pairs = append(pairs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("faceeval: read pairs: %w", err)
	}
	if len(pairs) != 2*per*folds {
		return nil, 0, fmt.Errorf("%w: %d pairs, header promises %d", ErrPairs, len(pairs), 2*per*folds)
	}
	return pairs, folds, nil
}
