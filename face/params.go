package face

// Tuned constants of the face pipeline, in one place.
const (
	// DetectorInputSize is the TinyFaceDetector input side (multiple of 32).
	DetectorInputSize = 416
	// DetectorMinScore is the lowest detection confidence kept.
	DetectorMinScore = 0.5
	// DetectorIoU is the non-maximum suppression overlap threshold
	// (face-api's TinyFaceDetector value).
	DetectorIoU = 0.4

	// Dlib-style alignment (face-api FaceLandmarks.alignDlib): a square of
	// side eye-to-mouth distance / alignScale, placed so the mean of the
	// eye and mouth centres sits at (alignRelX, alignRelY) of it.
	alignRelX  = 0.5
	alignRelY  = 0.43
	alignScale = 0.45
)
