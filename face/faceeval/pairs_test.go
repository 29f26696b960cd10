package faceeval_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/huella-abis/huella/face/faceeval"
	"github.com/huella-abis/huella/internal/datasets"
)

func TestReadPairs(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		pairs, folds, err := faceeval.ReadPairs(strings.NewReader("1\nAl_Gore\t1\t3\nAl_Gore\t2\tBo_Derek\t1\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := []faceeval.Pair{
			{A: "Al_Gore/Al_Gore_0001.jpg", B: "Al_Gore/Al_Gore_0003.jpg", Genuine: true},
			{A: "Al_Gore/Al_Gore_0002.jpg", B: "Bo_Derek/Bo_Derek_0001.jpg"},
		}
		if folds != 1 || len(pairs) != 2 || pairs[0] != want[0] || pairs[1] != want[1] {
			t.Errorf("got %v, %d folds; want %v, 1 fold", pairs, folds, want)
		}
	})
	t.Run("OKFolds", func(t *testing.T) {
		_, folds, err := faceeval.ReadPairs(strings.NewReader("2 1\nA 1 2\nA 1 B 1\nC 1 2\nC 1 D 2\n"))
		if err != nil || folds != 2 {
			t.Errorf("folds = %d, err = %v; want 2, nil", folds, err)
		}
	})
	t.Run("DevTest", func(t *testing.T) {
		f, err := os.Open(datasets.Path(t, "face/lfw-view1/pairsDevTest.txt"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pairs, _, err := faceeval.ReadPairs(f)
		if err != nil || len(pairs) != 1000 {
			t.Errorf("got %d pairs, err %v; want 1000", len(pairs), err)
		}
	})
	for name, in := range map[string]string{
		"ErrEmpty":     "",
		"ErrHeader":    "x\n",
		"ErrCount":     "2\nA 1 2\n",
		"ErrFields":    "1\nA 1\nB 1 C 2\n",
		"ErrNotNumber": "1\nA one 2\nA 1 B 2\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := faceeval.ReadPairs(strings.NewReader(in)); !errors.Is(err, faceeval.ErrPairs) {
				t.Errorf("err = %v, want ErrPairs", err)
			}
		})
	}
}

// FuzzReadPairs feeds arbitrary text to the LFW pairs parser.
func FuzzReadPairs(f *testing.F) {
	f.Add([]byte("1\nAl_Gore\t1\t3\nAl_Gore\t2\tBo_Derek\t1\n"))
	f.Add([]byte("2 1\nA 1 2\nA 1 B 1\nC 1 2\nC 1 D 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, folds, err := faceeval.ReadPairs(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, p := range pairs {
			if p.Fold < 0 || p.Fold >= folds {
				t.Fatalf("pair %v outside %d folds", p, folds)
			}
		}
	})
}
