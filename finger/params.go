package finger

import "math"

// Tuned constants of the extractor and comparator, in one place (the
// SourceAFIS Parameters habit). Distances are in pixels at 500 ppi, angles in
// radians.
const (
	// StandardPPI is the resolution every image is resampled to.
	StandardPPI = 500
	// minPPI and maxPPI bound the accepted input resolutions.
	minPPI, maxPPI = 250, 1000

	// minSide is the smallest image side (after resampling) worth extracting.
	minSide = 96

	// blockSize is the side of the square blocks of the orientation, mask and
	// ridge-period fields.
	blockSize = 8
	// orientationWindow is the half-size, in blocks, of the window whose
	// gradient tensor gives a block's orientation.
	orientationWindow = 1
	// orientationSmoothing is the Gaussian sigma, in blocks, applied to the
	// doubled-angle orientation vectors.
	orientationSmoothing = 1.5

	// maskContrastFraction is the fraction of the 95th percentile of block
	// contrast (grey standard deviation), over the blocks that are not flat
	// (maskMinContrast), that marks a block as foreground.
	maskContrastFraction = 0.22
	// maskMinContrast is the absolute grey-level standard deviation below
	// which a block is always background.
	maskMinContrast = 6
	// maskMinCoherence is the orientation coherence below which a block of
	// modest contrast is background.
	maskMinCoherence = 0.15
	// maskMinPeriodShare is the share of a block's 3×3 foreground
	// neighbourhood with a ridge period below which it is background after all.
	maskMinPeriodShare = 0.3
	// maskMinRidgeShare: when less than this share of the segmentation
	// mask keeps a ridge period, the mask is kept whole.
	maskMinRidgeShare = 0.5
	// minMeanCoherence and minImageQuality reject images without ridges
	// (noise, faces, irises score below; FVC2002 prints at least 0.25 and 34).
	minMeanCoherence = 0.15
	minImageQuality  = 18
	// minForegroundBlocks rejects images with too little fingerprint area.
	minForegroundBlocks = 120

	// periodWindow is the half-size of the oriented window whose x-signature
	// gives a block's ridge period.
	periodWindow = 14
	// minPeriod, maxPeriod and defaultPeriod bound the ridge period (pixels).
	minPeriod, maxPeriod, defaultPeriod = 4.5, 15.0, 9.0
	// periodSmoothing is the Gaussian sigma, in blocks, of the period field.
	periodSmoothing = 2.0

	// alongSigma and alongReach shape the smoothing along the ridges.
	alongSigma, alongReach = 5.5, 14
	// acrossSigmaFraction scales the across-ridge Gabor envelope with the period.
	acrossSigmaFraction = 0.5
	// orientationBins quantises the pixel orientation for the filter tables.
	orientationBins = 32
	// periodBinsPerPixel quantises the ridge period for the filter tables.
	periodBinsPerPixel = 2

	// mergedRidgeWidth and mergedRidgeDepth (splitMergedRidges): a ridge run
	// across the flow longer than mergedRidgeWidth times the print's median
	// run is two ridges merged over a blotted valley; its pixels not darker
	// than mergedRidgeDepth times the local RMS of the enhanced ridges are
	// that valley.
	mergedRidgeWidth = 1.6
	mergedRidgeDepth = 0.5
	// mergedCentreMin, mergedCentreMax and mergedCentreReach
	// (betweenTwoCentres): a merged region is cut only between two dark
	// centres of its enhanced profile across the flow, mergedCentreMin to
	// mergedCentreMax local periods apart, looked for over the run and
	// mergedCentreReach periods beyond each of its ends.
	mergedCentreMin   = 0.7
	mergedCentreMax   = 1.3
	mergedCentreReach = 0.7

	// speckSize: ridge islands and holes in ridges smaller than this many
	// pixels are noise (pores, dust), removed before thinning.
	speckSize = 18

	// Skeleton graph clean-up (graphCleanup), lengths in local ridge
	// periods: a loop (or two parallel ridges between two junctions) shorter
	// than poreLoopPeriods is a pore; endings facing each other closer than
	// gapPeriods are a broken ridge; a ridge from an ending to a junction
	// shorter than tailPeriods is a tail, one between two endings shorter than
	// fragmentPeriods a fragment; junctions joined by a ridge shorter than
	// knotPeriods are a knot.
	poreLoopPeriods = 2.5
	gapPeriods      = 2.25
	tailPeriods     = 1.0
	fragmentPeriods = 1.5
	knotPeriods     = 1.0
	// gapFlowPeriods and gapFlowAngle: a gap longer than gapFlowPeriods is
	// joined only when its chord follows the local ridge orientation within
	// gapFlowAngle. Wet prints break their ridges into chains of dots with
	// breaks of two to three periods; a long join across the flow would be
	// a bridge to the neighbouring ridge.
	gapFlowPeriods = 2.0
	gapFlowAngle   = math.Pi / 9
	// bridgePeriods and bridgeAcrossAngle: junctions joined by a ridge
	// shorter than bridgePeriods whose chord crosses the local ridge
	// orientation at more than bridgeAcrossAngle are a bridge over a valley.
	bridgePeriods     = 2.5
	bridgeAcrossAngle = math.Pi / 3

	// traceLength is how far along its ridges a minutia's direction is
	// measured.
	traceLength = 12
	// clusterDistance: minutiae closer than this are removed as noise.
	clusterDistance = 6
	// gapDistance and gapAngle detect the two facing endings of a broken ridge.
	gapDistance = 18
	gapAngle    = math.Pi / 4
	// borderDistance is the margin of foreground required around a minutia.
	borderDistance = 8
	// borderFacing: an ending whose direction reaches the background within
	// this distance is a fading ridge at the edge, not a minutia.
	borderFacing = 20
	// maxMinutiae caps the template size (the best by quality are kept).
	maxMinutiae = 120
	// minMinutiae rejects prints with fewer minutiae (failure to enroll).
	minMinutiae = 6
)

