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

// Encoder parameters (the values of the FBI reference encoder).
const (
	// DefaultBitRate is the FBI's target of 0.75 bit per pixel (about 15:1).
	DefaultBitRate = 0.75
	// DefaultPPI is the resolution written when the caller gives none.
	DefaultPPI = 500
	// binCenter is the quantiser bin centre C written to the DQT.
	binCenter = 0.44
	// zeroBinFactor sets the zero bin: Z = zeroBinFactor * Q.
	zeroBinFactor = 1.2
	// varianceThreshold: subbands whose variance is below it are not coded.
	varianceThreshold = 1.01
	// blockSplit1 and blockSplit2 split the coefficient stream into the three
	// blocks of the reference encoder (subbands 0–18, 19–51, 52–63).
	blockSplit1 = 19
	blockSplit2 = 52
)

// subbandWeight holds the perceptual weights A_k of the bit allocation for
// subbands 52–59; every other subband has weight 1.
var subbandWeight = map[int]float64{
	52: 1.32, 53: 1.08, 54: 1.42, 55: 1.08,
	56: 1.32, 57: 1.42, 58: 1.08, 59: 1.08,
}
