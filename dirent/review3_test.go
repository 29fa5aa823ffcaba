package dirent

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"runtime"
	"sort"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/vmihailenco/msgpack/v5"
)

// review3Names are names whose tuple encoding needs escapes or is long:
// 0x00 (escaped as 0x00 0xff), 0xff, 0x00 0xff pairs, non-UTF-8, a name
// that is only the escape, and long names.
func review3Names() [][]byte {
	return [][]byte{
		{0x00}, {0x00, 0x00}, {0x00, 0xff}, {0xff}, {0xff, 0x00}, {0xff, 0xff, 0x00, 0x00},
		{'a', 0x00, 'b'}, {'a', 0x00}, {0x01}, {0x01, 0x00, 0x01}, {0xc3, 0x28}, {0xfe, 0xfe, 0xff},
		[]byte("plain"), bytes.Repeat([]byte{0xff}, 255), bytes.Repeat([]byte{0x00}, 255),
		bytes.Repeat([]byte{'n'}, 4000),
	}
}

// List returns, byte for byte, every stored name, escapes and all, in key
// order, page by page, under layouts whose root itself ends in bytes that
// look like tuple codes.
func TestReview3_ListEscapedNames(t *testing.T) {
	ctx := context.Background()
	for _, root := range []keys.Subspace{keys.Sub(keys.Tuple{"fs"}), keys.FromBytes([]byte{0x01}), keys.FromBytes([]byte{0x02, 0x00, 0xff}), keys.FromBytes(nil)} {
		db := memkv.New(memkv.Options{})
		l := keys.NewLayout(root)
		names := review3Names()
		for _, parent := range []uint64{1, 255, math.MaxUint64} {
			if err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				for i, n := range names {
					Store(tx, l, parent, n, &Entry{Ino: uint64(i + 1), Type: inode.TypeFile, Request: uint64(i)})
				}
				// A neighbour directory's entries must not show up.
				Store(tx, l, parent-1, []byte("other"), &Entry{Ino: 99, Type: inode.TypeDir})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := make([][]byte, len(names))
			copy(want, names)
			sort.Slice(want, func(i, j int) bool {
				return bytes.Compare(l.Dirent(parent, want[i]), l.Dirent(parent, want[j])) < 0
			})
			var got []Named
			var after []byte
			for pages := 0; ; pages++ {
				if pages > len(names)+1 {
					t.Fatal("List does not end")
				}
				var ns []Named
				var more bool
				err := kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
					var err error
					ns, more, err = List(ctx, tx, l, parent, after, 3, true)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ns...)
				if !more || len(ns) == 0 {
					break
				}
				after = ns[len(ns)-1].Name
			}
			if len(got) != len(want) {
				t.Fatalf("root %x parent %d: %d entries, want %d", root.Bytes(), parent, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Name, want[i]) {
					t.Fatalf("root %x parent %d entry %d: name %x, want %x", root.Bytes(), parent, i, got[i].Name, want[i])
				}
				idx := -1
				for j, n := range names {
					if bytes.Equal(n, want[i]) {
						idx = j
					}
				}
				if got[i].Ino != uint64(idx+1) || got[i].Request != uint64(idx) || got[i].Type != inode.TypeFile || got[i].V != Version {
					t.Fatalf("entry %x: %+v", want[i], got[i].Entry)
				}
			}
			// The names are the caller's: changing one changes nothing else.
			for i := range got {
				for j := range got[i].Name {
					got[i].Name[j] = 'X'
				}
			}
			_ = kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
				ns, _, err := List(ctx, tx, l, parent, nil, 0, false)
				if err != nil {
					t.Fatal(err)
				}
				for i := range ns {
					if !bytes.Equal(ns[i].Name, want[i]) {
						t.Fatalf("after changing returned names: %x, want %x", ns[i].Name, want[i])
					}
				}
				return nil
			})
		}
		_ = db.Close()
	}
}

