package admit_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/internal/admit"
)

// errReader fails the test if it is read: a refusal must come before.
type errReader struct{ t *testing.T }

func (r errReader) Read([]byte) (int, error) { r.t.Error("the body was read"); return 0, io.EOF }

func TestGate(t *testing.T) {
	t.Run("ErrDeclaredTooLarge", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", errReader{t})
		r.ContentLength = 101
		if _, _, err := admit.NewGate(1000, 1).Admit(r, 100); huella.ErrorCode(err) != huella.ETOOLARGE {
			t.Fatalf("got %v, want ETOOLARGE", err)
		}
	})
	t.Run("ErrChunkedTooLarge", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("x", 150))))
		r.ContentLength = -1
		if _, _, err := admit.NewGate(1000, 1).Admit(r, 100); huella.ErrorCode(err) != huella.ETOOLARGE {
			t.Fatalf("got %v, want ETOOLARGE", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
		body, release, err := admit.NewGate(1000, 1).Admit(r, 100)
		if err != nil || !bytes.Equal(body, []byte("hello")) {
			t.Fatalf("got %q, %v", body, err)
		}
		release()
	})
	t.Run("WaitsForMemoryAndSlots", func(t *testing.T) {
		for name, g := range map[string]*admit.Gate{
			"Memory": admit.NewGate(100, 4), // one body of 50 (counted twice) at a time
			"Slots":  admit.NewGate(1000, 1),
		} {
			t.Run(name, func(t *testing.T) {
				first := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a", 50)))
				_, release, err := g.Admit(first, 100)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				second := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("b", 50))).WithContext(ctx)
				if _, _, err := g.Admit(second, 100); huella.ErrorCode(err) != huella.EUNAVAILABLE {
					t.Fatalf("second upload while the first is held: %v, want to wait and give up", err)
				}
				release()
				third := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("c", 50)))
				_, release, err = g.Admit(third, 100)
				if err != nil {
					t.Fatalf("after release: %v", err)
				}
				release()
			})
		}
	})
}
