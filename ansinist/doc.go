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
//		pixels, err := img.Decode()     // WSQ, JPEG, PNG, raw; JPEG 2000 → ErrUnsupportedCompression
//	}
//
// Typed accessors: Record.IDC, FingerPositions and Impression (Types 3–6,
// 13–15), EyePosition (Type-17), ImageType (10.003) and SMT (10.040–10.043),
// Image. Any other field: Record.Field(n), Record.Get(n), Record.GetInt(n).
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
// (Type-2), AddFingerprint (Type-14), AddFingerprintType4 (binary Type-4),
// AddFacial (Type-10, face or SMT) and AddIris (Type-17) append records with
// the next IDC, and AddRecord/Record.Set build anything else. Marshal
// computes 1.003 (CNT) from the records and every LEN field:
//
//	tx := ansinist.NewTransaction(ansinist.Header{TransactionType: "CAR", Date: now,
//		Destination: "DAI", Originator: "ORI", ControlNumber: "TCN"})
//	tx.AddText(map[int]string{18: "DOE,JOHN", 22: "19800101", 24: "M"})
//	tx.AddFingerprint(ansinist.Fingerprint{Position: 2, Impression: 1, Width: w, Height: h, Data: wsqBytes})
//	data, err := tx.Marshal()
package ansinist
