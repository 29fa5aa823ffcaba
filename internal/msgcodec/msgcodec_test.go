package msgcodec

import (
	"bytes"
	"math"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// Reader converts every msgpack integer form as msgpack's decoder does.
func TestReader_IntegersAsMsgpack(t *testing.T) {
	vals := []any{nil, 0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, uint64(math.MaxUint32) + 1, uint64(math.MaxUint64),
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, int64(math.MinInt32) - 1, int64(math.MinInt64),
		int8(-5), int16(-300), int32(-70000), uint8(200), uint16(60000), uint32(4e9)}
	for _, v := range vals {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := msgpack.NewDecoder(bytes.NewReader(b)).DecodeUint64()
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(b)
		got, ok := r.Uint64()
		if !ok || got != want || !r.Done() {
			t.Fatalf("Uint64 of %v (%x) = %d, %v; msgpack %d", v, b, got, ok, want)
		}
		wantI, _ := msgpack.NewDecoder(bytes.NewReader(b)).DecodeInt64()
		r = NewReader(b)
		if gotI, ok := r.Int64(); !ok || gotI != wantI {
			t.Fatalf("Int64 of %v = %d, %v; msgpack %d", v, gotI, ok, wantI)
		}
	}
	for _, b := range [][]byte{{}, {0xcd, 0x01}, {0xcf, 1, 2, 3}, {0xca, 0, 0, 0, 0}, {0xa1, 'x'}} {
		r := NewReader(b)
		if _, ok := r.Uint64(); ok {
			t.Fatalf("Uint64 accepted %x", b)
		}
	}
}

// Bytes reads bin and str of every width, and the writers' forms.
func TestReader_Bytes(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		v := bytes.Repeat([]byte{'z'}, n)
		for _, enc := range []any{v, string(v)} {
			b, _ := msgpack.Marshal(enc)
			r := NewReader(b)
			got, ok := r.Bytes()
			if !ok || !bytes.Equal(got, v) || got == nil || !r.Done() {
				t.Fatalf("Bytes of %T len %d: %v, len %d", enc, n, ok, len(got))
			}
		}
		if b := AppendBin(nil, v); len(b) != BinSize(v) {
			t.Fatalf("BinSize(%d) = %d, AppendBin wrote %d", n, BinSize(v), len(b))
		}
		want, _ := msgpack.Marshal(v)
		if got := AppendBin(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("AppendBin(len %d) = %x..., msgpack %x...", n, got[:min(8, len(got))], want[:min(8, len(want))])
		}
	}
	r := NewReader([]byte{0xc4, 0x05, 'a'})
	if _, ok := r.Bytes(); ok {
		t.Fatal("Bytes accepted a truncated value")
	}
}