// entryName on every key Layout.Dirent packs gives the name back, and on
// keys of other shapes under the prefix either agrees with keys.Unpack or
// declines (List then asks Unpack).
func TestReview3_EntryNameShapes(t *testing.T) {
	l := keys.NewLayout(keys.Sub(keys.Tuple{"fs"}))
	begin, _ := l.DirentRange(42)
	prefix := begin[:len(begin)-1]
	for _, n := range review3Names() {
		got, ok := entryName(l.Dirent(42, n), prefix)
		if !ok || !bytes.Equal(got, n) {
			t.Fatalf("entryName(Dirent(%x)) = %x, %v", n, got, ok)
		}
	}
	for _, k := range [][]byte{
		append(append([]byte{}, prefix...), 0x01),                    // unterminated, empty
		append(append([]byte{}, prefix...), 0x01, 'a'),               // unterminated
		append(append([]byte{}, prefix...), 0x01, 'a', 0x00, 0x14),   // a fourth element
		append(append([]byte{}, prefix...), 0x01, 0x00, 0xff),        // escape, no terminator
		append(append([]byte{}, prefix...), 0x02, 'a', 0x00),         // a string, not bytes
		append(append([]byte{}, prefix[:len(prefix)-1]...), 0x01, 0), // another parent's prefix
	} {
		got, ok := entryName(k, prefix)
		if !ok {
			continue
		}
		tup, err := l.Root().Unpack(k)
		if err != nil || len(tup) != 3 {
			t.Fatalf("entryName accepted %x (%x) that Unpack rejects: %v %v", k, got, tup, err)
		}
		if want, _ := tup[2].([]byte); !bytes.Equal(got, want) {
			t.Fatalf("entryName(%x) = %x, Unpack %x", k, got, want)
		}
	}
}

// Entries at the edges encode as msgpack.Marshal does, decode back, and
// every truncation is ErrCorrupt.
func TestReview3_EntryEdges(t *testing.T) {
	for _, e := range []Entry{
		{Ino: 1, Type: inode.TypeFile},
		{Ino: math.MaxUint64, Type: inode.TypeBlock, Request: math.MaxUint64},
		{Ino: 1 << 32, Type: inode.TypeDir, Request: 1},
	} {
		e.V = Version
		want, err := msgpack.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		c := e
		if got := Encode(&c); !bytes.Equal(got, want) {
			t.Fatalf("Encode(%+v) = %x, msgpack %x", e, got, want)
		}
		d, err := Decode(want)
		if err != nil || !reflect.DeepEqual(*d, e) {
			t.Fatalf("Decode: %+v %v", d, err)
		}
		for cut := 0; cut < len(want); cut++ {
			if _, err := Decode(want[:cut]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("cut %d: %v", cut, err)
			}
		}
	}
	// Zero inode and an invalid type stay errors on the fast path.
	for _, e := range []Entry{{Ino: 0, Type: inode.TypeFile}, {Ino: 3, Type: 0}, {Ino: 3, Type: 200}} {
		if _, err := Decode(Encode(&e)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode(%+v) = %v, want ErrCorrupt", e, err)
		}
	}
}

// An entry record whose unknown field claims 4 GiB is ErrCorrupt and costs
// no more than a chunk (the general decoder skips unknown fields in 1 MiB
// reads; entries have no byte fields that msgpack's DecodeBytes would
// allocate in full, unlike inodes: see inode's
// TestReview3_HugeClaimedLengthDoesNotAllocate).
func TestReview3_HugeClaimedLengthDoesNotAllocate(t *testing.T) {
	b := []byte{0x84, 0xa1, 'v', 0x01, 0xa1, 'i', 0x05, 0xa1, 't', 0x01, 0xa1, 'z', 0xc6, 0xff, 0xff, 0xff, 0xff, 'x'}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decode(b)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Decode(%x) = %v, want ErrCorrupt", b, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Fatalf("Decode of an %d-byte record allocated %d MiB", len(b), n>>20)
	}
}
