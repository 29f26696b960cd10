// Package datasets locates the public research data in ../shared/datasets for
// tests and evaluations. A developer's clone may not have it: tests then skip
// with a clear message, except under CI (CI=true), where a missing dataset fails.
package datasets

import (
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/huella-abis/huella/imgproc"
)

// Root returns the datasets directory: $HUELLA_DATASETS if set, else
// ../shared/datasets beside the module root. It returns "" when absent.
func Root() string {
	if dir := os.Getenv("HUELLA_DATASETS"); dir != "" {
		return dir
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <module>/internal/datasets/datasets.go.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return filepath.Clean(dir)
}

// Path returns the absolute path of rel inside the datasets directory. When it
// does not exist, the test is skipped, or failed when CI=true.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	p := filepath.Join(root, rel)
	if root != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("dataset %s is missing: CI must run this test (set HUELLA_DATASETS or place ../shared beside the checkout)", rel)
	}
	tb.Skipf("dataset %s not found: place ../shared/datasets beside the checkout or set HUELLA_DATASETS to run this test", rel)
	return ""
}

// Gray reads and decodes the image at path (found with Path) as grey levels,
// failing the test when it cannot.
func Gray(tb testing.TB, path string) *image.Gray {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}
