// Package ansinist reads and writes ANSI/NIST-ITL 1-2011 transactions in the
// traditional encoding (versions 0200 to 0502): the files that agencies,
// livescan devices and partner systems exchange.
//
// # Model
//
// A Transaction is a list of Records, the Type-1 record first. Tagged
// records (Types 1, 2, 9, 10, 13–21, 98, 99) hold Fields in file order; a
// field is a list of subfields, each a list of items, except the binary data
// field 999 whose bytes are in Field.Data. Binary records (Types 3–8) keep
// their fixed header in Record.Header and their data in Record.Data; Type-7
// and Type-8 data stay opaque.
//
//	tx, err := ansinist.Read(data)          // lenient: violations in tx.Warnings
//	tx, err := ansinist.ReadStrict(data)    // any violation is an error ("10.003: required")
//	name := tx.Get(2, 18)                   // first item of 2.018 in the first Type-2 record
//	for _, r := range tx.RecordsOfType(14) {
//		pos, imp := r.FingerPositions(), r.Impression()
//		img, _ := r.Image()             // size, depth, ppi, compression, bytes
//		pixels, err := img.Decode()     // WSQ, JPEG, lossless JPEG, JPEG 2000, PNG, raw
//	}
//
// Typed accessors: Record.IDC, FingerPositions and Impression (Types 3–6,
// 13–15), FingerprintHeader (binary Types 3–6: IMP, FGP, ISR, HLL, VLL,
// GCA), SignatureHeader (Type-8), EyePosition (Type-17), ImageType
// (10.003: FACE, SCAR, MARK, TATTOO) and SMT (10.040–10.043), Image, and
// Transaction.Biographics (EBTS 2.018 name, 2.019 aliases, 2.020 place of
// birth, 2.021 citizenship, 2.022 date of birth, 2.024 sex). Any other
// field: Record.Field(n), Record.Get(n), Record.GetInt(n), Transaction.Get.
// Summary and ImageName give the one-line description and image file names
// that "huella nist check" and "huella nist extract" print.
//
// # Reading
//
// Records are sliced by their length fields, never by scanning for
// separators, so binary data containing separator bytes is safe. The
// reader tolerates what real files do: 2- and 3-digit field numbers (tag
// text is kept, so unchanged transactions write back byte-identical),
// repeated IDCs, records beyond those CNT lists, repeated fields.
//
// # Writing
//
// NewTransaction starts a transaction from a Header (Type-1 fields); AddText
// and AddBiographics (Type-2), AddFingerprint (Type-14; WSQFingerprint
// compresses a grey image for it), AddFingerprintType4 (binary Type-4),
// AddFacial (Type-10, face or SMT) and AddIris (Type-17) append records with
// the next IDC, and AddRecord/Record.Set build anything else. Marshal
// computes 1.003 (CNT) from the records and every LEN field:
//
//	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: now,
//		Destination: "DAI", Originator: "ORI", ControlNumber: "TCN"})
//	tx.AddBiographics(ansinist.Biographics{Name: "DOE,JOHN", DateOfBirth: "19800101", Sex: "M"}, nil)
//	fp, err := ansinist.WSQFingerprint(2, 1, grayImage, 500) // right index, rolled
//	tx.AddFingerprint(fp)
//	tx.AddIris(ansinist.IrisImage{Eye: 1, Width: w, Height: h, Data: pngBytes})
//	data, err := tx.Marshal()
package ansinist
