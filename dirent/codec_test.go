package dirent

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/vmihailenco/msgpack/v5"
)

// The hand-written encoder writes exactly what msgpack writes by reflection
// for the tagged struct: entries stay in the format already on disk.
func TestEncode_MatchesMsgpackMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	u64 := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return uint64(r.IntN(300))
		case 2:
			return math.MaxUint64
		}
		return r.Uint64() >> r.IntN(64)
	}
	for i := 0; i < 3000; i++ {
		e := &Entry{V: Version, Ino: u64(), Type: inode.Type(r.IntN(9)), Request: u64()}
		want, err := msgpack.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got := Encode(e)
		if !bytes.Equal(got, want) {
			t.Fatalf("Encode(%+v)\n got %x\nwant %x", e, got, want)
		}
		if len(got) > encodedSize {
			t.Fatalf("encodedSize %d below the encoding's %d bytes", encodedSize, len(got))
		}
		if e.Ino == 0 || !e.Type.Valid() {
			continue
		}
		d, err := Decode(got)
		if err != nil {
			t.Fatal(err)
		}
		if *d != *e {
			t.Fatalf("round trip: got %+v, want %+v", d, e)
		}
	}
}

// FuzzDecodeFast: whenever the fast path accepts bytes, the general
// decoder accepts them too and yields the same entry.
func FuzzDecodeFast(f *testing.F) {
	f.Add(Encode(&Entry{Ino: 5, Type: inode.TypeFile, Request: 1 << 63}))
	f.Add(Encode(&Entry{Ino: 1 << 40, Type: inode.TypeDir}))
	b, _ := msgpack.Marshal(map[string]any{"v": 1, "i": -1, "t": uint16(2), "q": nil})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Entry
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

// entryName agrees with keys.Unpack on every key it accepts, and accepts
// every key Layout.Dirent packs.
func FuzzEntryName(f *testing.F) {
	l := keys.NewLayout(keys.Sub(keys.Tuple{"fs"}))
	for _, name := range []string{"a", "", "\x00", "a\x00\xffb", "\xff\x00", "long name"} {
		f.Add(uint64(7), []byte(name), []byte{})
	}
	f.Add(uint64(1<<40), []byte("x"), []byte{0x00, 0xff})
	f.Fuzz(func(t *testing.T, parent uint64, name, tail []byte) {
		begin, _ := l.DirentRange(parent)
		prefix := begin[:len(begin)-1]
		k := l.Dirent(parent, name)
		got, ok := entryName(k, prefix)
		if !ok || !bytes.Equal(got, name) {
			t.Fatalf("entryName(%x) = %q, %v; want %q", k, got, ok, name)
		}
		// Arbitrary bytes after the prefix: when accepted, Unpack agrees.
		k = append(append(append([]byte{}, prefix...), 0x01), append(name, tail...)...)
		got, ok = entryName(k, prefix)
		if !ok {
			return
		}
		tup, err := l.Root().Unpack(k)
		if err != nil || len(tup) != 3 {
			t.Fatalf("entryName accepted %x, Unpack: %v, %v", k, tup, err)
		}
		if want, _ := tup[2].([]byte); !bytes.Equal(got, want) {
			t.Fatalf("entryName(%x) = %q, Unpack gives %q", k, got, want)
		}
	})
}
