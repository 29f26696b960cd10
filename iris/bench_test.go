package iris_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
)

func BenchmarkExtract(b *testing.B) {
	dir := datasets.Path(b, "iris/casia-interval")
	paths, _ := filepath.Glob(filepath.Join(dir, "00[1-4]", "*", "*.jpg"))
	var data [][]byte
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		img, err := imgproc.DecodeGray(data[i%len(data)])
		if err != nil {
			b.Fatal(err)
		}
		iris.Extract(img, iris.Options{})
	}
}
