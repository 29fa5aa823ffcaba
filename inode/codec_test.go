package inode

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// randInode returns a record with each field set or zero at random, the
// integers drawn from the edges of their ranges.
func randInode(r *rand.Rand) *Inode {
	u64 := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return 0
		case 1:
			return uint64(r.IntN(300))
		case 2:
			return math.MaxUint64 - uint64(r.IntN(3))
		default:
			return r.Uint64() >> r.IntN(64)
		}
	}
	bin := func() []byte {
		switch r.IntN(6) {
		case 0:
			return nil
		case 1:
			return []byte{}
		case 2:
			return bytes.Repeat([]byte{'x'}, 255+r.IntN(3))
		case 3:
			return bytes.Repeat([]byte{0}, 65535+r.IntN(3))
		default:
			b := make([]byte, r.IntN(40))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}
	}
	return &Inode{
		Ino: u64(), Type: Type(1 + r.IntN(7)), Mode: uint32(u64()), Uid: uint32(u64()), Gid: uint32(u64()),
		Nlink: uint32(u64()), Size: u64(), Atime: int64(u64()), Mtime: int64(u64()), Ctime: int64(u64()),
		Rdev: uint32(u64()), Target: bin(), Parent: u64(), Name: bin(),
	}
}

// The hand-written encoder writes exactly what msgpack writes by reflection
// for the tagged struct: records stay in the format already on disk.
func TestEncode_MatchesMsgpackMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		n := randInode(r)
		n.V = Version
		want, err := msgpack.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		if got := Encode(n); !bytes.Equal(got, want) {
			t.Fatalf("Encode(%+v)\n got %x\nwant %x", n, got, want)
		}
		if got := AppendEncode([]byte("prefix"), n); !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("AppendEncode does not append the encoding")
		}
		if got := len(want); got > encodedSize(n) {
			t.Fatalf("encodedSize %d below the encoding's %d bytes", encodedSize(n), got)
		}
		d, err := Decode(want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(d), normalize(n)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", d, n)
		}
	}
}

// Decode's fast path reads other integer widths and nil, as msgpack does.
func TestDecode_OtherIntegerWidths(t *testing.T) {
	b, err := msgpack.Marshal(map[string]any{
		"v": int8(1), "i": uint16(500), "t": int64(2), "m": int16(-1), "n": nil, "a": int32(-7),
		"mt": uint32(1 << 31), "c": int8(-3), "s": -1, "nm": "name",
	})
	if err != nil {
		t.Fatal(err)
	}
	var fast Inode
	if !decodeFast(b, &fast) {
		t.Fatalf("fast path refused %x", b)
	}
	slow, err := decodeSlow(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, *slow) {
		t.Fatalf("fast %+v\nslow %+v", fast, slow)
	}
	if fast.Mode != math.MaxUint32 || fast.Size != math.MaxUint64 || fast.Atime != -7 || string(fast.Name) != "name" {
		t.Fatalf("unexpected conversions: %+v", fast)
	}
}

// FuzzDecodeFast: whenever the fast path accepts bytes, the general
// decoder accepts them too and yields the same record.
func FuzzDecodeFast(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		n := randInode(r)
		n.Target, n.Name = n.Target[:min(len(n.Target), 40)], n.Name[:min(len(n.Name), 40)]
		f.Add(Encode(n))
	}
	f.Add([]byte{0x81, 0xa1, 'l', 0xc4, 0x00})
	f.Add([]byte{0x81, 0xa1, 'l', 0xa0})
	f.Add([]byte{0x81, 0xa1, 'i', 0xd1, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Inode
		if !decodeFast(b, &fast) {
			return
		}
		slow, err := decodeSlow(b)
		if err != nil {
			t.Fatalf("fast path accepted %x, msgpack fails: %v", b, err)
		}
		if !reflect.DeepEqual(fast, *slow) {
			t.Fatalf("%x:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}
