package tattoo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

func TestEvaluateBIVTattFolds(t *testing.T) {
	t.Run("ErrBadOption", func(t *testing.T) {
		for _, k := range []int{-2, 1} {
			_, err := tattoo.EvaluateBIVTatt(context.Background(), t.TempDir(), tattoo.EvalOptions{Folds: k})
			if !errors.Is(err, tattoo.ErrBadOption) {
				t.Errorf("%d folds: got %v, want ErrBadOption", k, err)
			}
		}
	})
}
