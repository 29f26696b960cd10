package iso19794_test

import (
	"testing"

	"github.com/huella-abis/huella/iso19794"
)

func benchmarkDecode(b *testing.B, rel string, decode func([]byte) error) {
	data := mustRead(b, rel)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFingerISO2005SecuGen(b *testing.B) {
	benchmarkDecode(b, "fingerprint/fvc2002/DB1_B/iso19794-2-secugen/101_1.iso", func(d []byte) error {
		_, err := iso19794.Iso19794p2v2005Codec{}.Decode(d)
		return err
	})
}

func BenchmarkDecodeFingerANSI2004(b *testing.B) {
	benchmarkDecode(b, libbiomeval+"/fmr.ansi2004", func(d []byte) error {
		_, err := iso19794.Ansi378v2004Codec{}.Decode(d)
		return err
	})
}

func BenchmarkDecodeFingerANSI2007(b *testing.B) {
	benchmarkDecode(b, libbiomeval+"/fmr.ansi2007", func(d []byte) error {
		_, err := iso19794.Ansi378v2007Codec{}.Decode(d)
		return err
	})
}

func BenchmarkDecodeFace(b *testing.B) {
	benchmarkDecode(b, libbiomeval+"/face01.iso2005", func(d []byte) error {
		_, err := iso19794.Iso19794p5v2005Codec{}.Decode(d)
		return err
	})
}

func BenchmarkDecodeIris(b *testing.B) {
	benchmarkDecode(b, libbiomeval+"/iris01.iso2011", func(d []byte) error {
		_, err := iso19794.Iso19794p6v2011Codec{}.Decode(d)
		return err
	})
}

func BenchmarkEncodeFingerISO2005SecuGen(b *testing.B) {
	data := mustRead(b, "fingerprint/fvc2002/DB1_B/iso19794-2-secugen/101_1.iso")
	rec, err := iso19794.Iso19794p2v2005Codec{}.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (iso19794.Iso19794p2v2005Codec{}).Encode(rec); err != nil {
			b.Fatal(err)
		}
	}
}
