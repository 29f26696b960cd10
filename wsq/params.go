package wsq

// Constants of the FBI WSQ specification (IAFIS-IC-0110 v3.1) and the tuned
// choices of the encoder, in one place.

// Markers of the WSQ byte stream.
const (
	markerSOI = 0xFFA0 // start of image
	markerEOI = 0xFFA1 // end of image
	markerSOF = 0xFFA2 // start of frame
	markerSOB = 0xFFA3 // start of block
	markerDTT = 0xFFA4 // define transform table
	markerDQT = 0xFFA5 // define quantisation table
	markerDHT = 0xFFA6 // define Huffman table(s)
	markerDRT = 0xFFA7 // define restart interval
	markerCOM = 0xFFA8 // comment
)

const (
	// numSubbands is the number of subbands of the WSQ decomposition.
	numSubbands = 64
	// numCodedSubbands is how many subbands a file carries; the four
	// highest-frequency ones (60–63) are always dropped, and decoders (the
	// NIST reference among them) ignore their quantiser entries.
	numCodedSubbands = 60
	// maxHuffBits is the longest Huffman code length.
	maxHuffBits = 16
	// maxHuffValues is the largest number of symbols a Huffman table holds.
	maxHuffValues = 256
	// maxHuffTables is the number of Huffman table slots (ids 0..7).
	maxHuffTables = 8
	// maxFilterTaps bounds the transform filters a file may declare.
	maxFilterTaps = 31
)

// Huffman symbol alphabet of the coefficient stream.
const (
	symMaxZeroRun   = 100 // symbols 1..100: a run of that many zeros
	symPos8         = 101 // positive value in the next 8 bits
	symNeg8         = 102 // negative value in the next 8 bits
	symPos16        = 103 // positive value in the next 16 bits
	symNeg16        = 104 // negative value in the next 16 bits
	symZeroRun8     = 105 // zero run whose length is in the next 8 bits
	symZeroRun16    = 106 // zero run whose length is in the next 16 bits
	symValueOffset  = 180 // symbols 107..254 carry value = symbol - 180
	maxInlinePos    = 74  // largest value coded inline (symbol 254)
	maxInlineNeg    = -73 // smallest value coded inline (symbol 107)
	maxCoefficient  = 0xFFFF
	maxZeroRunField = 0xFFFF
)

// Default analysis filters: the symmetric 9-tap low-pass and 7-tap high-pass
// filters of the specification, listed from the centre tap outwards.
var (
	defaultLowPass  = []float64{0.852698679009, 0.377402855613, -0.110624404418, -0.023849465020, 0.037828455507}
	defaultHighPass = []float64{0.788485616406, -0.418092273222, -0.040689417609, 0.064538882629}
)

// Encoder parameters.
const (
	// DefaultBitRate is the FBI's target of 0.75 bit per pixel (about 10.7:1);
	// the encoder achieves it (the reference encoder's allocation gives
	// 0.55–0.65 for it).
	DefaultBitRate = 0.75
	// DefaultPPI is the resolution written when the caller gives none.
	DefaultPPI = 500
	// binCenter is the quantiser bin centre C written to the DQT, the
	// reference encoder's 0.44; the zero bins Z set the reconstruction.
	binCenter = 0.44
	// zeroThreshold is θ/Q: coefficients below θ quantise to zero. Above
	// the reference encoder's 0.6 (Z = 1.2 Q), it trades the costliest
	// isolated ±1 values for finer steps; chosen on FVC2002 DB1 B
	// (0.6–1.0 measured) and checked on DB2–DB4 and NIST images.
	zeroThreshold = 0.8
	// roundingOffset is ρ: a coefficient at or above θ maps to
	// max(1, floor((|c|-δ)/Q + ρ)); below 0.5 it leans to the smaller value,
	// which costs fewer bits (chosen with zeroThreshold).
	roundingOffset = 0.4
	// initialOffset is the first δ/Q (reconstruction Q·p + δ of p ≥ 1),
	// the reference encoder's Z/2 - C·Q = 0.6 - 0.44; each rate pass then
	// moves δ to the centroid of the nonzero bins of its subband.
	initialOffset = 0.16
	// blockSplit1 and blockSplit2 split the coefficient stream into the three
	// blocks of the reference encoder (subbands 0–18, 19–51, 52–63).
	blockSplit1 = 19
	blockSplit2 = 52
)
