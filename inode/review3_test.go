package inode

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// review3Edges are records at the edges of every field's range: all zero,
// all maximal, negative times, byte fields at each bin length boundary,
// empty and nil byte fields.
func review3Edges() []*Inode {
	long := func(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }
	out := []*Inode{
		{},
		{Ino: math.MaxUint64, Type: TypeBlock, Mode: math.MaxUint32, Uid: math.MaxUint32, Gid: math.MaxUint32,
			Nlink: math.MaxUint32, Size: math.MaxUint64, Atime: math.MaxInt64, Mtime: math.MaxInt64, Ctime: math.MaxInt64,
			Rdev: math.MaxUint32, Target: long(300), Parent: math.MaxUint64, Name: long(255)},
		{Ino: 1, Type: TypeFile, Atime: math.MinInt64, Mtime: -1, Ctime: -1 << 40},
		{Ino: 2, Type: TypeSymlink, Target: []byte{}, Name: []byte{}},
		{Ino: 3, Type: TypeDir, Target: nil, Name: []byte{0}, Parent: 1},
	}
	for _, n := range []int{1, 31, 32, 255, 256, 4095, 65535, 65536, 100_000} {
		out = append(out, &Inode{Ino: 4, Type: TypeSymlink, Mode: 0o777, Nlink: 1, Target: long(n)})
		out = append(out, &Inode{Ino: 5, Type: TypeDir, Nlink: 2, Parent: 9, Name: long(n)})
	}
	return out
}

