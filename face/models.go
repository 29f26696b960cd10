package face

import (
	"embed"
	"fmt"
	"path"
	"sync"

	"github.com/huella-abis/huella/face/tfjs"
)

// modelFiles holds the shipped TF.js weights (see models/PROVENANCE.md).
//
//go:embed models/*.json models/*.bin
var modelFiles embed.FS

// loadWeights decodes the embedded model whose manifest is
// models/<name>-weights_manifest.json.
func loadWeights(name string) (tfjs.Weights, error) {
	manifest, err := modelFiles.ReadFile(path.Join("models", name+"-weights_manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("face: model %s: %w", name, err)
	}
	w, err := tfjs.DecodeManifest(manifest, func(p string) ([]byte, error) {
		return modelFiles.ReadFile(path.Join("models", p))
	})
	if err != nil {
		return nil, fmt.Errorf("face: model %s: %w", name, err)
	}
	return w, nil
}

// Models are the three networks of the pipeline, decoded once and shared
// read-only by every Extractor.
type Models struct {
	Detector    *TinyFaceDetector
	Landmarks   *LandmarkNet
	Recognition *RecognitionNet
}

var (
	modelsOnce sync.Once
	models     *Models
	modelsErr  error
)

// LoadModels decodes the embedded weights (once per process).
func LoadModels() (*Models, error) {
	modelsOnce.Do(func() {
		var m Models
		if m.Detector, modelsErr = NewTinyFaceDetector(); modelsErr != nil {
			return
		}
		if m.Landmarks, modelsErr = NewLandmarkNet(); modelsErr != nil {
			return
		}
		if m.Recognition, modelsErr = NewRecognitionNet(); modelsErr != nil {
			return
		}
		models = &m
	})
	return models, modelsErr
}
