package iris

// Tuned constants of the iris pipeline, in the order the stages use them.
// Measured on CASIA-Iris-Interval (320×280 NIR); see BENCHMARKS.md.
const (
	// Specular reflections: a pixel of at least ReflectionMin brighter by
	// ReflectionContrast than both its neighbourhood mean (square of radius
	// ReflectionRadius) and the ReflectionRingQuantile quantile of the ring
	// of radius ReflectionRingRadius around it is a reflection: a spot
	// brighter than what surrounds it on most sides, not the bright iris
	// beside the dark pupil or a bright crypt among bright texture (issue
	// 22: with the mean alone, an iris with twice CASIA's texture contrast
	// lost most of its area to "reflections"). The ring is twice the
	// neighbourhood's radius: at 6 px, CASIA's ring of eight spots in the
	// pupil, scaled by 1.3, put each spot on its neighbours' rings and left
	// them unmasked. The mask is grown by ReflectionDilate pixels and the
	// pixels inpainted.
	ReflectionContrast     = 45
	ReflectionMin          = 150
	ReflectionRadius       = 6
	ReflectionRingRadius   = 12
	ReflectionRingQuantile = 0.75
	ReflectionDilate       = 3

	// Boundary searches run on the image shrunk by an integer factor to at
	// most SegmentMaxSide pixels on its short side: the radii below are in
	// those pixels (CASIA-Iris-Interval, 320×280, is searched at full size).
	SegmentMaxSide = 320

	// Smoothing (Gaussian sigma, pixels) before the boundary searches.
	SegmentBlurSigma = 1.5

	// Pupil: seeds at the PupilSeeds darkest discs (half-size PupilSeedHalf
	// at full resolution, searched at half resolution), then an
	// integro-differential search of centres within PupilCenterSearch pixels
	// and radii in [PupilMinRadius, PupilMaxRadius], scored on the third
	// weakest of PupilSectors sectors. Chosen on CASIA-Iris-Interval and MMU2
	// together: MMU2's pupils (radius 10–20) sit among lashes, eyebrows and
	// eye corners as dark as they are, and its irises are darker.
	PupilSeeds        = 5
	PupilSectors      = 8
	PupilSeedHalf     = 7
	PupilDarkDelta    = 30
	PupilCenterSearch = 8
	PupilMinRadius    = 8
	PupilMaxRadius    = 85
	// Pupil candidates scoring at least PupilCandidateFraction of the best
	// are each given a limbus and the pairs are ranked by the product of
	// the two scores (MMU2's spectacle frames and lash clumps outscore its
	// pupils).
	PupilCandidateFraction = 0.3
	// SegmentationTries pupil–limbus pairs, best first, are each taken
	// through the masks and the quality gates until one passes: the best
	// pair of an eye behind spectacles can be a frame and the skin around
	// it, which the usable-area gate rejects (MMU2: FTE 2.31 % → 0.90 %,
	// EER 12.0 % → 10.9 %; CASIA-Iris-Interval, whose best pairs all pass,
	// unchanged).
	SegmentationTries = 3

	// Limbus: integro-differential search on the lateral arcs (from
	// IrisArcUp degrees above to IrisArcDown below the horizontal) with centres within IrisCenterSearch pixels of the
	// pupil centre and radii in [IrisMinRatio·rp, IrisMaxRatio·rp] ∩
	// [IrisMinRadius, IrisMaxRadius]. Each arc is cut into LimbusSectors
	// sectors and rises by its LimbusSectorRank-th weakest (eyelids crossing
	// the arc ends of MMU2's narrow eyes had made its limbus 10–20 % too large).
	// IrisMaxRatio 5 is a pupil at least a fifth of the iris radius, the
	// physiological floor: with 8, MMU2's lighter irises had their limbus
	// taken at the eye corner or the skin at 5–7 pupil radii (the
	// outermost-rise rule), while no CASIA-Iris-Interval limbus lies beyond
	// 4.2 pupil radii (issue 22, branch irisseg).
	IrisArcUp          = 25
	IrisArcDown        = 35
	IrisCenterSearch   = 8
	IrisMinRatio       = 1.5
	IrisMaxRatio       = 5
	LimbusPeakFraction = 0.75
	LimbusSectors      = 4
	LimbusSectorRank   = 2
	// An eye cut by the frame on one side is searched again on its other
	// arc alone, and that circle is taken when it is larger and rises
	// LimbusOneSidedGain times more steeply than the two-sided one, which
	// can only see radii inside the frame on both sides and settles on an
	// edge inside the iris. With 2, CASIA eyes shifted by 60 px or scaled
	// by 1.3 kept that edge (eye 1011 shifted left: radius 56 px for a
	// limbus of 109; shift_left FNMR 5.97 %); 1.5 takes the limbus (2.02 %;
	// issue 22, branch irisroll).
	LimbusOneSidedGain = 1.5
	// Traced limbus radii: about 45–65 pixels on MMU2, 100–120 on
	// CASIA-Iris-Interval; the upper bound is issue 22's 160 pixels for
	// cameras at these resolutions (with 145, CASIA scaled by 1.3, radii
	// 122–152, had its larger limbi found at the collarette; both dev sets
	// unchanged to the digit).
	IrisMinRadius = 30
	IrisMaxRadius = 160

	// Circle sampling: angles per pupil circle in the integro-differential
	// operator, and per lateral arc of the limbus (24 per limbus sector:
	// with 12, CASIA's limbus was noisier, MMU2's EER 0.3 points higher).
	CircleSamples = 96

	// Eyelashes: pixels that a grey closing over a square of radius
	// EyelashRadius lifts by more than EyelashContrast grey levels. (A
	// threshold of 4.5 MADs of the iris's grey levels instead cost both
	// dev sets a little: see BENCHMARKS.md, issue 22 fifth pass.)
	EyelashRadius   = 2
	EyelashContrast = 40

	// Rubber-sheet normalisation: PolarRows radii from the pupil boundary
	// (fraction PolarInner) to the limbus (fraction PolarOuter), PolarCols
	// angles. 0.40 was chosen on CASIA-Iris-Interval alone (its outer ring
	// is lid and lash noise); MMU2's irises span only 33–46 pixels from
	// pupil to limbus, so 0.40 coded 13–18 pixels of texture there. A
	// floor in pixels would suit both but is not scale-invariant (CASIA
	// scaled by 0.7 then missed 15 % of its pairs). 0.6 is one fraction for
	// both: MMU2 EER 8.49 → 7.29 %, FNMR@1e-3 15.68 → 13.37 %; CASIA EER
	// 0.269 → 0.273 %, FNMR@1e-3 0.291 → 0.302 % (0.55 and 0.70 were
	// measured too: issue 22, branch irisseg, in BENCHMARKS.md).
	PolarRows  = 64
	PolarCols  = 512
	PolarInner = 0.04
	PolarOuter = 0.6

	// Noise mask in the unwrapped iris: pixels darker than median −
	// NoiseDarkMAD·MAD (eyelashes) or brighter than median + NoiseBrightMAD·MAD
	// (eyelid skin) are masked.
	NoiseDarkMAD   = 4.0
	NoiseBrightMAD = 3.5

	// Code geometry: Bands radial bands × Columns angular positions × 2 phase
	// bits. One column is 2·Bands = 16 bits, so a rotation by one column is
	// a 16-bit rotation of the whole code.
	Bands   = 4
	Columns = 128

	// Log-Gabor filter along the angle: centre wavelength in polar columns
	// and the bandwidth ratio sigma/f0. 48 columns gives MMU2 EER 9.2 %
	// (from 10.75) but CASIA-Iris-Interval FNMR at FMR 1e-3 1.38 % (from
	// 0.97, beyond its 1.2 % target): see BENCHMARKS.md. The ratio 0.45
	// (a slightly wider band than 0.5) gave both dev sets lower EER and
	// FNMR at FMR 1e-3 (MMU2 9.30 → 9.00 %, CASIA 0.347 → 0.313 %); 0.40
	// cost MMU2 1.4 points of FNMR at FMR 1e-4.
	GaborWavelength = 32.0
	GaborSigmaRatio = 0.45
	// GaborMinWavelengthPixels is the shortest wavelength, in input pixels
	// along the band's circle, that a band is filtered at (32 columns are
	// 18 px on a circle of radius 46 px). MMU2's irises (limbus 45–65 px) are
	// sampled on circles of radius 20–35 px, where 32 columns are 8–14 px,
	// finer than the texture its camera resolves (the strip upsamples it
	// about 3×): its bands get 42–73 columns (EER 10.7 → 9.5 %). On
	// CASIA-Iris-Interval only bands close to a small pupil are lengthened
	// (EER 0.386 → 0.358 %). 16 px was worse on CASIA, 20 px on
	// MMU2; a wavelength fixed in pixels for every band (not a minimum) cost
	// CASIA (EER 0.459 %).
	GaborMinWavelengthPixels = 18.0

	// A bit is valid when at least CellValidFraction of its cell's polar
	// pixels are unmasked; FragileFraction of the weakest responses of each
	// phase component, each divided by the RMS response of its band over
	// ±FragileWindow polar columns, are masked as fragile, so that a strong
	// response in one part of a band (a lash shadow, a lid edge) does not
	// make the texture elsewhere fragile (with GaborMinWavelengthPixels:
	// MMU2 EER 9.5 → 9.3 %, CASIA-Iris-Interval 0.358 → 0.347 %; see
	// BENCHMARKS.md, issue 22, branch irismmu2).
	CellValidFraction = 0.8
	FragileFraction   = 0.3
	FragileWindow     = 32

	// Matching: rotations of ±MaxShift columns (one column is 360/Columns
	// degrees); Daugman's score normalisation to NormBits compared bits;
	// fewer than MinCompareBits compared bits give the no-information score 0.5.
	// A prior on the roll between two images of one eye: the distance at a
	// shift s is raised by RollPenalty per column of |s| beyond FreeShift.
	// Two images of an eye roll by up to ±3 columns (CASIA-Iris-Interval;
	// MMU2's hardly at all) and a head tilted by 10° adds 3.6 more, so the
	// search must reach ±7; but each shift searched freely lowers every
	// impostor's minimum (a free ±7 cost MMU2 0.4 point of EER), while a
	// mate rolled by 5–7 columns still wins by far more than the penalty.
	// With ±7, FreeShift 2 and 0.01 per column, both dev sets improve on
	// the free ±4 (a free ±4 lets MMU2's impostors, which are not rolled,
	// take their minimum at its ends three times as often as at any inner
	// shift); FreeShift 3 or 0.0075–0.015 per column do about as well
	// (issue 22, branch irisroll; see BENCHMARKS.md).
	MaxShift       = 7
	FreeShift      = 2
	RollPenalty    = 0.01
	NormBits       = 1000
	MinCompareBits = 200

	// Quality: minimum usable iris fraction, pupil/iris radius ratio range and
	// minimum sharpness.
	MinUsableFraction = 0.35
	MinPupilRatio     = 0.15
	MaxPupilRatio     = 0.75
)

