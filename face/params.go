package face

// Tuned constants of the face pipeline, in one place.
const (
	// DetectorInputSize is the TinyFaceDetector input side (multiple of 32)
	// tried first; detectorRetrySizes are tried, in order, when it finds no
	// face scoring DetectorMinScore. The tiny detector's confidence swings
	// with the input scale, so on LFW one size alone misses 2–15% of faces.
	DetectorInputSize = 320
	// DetectorMinScore is the detection confidence a face needs at once.
	DetectorMinScore = 0.5
	// detectorFallbackScore is the lowest confidence accepted, as the best
	// detection over every size, when no size reaches DetectorMinScore.
	detectorFallbackScore = 0.3
	// DetectorIoU is the non-maximum suppression overlap threshold
	// (face-api's TinyFaceDetector value).
	DetectorIoU = 0.4

	// Dlib-style alignment (face-api FaceLandmarks.alignDlib): a square of
	// side eye-to-mouth distance / alignScale, placed so the mean of the
	// eye and mouth centres sits at (alignRelX, alignRelY) of it.
	alignRelX  = 0.5
	alignRelY  = 0.43
	alignScale = 0.45

	// chipPadding is the get_face_chip padding for AlignChip. dlib's face
	// recognition example uses 0.25; on the first 250 + 250 pairs of LFW
	// pairsDevTrain (with the mirrored pass) 0.20 / 0.25 / 0.30 gave accuracy
	// 98.8 / 98.8 / 99.0% and TAR at zero false accepts 95.2 / 92.8 / 97.6%.
	chipPadding = 0.30
)

// detectorRetrySizes are the further detector input sizes (see
// DetectorInputSize).
var detectorRetrySizes = []int{416, 256, 224, 160}

// ThresholdFMR1e3 is the cosine similarity at which the false match rate is
// 1e-3, measured with "huella eval face" on LFW View 1 DevTrain images (the
// 512 images of the first 150 + 150 pairs of pairsDevTrain.txt, all 130,530
// cross-identity pairs: 0.9292; see BENCHMARKS.md); a score at or above it
// counts as a match.
const ThresholdFMR1e3 = 0.929
