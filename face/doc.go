// Package face is Huella's face engine, in pure Go: a TinyFaceDetector
// finds faces, FaceLandmark68Net places 68 landmarks, the face is aligned
// with dlib's face-chip similarity transform, and FaceRecognitionNet (a port
// of dlib's ResNet face descriptor) turns it into a 128-d L2-normalised
// descriptor compared by cosine similarity. The three networks are face-api's
// TF.js models (see models/PROVENANCE.md), embedded in the binary and run by
// the small tensor runtime in face/tfjs; tests check the forward passes
// against face-api itself (tools/face-reference).
//
// The pipeline, in Extractor.Extract: detections → face → landmarks →
// aligned crop → descriptor → quality. Gallery holds descriptors as int8 for
// 1:N scans.
//
// Beside the pipeline: ShapePredictor reads and runs dlib's regression-tree
// shape predictors (shape_predictor_5_face_landmarks.dat) and Chip5 cuts
// dlib's 5-point face chip, both checked against dlib itself
// (tools/face-reference/dlib5.cpp); packages face/onnx and face/tfgraph run
// ONNX and TF.js graph-model embedders on the same runtime, and
// tools/face-fusion measures one beside FaceRecognitionNet. None is in the
// shipped pipeline: BENCHMARKS.md says why.
package face
