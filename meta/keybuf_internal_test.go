package meta

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fsmeta/fsmeta/keys"
	"github.com/vmihailenco/msgpack/v5"
)

// The keys the arena builds are byte for byte those of keys.Layout.
func TestKeyspace_MatchesLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, root := range []keys.Subspace{keys.Sub(keys.Tuple{"fsmeta"}), keys.Sub(keys.Tuple{"a\x00b", int64(7)}), keys.FromBytes([]byte{0xfe})} {
		l := keys.NewLayout(root)
		k := newKeyspace(l)
		for i := 0; i < 2000; i++ {
			ino := []uint64{0, 1, 255, 256, 1 << 40, math.MaxUint64, r.Uint64() >> r.IntN(64)}[r.IntN(7)]
			name := make([]byte, r.IntN(12))
			for j := range name {
				name[j] = []byte{0, 0xff, 'a', 1}[r.IntN(4)]
			}
			for _, a := range []*arena{{}, {chunk: 64}, {b: make([]byte, 0, 3), chunk: 512}} {
				check := func(what string, got, want []byte) {
					t.Helper()
					if !bytes.Equal(got, want) {
						t.Fatalf("%s(%d, %q): got %x, want %x", what, ino, name, got, want)
					}
					if cap(got) != len(got) {
						t.Fatalf("%s: capacity %d beyond length %d", what, cap(got), len(got))
					}
				}
				check("inode", a.inode(&k, ino), l.Inode(ino))
				check("dirent", a.dirent(&k, ino, name), l.Dirent(ino, name))
				check("direntString", a.direntString(&k, ino, string(name)), l.Dirent(ino, name))
				for _, f := range []string{statEntries, statSubdirs, statMtime, statCtime} {
					check("stat", a.stat(&k, ino, f), l.Stat(ino, f))
				}
				check("request", a.request(&k, ino, ^ino), l.Request(ino, ^ino))
				check("deferred", a.deferred(&k, ino), l.Deferred(ino))
				b, e := a.span(k.handle, ino)
				wb, we := l.HandleRange(ino)
				check("handle range begin", b, wb)
				check("handle range end", e, we)
				b, e = a.span(k.xattr, ino)
				wb, we = l.XattrRange(ino)
				check("xattr range begin", b, wb)
				check("xattr range end", e, we)
				b, e = a.span(k.lock, ino)
				wb, we = l.LockRange(ino, "")
				check("lock range begin", b, wb)
				check("lock range end", e, we)
				b, e = a.span(k.stat, ino)
				wb, we = l.StatRange(ino)
				check("stat range begin", b, wb)
				check("stat range end", e, we)
				b, e = a.span(k.dirent, ino)
				wb, we = l.DirentRange(ino)
				check("dirent range begin", b, wb)
				check("dirent range end", e, we)
				check("le64", a.le64(int64(ino)), le64(int64(ino)))
			}
		}
	}
}

// Slices handed out earlier keep their bytes while the arena grows.
func TestArena_EarlierSlicesStay(t *testing.T) {
	a := arena{chunk: 16}
	var got [][]byte
	var want [][]byte
	for i := 0; i < 100; i++ {
		v := a.le64(int64(i) * 0x0101010101)
		got = append(got, v)
		want = append(want, le64(int64(i)*0x0101010101))
		_ = append(v, 0xee) // an append by a holder must not reach the next slice
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("slice %d: got %x, want %x", i, got[i], want[i])
		}
	}
}

// Request records are written as msgpack writes the struct, and decoded
// alike by hand and by msgpack.
func TestRequestRecord_MatchesMsgpack(t *testing.T) {
	for _, r := range []request{{}, {Expiry: -1}, {Expiry: math.MaxInt64, Ino: 1}, {Expiry: 5, Ino: math.MaxUint64}} {
		want, err := msgpack.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		got := appendRequest(nil, r)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendRequest(%+v) = %x, want %x", r, got, want)
		}
		d, err := decodeRequest(got)
		if err != nil || d != r {
			t.Fatalf("decodeRequest(%x) = %+v, %v; want %+v", got, d, err, r)
		}
	}
	// Another encoding falls back to msgpack.
	b, _ := msgpack.Marshal(map[string]any{"e": int8(3), "i": uint16(9), "x": "future"})
	d, err := decodeRequest(b)
	if err != nil || d != (request{Expiry: 3, Ino: 9}) {
		t.Fatalf("decodeRequest(%x) = %+v, %v", b, d, err)
	}
	if _, err := decodeRequest([]byte{0xc1}); err == nil {
		t.Fatal("decodeRequest accepted garbage")
	}
}