// Quality thresholds beyond the usable area and pupil ratio.
const (
	// MaxGaze is the largest pupil–limbus centre offset relative to the iris
	// radius (off-angle eyes decentre the pupil).
	MaxGaze = 0.3
	// MinSharpness is the smallest mean absolute Laplacian in the iris
	// (after the segmentation blur): CASIA-Iris-Interval's sharpest-focus
	// minimum is 0.74 and the median of its images blurred with σ = 2.5 is
	// 0.51; the threshold only rejects strongly defocused images.
	MinSharpness = 0.3
)

// EyelidMaxCurvature bounds |A| of an eyelid parabola y = A·x² + …
// (pixels⁻¹): eyelids are gentle arcs across the iris.
const EyelidMaxCurvature = 0.006

// EyelidSideSupport is the fraction of the edge points on each side of the
// pupil (beyond its columns) that an eyelid candidate must pass through: a
// lid crosses the iris on both sides of the pupil, while the blurred pupil
// edge (CASIA-Iris-Interval scaled by 1.3 had both "lids" 4–5 px outside
// the pupil, masking 60 % of the iris) and the far ends of an upper lid
// that sags below the pupil's centre (a lower "lid" through one side) give
// edges over the pupil's columns or on one side only. It replaces a rule
// that rejected any candidate within 0.25 r of the pupil over its central
// columns, which also rejected real lids lowered onto the pupil (issue 22,
// lid_30).
const EyelidSideSupport = 0.25

// EyelidPupilMargin is the distance in pixels outside an eyelid within
// which the pupil's radial edges are taken for the lid's margin and dropped
// from the pupil's fit.
const EyelidPupilMargin = 4

// DistanceAtFMR1e3 is the decision threshold (normalised Hamming distance)
// at FMR 1e-3 measured on CASIA-Iris-Interval with these parameters: accept a
// comparison when Distance < DistanceAtFMR1e3.
const DistanceAtFMR1e3 = 0.392