// MCC (minutia cylinder-code, Cappelli et al. 2010) parameters of the
// comparator's local structures.
const (
	cylinderRadius   = 70.0
	cylinderCells    = 16 // cells per side (Ns)
	cylinderSections = 6  // angular sections (Nd)
	cylinderSigmaS   = 28.0 / 3
	cylinderSigmaD   = 2 * math.Pi / 9
	cylinderMuPsi    = 0.01
	// cylinderMinValid is the fraction of valid cells a cylinder needs.
	cylinderMinValid = 0.75
	// cylinderMinNeighbours is the minimum count of neighbour minutiae.
	cylinderMinNeighbours = 2
	// cylinderMinMatchable is the fraction of common valid cells two
	// cylinders need to be compared.
	cylinderMinMatchable = 0.60
	// cylinderMaxRotation is the largest direction difference of paired minutiae.
	cylinderMaxRotation = math.Pi / 2
	// cylinderHullMargin is how far beyond the minutiae's convex hull cells stay valid.
	cylinderHullMargin = 50.0

	// Pair consolidation by relaxation (LSS-R).
	relaxMinPairs, relaxMaxPairs = 4, 12
	relaxPairsMu, relaxPairsTau  = 20.0, 0.4
	relaxIterations              = 5
	relaxWeight                  = 0.5
	relaxDistanceMu              = 5.0
	relaxDistanceTau             = -8.0 / 5
	relaxAngleMu                 = math.Pi / 12
	relaxAngleTau                = -30.0
	// relaxDistortion: the difference of two pairs' distances is divided by
	// 1 + relaxDistortion × their mean before relaxDistanceMu and
	// relaxDistanceTau judge it, so that the tolerance grows with distance
	// as skin distortion does (the alignment's alignDistortion likewise).
	relaxDistortion = 0.003
)

// Global consolidation by alignment: the best local pairs are tried as
// alignment hypotheses and the minutiae that agree after it are counted.
const (
	alignHypotheses = 12
	alignDistance   = 8.0
	alignDistortion = 0.08
	alignAngle      = math.Pi / 8
	alignAreaMargin = 10.0
	alignMinCount   = 12
)

// Image quality: the foreground area (blocks) and ridge clarity of a print
// that has all it needs.
const (
	qualityFullArea    = 600
	qualityFullClarity = 0.8
	// qualityFullReliability is the mean minutia reliability at which the
	// print quality equals the ridge quality (about the dev sets' median).
	qualityFullReliability = 0.5
	// qualityMaxDensity is the most minutiae per foreground block (8×8 px at
	// 500 ppi) a print is credited with, about 1.6 times the dev sets'
	// median (0.029) and their 90th percentile (0.049); above it the
	// print quality falls in proportion.
	qualityMaxDensity = 0.045
	// qualityFullMinutiae is the minutiae count below which the print
	// quality falls in proportion: the comparator's alignment wants
	// alignMinCount paired minutiae, and two impressions share only part
	// of theirs (between the dev sets' first quartile, 27, and median, 36).
	qualityFullMinutiae = 30
)

// Minutia reliability (reliabilityMaps): the orientation coherence counted
// as full flow, the mean doubled-angle turn (1 − cos) to the 8 neighbour
// blocks at which a block counts as all curvature, and the distance to the
// background, in blocks, beyond which the border costs nothing.
const (
	reliabilityFullFlow     = 0.5
	reliabilityMaxTurn      = 0.5
	reliabilityBorderBlocks = 4.0
	// minMinutiaReliability: minutiae less reliable than this are dropped.
	minMinutiaReliability = 0.0
)

// Pre-selection descriptor (Describe): a histogram of minutia-pair geometry
// over distance × two relative directions, of which the most populated
// cells are kept as bits.
const (
	descriptorBits         = 2048
	descriptorMinDistance  = 10.0
	descriptorMaxDistance  = 154.0
	descriptorDistanceBins = 8
	descriptorAngleBins    = 16
	descriptorKeep         = 0.25
)