// The hand-written encoder writes msgpack.Marshal's bytes for every edge
// value, and Decode reads them back (the fast path and the general decoder
// agree).
func TestReview3_EncodeEdgesMatchMsgpack(t *testing.T) {
	for i, n := range review3Edges() {
		n.V = Version
		want, err := msgpack.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendEncode([]byte{0xee}, n)[1:] // appends, keeps the prefix
		if !bytes.Equal(got, want) {
			t.Fatalf("edge %d: AppendEncode = %x\nmsgpack.Marshal = %x", i, got, want)
		}
		if enc := Encode(n); !bytes.Equal(enc, want) {
			t.Fatalf("edge %d: Encode differs from msgpack.Marshal", i)
		}
		var fast Inode
		if !decodeFast(want, &fast) {
			t.Fatalf("edge %d: the fast path refuses its own encoding", i)
		}
		slow, err := decodeSlow(want)
		if err != nil {
			t.Fatalf("edge %d: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(&fast), normalize(slow)) || !reflect.DeepEqual(normalize(&fast), normalize(n)) {
			t.Fatalf("edge %d:\nwant %+v\nfast %+v\nslow %+v", i, n, fast, slow)
		}
	}
}

// Records written by other msgpack encoders (compact integers, a map16
// header, str instead of bin, extra unknown fields, a future field order)
// decode to the same record.
func TestReview3_DecodeOtherWriters(t *testing.T) {
	for i, n := range review3Edges() {
		n.V = Version
		if !n.Type.Valid() {
			continue
		}
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.UseCompactInts(true)
		if err := enc.Encode(n); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("edge %d compact: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(n)) {
			t.Fatalf("edge %d compact:\nwant %+v\ngot  %+v", i, n, got)
		}
		// A map with a string target, an unknown field and reversed order,
		// 17 keys: a map16 header.
		m := map[string]any{
			"nm": string(n.Name), "p": n.Parent, "l": string(n.Target), "r": n.Rdev, "c": n.Ctime, "mt": n.Mtime,
			"a": n.Atime, "s": n.Size, "n": n.Nlink, "g": n.Gid, "u": n.Uid, "m": n.Mode, "t": uint8(n.Type),
			"i": n.Ino, "v": n.V, "zz": []int{1, 2, 3}, "future": map[string]int{"x": 1},
		}
		b, err := msgpack.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0xde {
			t.Fatalf("expected a map16 header, got %x", b[0])
		}
		got, err = Decode(b)
		if err != nil {
			t.Fatalf("edge %d map16: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(n)) {
			t.Fatalf("edge %d map16:\nwant %+v\ngot  %+v", i, n, got)
		}
	}
}

// Every strict prefix of a valid record, and the record with a byte after
// it, is an error wrapping ErrCorrupt, never a panic or a silent success.
func TestReview3_TruncatedRecordsFail(t *testing.T) {
	for i, n := range review3Edges() {
		n.V = Version
		if !n.Type.Valid() || len(n.Target)+len(n.Name) > 600 {
			continue
		}
		b := Encode(n)
		for cut := 0; cut < len(b); cut++ {
			if _, err := Decode(b[:cut]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("edge %d cut at %d of %d: err %v", i, cut, len(b), err)
			}
			var into Inode
			into.Target = []byte("stale")
			if err := DecodeInto(b[:cut], &into); err == nil {
				t.Fatalf("edge %d cut at %d: DecodeInto accepted it", i, cut)
			}
		}
		if _, err := Decode(append(b[:len(b):len(b)], 0xc0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("edge %d: a trailing byte was accepted: %v", i, err)
		}
	}
	// Lengths that point past the end, or overflow int32.
	for _, b := range [][]byte{
		{0x81, 0xa1, 'l', 0xc5, 0x01},
		{0x8f},
		{0x81, 0xbf},
		{0x81, 0xa1, 'i', 0xcf, 1, 2, 3},
	} {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode(%x) = %v, want ErrCorrupt", b, err)
		}
	}
}

// DecodeInto overwrites every field: a record reused for a second decode
// keeps nothing of the first (List and the meta batch readers reuse one).
func TestReview3_DecodeIntoClearsTheRecord(t *testing.T) {
	full := review3Edges()[1]
	full.Type = TypeSymlink
	small := &Inode{Ino: 7, Type: TypeFile, Nlink: 1}
	var n Inode
	if err := DecodeInto(Encode(full), &n); err != nil {
		t.Fatal(err)
	}
	if err := DecodeInto(Encode(small), &n); err != nil {
		t.Fatal(err)
	}
	small.V = Version
	if !reflect.DeepEqual(normalize(&n), normalize(small)) {
		t.Fatalf("after reuse: %+v, want %+v", n, small)
	}
}

// The byte fields a decode returns are the caller's: they do not alias the
// encoded record (the engine's value), so a later change of the record's
// bytes does not reach a decoded symlink target or name.
func TestReview3_DecodedBytesDoNotAliasTheRecord(t *testing.T) {
	n := &Inode{Ino: 9, Type: TypeSymlink, Mode: 0o777, Nlink: 1, Target: []byte("target/of/link"), Name: []byte("nm")}
	b := Encode(n)
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if string(got.Target) != "target/of/link" || string(got.Name) != "nm" {
		t.Fatalf("decoded fields alias the record: %q %q", got.Target, got.Name)
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A record of a few bytes whose symlink target or name claims a huge
// length is ErrCorrupt, and decoding it allocates about what the record
// holds, not the claimed length. FAILS at 45263fc (and before it): the
// fast path declines a length past the end, and the general decoder's
// dec.DecodeBytes (msgpack's readN) allocates and zeroes the claimed
// length up front, up to 4 GiB for an 8-byte record (81a16cc6ffffffff:
// ~20 s of memclr here, a fatal out-of-memory on a smaller machine;
// meta.Check decodes every record, a meta server whatever the store
// holds). The claims below are kept small enough to fail quickly.
func TestReview3_HugeClaimedLengthDoesNotAllocate(t *testing.T) {
	for _, b := range [][]byte{
		{0x81, 0xa1, 'l', 0xc6, 0x04, 0, 0, 0, 'x'},           // bin32, 64 MiB
		{0x81, 0xa2, 'n', 'm', 0xc6, 0x02, 0, 0, 0, 'x'},      // bin32, 32 MiB
		{0x81, 0xa1, 'l', 0xdb, 0x02, 0, 0, 0, 'x'},           // str32, 32 MiB
		{0x81, 0xa1, 'l', 0xc5, 0xff, 0xff},                   // bin16: small, decoded anyway
		{0x82, 0xa1, 'x', 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00}, // an unknown field: skipped in chunks
	} {
		var err error
		n := allocated(func() { _, err = Decode(b) })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode(%x) = %v, want ErrCorrupt", b, err)
		}
		if n > 4<<20 {
			t.Errorf("Decode(%x) of a %d-byte record allocated %d MiB", b, len(b), n>>20)
		}
	}
}
