// Package iso19794 reads and writes biometric data interchange records: the
// byte formats in which fingerprint minutiae, face images and iris images
// travel between systems, cards and passports.
//
// Each codec is named by its standard and version and has a Decode and an
// Encode that read back equal:
//
//   - Finger minutiae records ("FMR\0"), decoded into one common
//     FingerMinutiaeRecord: Iso19794p2v2005Codec (ISO/IEC 19794-2:2005),
//     Ansi378v2004Codec (ANSI INCITS 378-2004) and Ansi378v2007Codec (the
//     2007 edition, version "030", which moves image size and resolution into
//     each finger view). DecodeFingerMinutiae recognises which one it is given.
//     Minutia angles keep their raw unit (360/256 degree for ISO, 2 degrees
//     for ANSI); FingerFormat.AngleDegrees and Minutia.Radians convert them.
//     Extended data blocks are kept as raw bytes; ridge counts and cores and
//     deltas decode on demand (ExtendedDataBlock.RidgeCounts, .CoresDeltas).
//   - Finger image records ("FIR\0" "010\0"): Iso19794p4v2005Codec, into
//     FingerImageRecord with the capture device, acquisition level,
//     resolutions, pixel depth and encoding of the record and one
//     FingerImageView per image (position, view, quality, impression, size)
//     with the image bytes (raw, WSQ, JPEG, JPEG 2000 or PNG) kept as they are.
//   - Finger image records of the 2011 edition ("FIR\0" "020\0"):
//     Iso19794p4v2011Codec, into FingerImageRecord2011 with one
//     FingerImageRepresentation per image, each with its own capture date,
//     device, quality and certification blocks, resolutions, bit depth and
//     encoding (FingerImageCompression2011, whose codes from 4 on differ
//     from 2005's; Encoding maps them), the image bytes and any extended
//     data blocks kept as they are.
//   - Face image records ("FAC\0" "010\0"): Iso19794p5v2005Codec, into
//     FaceRecord with the facial information (gender, eye and hair colour,
//     pose angles, feature points), the image information and the image bytes
//     (JPEG or JPEG 2000) kept as they are.
//   - Face image records of the 2011 edition ("FAC\0" "030\0"):
//     Iso19794p5v2011Codec, into FaceRecord2011 with one FaceRepresentation
//     per image (capture date, device, quality blocks, facial information
//     with subject height, landmark points with a z, image information with
//     spatial sampling rate, post-acquisition processing, cross reference
//     and colour space) and the image bytes (JPEG, JPEG 2000 or PNG; data
//     type codes FaceImageDataType2011, not 2005's). 3-D representations
//     are refused with ErrUnsupportedRecord.
//   - Iris image records ("IIR\0" "020\0"): Iso19794p6v2011Codec, into
//     IrisRecord with one IrisRepresentation per image (capture date, device,
//     quality blocks, eye label, image type and format, size, bit depth,
//     range, roll angle and its uncertainty, iris centre and diameter) and the
//     image bytes (raw, JPEG 2000 or PNG) kept as they are.
//   - Iris image records of the 2005 edition ("IIR\0" "010\0", ICAO
//     passports' DG4): Iso19794p6v2005Codec, into IrisRecord2005 with one
//     header for all images (device, image properties, iris diameter,
//     format, size, depth) and per eye its images (number, quality,
//     rotation) with the bytes (raw, JPEG, JPEG-LS or JPEG 2000) kept as
//     they are. Its format codes (IrisImageFormat2005) are not 2011's.
//
// Decoders never panic and never allocate more than a small multiple of their
// input, whatever the length and count fields claim: every length is checked
// against the bytes that are really there, and a short or inconsistent record
// gives an error wrapping ErrTruncated or ErrMalformed. Real-world writers are
// not always exact about the lengths they declare (NIST's own libbiomeval
// samples are not), so by default a decoder accepts a length field that
// disagrees with the content when the content itself is unambiguous; set
// Strict on a codec to reject such records instead. Encoders always write
// consistent lengths.
//
// The package depends on nothing but the standard library, so the finger,
// face and iris engines can all import it.
package iso19794
