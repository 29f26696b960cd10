package slap

// Tuned constants of the segmenter, in one place. Lengths are in pixels at
// 500 ppi (scaled to the image's resolution); one set serves livescan slaps
// and scanned ten-print cards alike.
const (
	// standardPPI is the resolution the lengths below are given at.
	standardPPI = 500

	// blockSize is the side of the square blocks whose grey-level spread
	// marks friction ridge skin.
	blockSize = 16
	// contrastFraction is the fraction of the 95th percentile of block
	// contrast (grey standard deviation) that marks a block as skin.
	contrastFraction = 0.35
	// minContrast is the absolute block contrast below which a block is
	// background whatever the percentile says.
	minContrast = 12
	// occlusionLevel is the mean grey below which a block counts as skin
	// whatever its contrast: a punch hole or ink blot over a print.
	occlusionLevel = 50
	// openingWidth is the side, in pixels, of the square opening that
	// removes strokes narrower than a fingertip (card text, handwriting,
	// speckle between the prints).
	openingWidth = 96

	// minTipWidth is the narrowest print, in pixels, kept as a finger.
	minTipWidth = 140
	// minFingerArea is the smallest skin area, in square pixels, kept as a
	// finger candidate.
	minFingerArea = 160 * 160
	// tipMinRatio and tipMaxRatio bound a fingertip's length along the
	// finger, as multiples of its width: the distal crease is looked for
	// between them, and a tip without one visible is cut at the longest.
	// An inked tip rolled flat on a card runs to 1.7 widths with no crease
	// (its ink just fades): the longest must let the print's own end, a
	// pale band like a crease, be found, not cut the print short.
	tipMinRatio, tipMaxRatio = 0.8, 1.8
	// thumbMinRatio and thumbMaxRatio are the same bounds for thumbs: a
	// livescan's flat thumb is wider than long, a card's as long as a finger.
	thumbMinRatio, thumbMaxRatio = 0.5, 1.5
	// creaseSmoothing is the half-window, in profile steps (4 px), of the
	// smoothing of the darkness profile along the finger.
	creaseSmoothing = 2
	// creaseBand is the fraction of the width left out on each side of the
	// darkness profile (the rounded sides of the print).
	creaseBand = 0.2
	// topSkipRatio bounds, as a fraction of the width, the depth below a
	// tip's top where a pale gap under card text is looked for.
	topSkipRatio = 0.2
	// creaseDepth is how pale, as a fraction of the tip's median darkness,
	// a band must be to count as the crease. A crease or a print's end is
	// near paper (0.05–0.25 of the tip's darkness on the labelled slaps'
	// profiles); unevenly inked skin dips to about 0.6, which must not count.
	creaseDepth = 0.5
	// maxWidthRatio is how much wider than the median whole print a print
	// may be before it is taken for two joined prints.
	maxWidthRatio = 1.3
	// maxHandAngle bounds the hand's rotation from upright, in radians.
	maxHandAngle = 0.6
)
