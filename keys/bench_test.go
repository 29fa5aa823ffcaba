package keys

import (
	"testing"
)

var benchKey = Tuple{"d", int64(1234567), []byte("some-file-name.txt")}

func BenchmarkPack(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = benchKey.Pack()
	}
}

func BenchmarkUnpack(b *testing.B) {
	packed := benchKey.Pack()
	b.ReportAllocs()
	b.SetBytes(int64(len(packed)))
	for b.Loop() {
		if _, err := Unpack(packed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubspacePack(b *testing.B) {
	s := Sub(Tuple{"fs", int64(1)})
	t := Tuple{"d", int64(1234567), []byte("some-file-name.txt")}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Pack(t)
	}
}
