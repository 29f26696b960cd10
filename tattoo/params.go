package tattoo

// Tuned constants of the tattoo engine, in one place. Each was chosen by
// measuring "huella eval tattoo" on the BIVTatt development set with the
// Instagram distractors (see BENCHMARKS.md); change one only with a new
// measurement.
const (
	// normalizedSide is the longer side, in pixels, that every crop is
	// resampled to before keypoints are detected, so that a tattoo photographed
	// close up and one photographed from afar start at the same scale.
	normalizedSide = 448
	// minCropSide rejects crops too small to hold any keypoint.
	minCropSide = 16
	// cropMargin enlarges the officer's box on every side by this fraction of
	// its size, so that keypoints on the tattoo's edge keep their patch.
	cropMargin = 0.05

	// pyramidLevels and pyramidScale define the image pyramid on which corners
	// are detected (ORB: 8 levels of 1.2).
	pyramidLevels = 6
	pyramidScale  = 1.3
	// maxKeypoints is the number of keypoints kept per image, split over the
	// levels in proportion to their area.
	maxKeypoints = 1000
	// fastThreshold is the intensity difference that makes a pixel of the
	// Bresenham circle brighter or darker than the centre (FAST-9).
	fastThreshold = 12
	// harrisK is the Harris detector's trace weight.
	harrisK = 0.04
	// gridCells splits each level into gridCells×gridCells cells so that the
	// kept keypoints cover the whole tattoo rather than its busiest corner.
	gridCells = 4
	// patchRadius is the radius of the patch used for orientation and for the
	// BRIEF tests (ORB: 31×31 patch).
	patchRadius = 15
	// edgeBorder keeps keypoints this far from a level's border so that a
	// rotated patch stays inside the image.
	edgeBorder = 22
	// angleBins is the number of precomputed rotations of the BRIEF pattern.
	angleBins = 30
	// briefBlurSigma smooths each level before the BRIEF intensity tests.
	briefBlurSigma = 2.0

	// matchRatio is Lowe's ratio test on Hamming distances: the best match is
	// kept when it is clearly better than the second best.
	matchRatio = 0.9
	// matchMaxDistance rejects matches whose Hamming distance (of 256 bits)
	// is too large to be anything but chance.
	matchMaxDistance = 90

	// ransacTolerance is the reprojection error, in normalised pixels, under
	// which a match agrees with a geometric hypothesis.
	ransacTolerance = 16.0
	// minScale and maxScale bound the scale change a hypothesis may imply.
	minScale = 0.25
	maxScale = 4.0
	// seedRefinements is the number of one-match proposals refined, and
	// affineRefinements bounds the affine refits of each.
	seedRefinements   = 4
	affineRefinements = 3
	// minSpread (pixels) is the spread across their main line that the
	// inliers of an affine fit must have, so that collinear matches do not
	// fix a map across the line.
	minSpread = 8
	// maxAnisotropy bounds the ratio of an affine map's singular values: a
	// foreshortening or shear up to that, no more.
	maxAnisotropy = 2.5
	// minInliers is the number of verified matches below which a comparison
	// scores as a non-match.
	minInliers = 4

	// vocabularyBranching and vocabularyDepth define the vocabulary tree:
	// branching^depth visual words.
	vocabularyBranching = 64
	vocabularyDepth     = 2
	// vocabularyIterations bounds the k-majority iterations at each node,
	// and vocabularySeed seeds its initial centres.
	vocabularyIterations = 12
	vocabularySeed       = 1
	// queryWords and queryWordMargin set the probe's multiple assignment
	// (see Vocabulary.QueryWords).
	queryWords      = 3
	queryWordMargin = 8
	// shortlistSize is the number of gallery images the bag-of-words pass
	// hands to geometric verification (with globalShortlistSize more from
	// the global descriptor). With the global shortlist beside it, 40, 60,
	// 80 and 100 give the same ranks on the dev set (--folds 5); 60 keeps
	// the search at 100k images within its budget with a margin.
	shortlistSize = 60
	// reverifySize is the number of best verified images verified again
	// with each probe descriptor matched in its reverifyCells nearest
	// first-level vocabulary cells (see Gallery.reverify).
	reverifySize  = 30
	reverifyCells = 8

	// globalSide is the side, in pixels, of the square colour image the
	// global descriptor's network sees (the whole crop, resampled): the
	// network's own 224 (192 ranked variants 85/95 rather than 90/98 at
	// --folds 5; face/tfjs's fused kernels pay for the larger input).
	globalSide = 224
	// globalChannels is the depth of the network's last feature map, and
	// globalDims the length of the stored global descriptor (principal
	// axes kept; see GlobalProjection).
	globalChannels = 1792
	globalDims     = 128
	// globalShortlistSize is the number of gallery images, most similar by
	// global descriptor, added to the bag-of-words shortlist.
	globalShortlistSize = 50
	// globalWeight and globalFloor turn the global descriptors' cosine into
	// points added to the verification score (see globalBonus).
	globalWeight = 15.0
	globalFloor  = 0.1
)

// maxSourcePixels bounds the decoded images Extract accepts.
const maxSourcePixels = 100 << 20

// orientationTolerance is how far, in radians, a match's change of keypoint
// orientation may differ from the rotation of the hypothesis.
const orientationTolerance = 0.5

// fillLevel is the grey level at or under which a pixel counts as the black
// padding of a rotated or sheared photo, and maxFillFraction the share of
// padding a keypoint's patch may hold.
const (
	fillLevel       = 6
	maxFillFraction = 0.02
)

// secondCellMargin is how many more bits the second-nearest first-level
// vocabulary node may be from a probe descriptor than the nearest for the
// gallery comparison to search both.
const secondCellMargin = 8
