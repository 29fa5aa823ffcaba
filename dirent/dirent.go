// Package dirent is the directory entry record of fsmeta: name → child
// inode, its msgpack codec, its key, and helpers that load, store and list
// entries inside a caller's transaction.
package dirent

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
)

// Version is the record version written by this code.
const Version = 1

// Entry is the stored value of a directory entry. Request is the id of the
// request that wrote it, so that a retry after an unknown commit result
// recognises its own success.
type Entry struct {
	V       uint8      `msgpack:"v"`
	Ino     uint64     `msgpack:"i"`
	Type    inode.Type `msgpack:"t"`
	Request uint64     `msgpack:"q,omitempty"`
}

// ErrCorrupt is wrapped by decoding errors.
var ErrCorrupt = errors.New("dirent: corrupt record")

// Encode returns the msgpack form of e in a new slice (see AppendEncode).
func Encode(e *Entry) []byte {
	return AppendEncode(make([]byte, 0, encodedSize), e)
}

// Decode parses an entry; garbage, bytes after the record, a missing
// version or an invalid type or inode are errors wrapping ErrCorrupt.
func Decode(b []byte) (*Entry, error) {
	e := new(Entry)
	if err := DecodeInto(b, e); err != nil {
		return nil, err
	}
	return e, nil
}

// DecodeInto is Decode into *e, which it overwrites, for callers that keep
// the entry on the stack.
func DecodeInto(b []byte, e *Entry) error {
	*e = Entry{}
	if !decodeFast(b, e) {
		v, err := decodeSlow(b)
		if err != nil {
			return err
		}
		*e = *v
	}
	if e.V == 0 || e.V > Version {
		return fmt.Errorf("%w: record version %d (this code reads 1..%d)", ErrCorrupt, e.V, Version)
	}
	if !e.Type.Valid() || e.Ino == 0 {
		return fmt.Errorf("%w: entry to inode %d of type %d", ErrCorrupt, e.Ino, e.Type)
	}
	return nil
}

// decodeSlow decodes with the general msgpack decoder, which accepts
// every encoding of the fields and skips unknown ones, after
// msgcodec.Wellformed has refused corrupt lengths and trailing bytes. (The
// record it fills goes through an interface, hence to the heap: it is not
// the caller's.)
func decodeSlow(b []byte) (*Entry, error) {
	e := new(Entry)
	if err := msgcodec.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return e, nil
}

// Load reads the entry name of parent; snapshot chooses a snapshot read.
func Load(ctx context.Context, tx kv.ReadOnlyTxn, l keys.Layout, parent uint64, name []byte, snapshot bool) (*Entry, bool, error) {
	k := l.Dirent(parent, name)
	var b []byte
	var found bool
	var err error
	if snapshot {
		b, found, err = tx.SnapshotGet(ctx, k)
	} else {
		b, found, err = tx.Get(ctx, k)
	}
	if err != nil || !found {
		return nil, false, err
	}
	e, err := Decode(b)
	if err != nil {
		return nil, false, fmt.Errorf("entry %q in %d: %w", name, parent, err)
	}
	return e, true, nil
}

// Store writes the entry name of parent.
func Store(tx kv.ReadWriteTxn, l keys.Layout, parent uint64, name []byte, e *Entry) {
	tx.Set(l.Dirent(parent, name), Encode(e))
}

// Delete removes the entry name of parent.
func Delete(tx kv.ReadWriteTxn, l keys.Layout, parent uint64, name []byte) {
	tx.Clear(l.Dirent(parent, name))
}

// entryName decodes the name of entry key k, whose packed ("d", parent)
// prefix is prefix, when the rest of k is one tuple byte string (0x01,
// the name with 0x00 escaped as 0x00 0xff, 0x00), in a new slice. It
// returns false for anything else, which List leaves to keys.Unpack.
func entryName(k, prefix []byte) ([]byte, bool) {
	if len(k) < len(prefix)+2 || !bytes.Equal(k[:len(prefix)], prefix) || k[len(prefix)] != 0x01 {
		return nil, false
	}
	raw := k[len(prefix)+1:]
	out := make([]byte, 0, len(raw)-1)
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] != 0:
			out = append(out, raw[i])
		case i+1 < len(raw) && raw[i+1] == 0xff:
			out = append(out, 0)
			i++
		case i == len(raw)-1:
			return out, true // the terminator ends the key
		default:
			return nil, false
		}
	}
	return nil, false // unterminated
}

// Named is an entry with its name.
type Named struct {
	Name []byte
	Entry
}

// List returns up to limit entries of parent whose names sort after after
// (nil: from the start), and whether more may follow. snapshot chooses
// snapshot reads.
func List(ctx context.Context, tx kv.ReadOnlyTxn, l keys.Layout, parent uint64, after []byte, limit int, snapshot bool) ([]Named, bool, error) {
	begin, end := l.DirentRange(parent)
	sel := kv.FirstGreaterOrEqual(begin)
	if after != nil {
		sel = kv.FirstGreaterThan(l.Dirent(parent, after))
	}
	var res kv.RangeResult
	var err error
	if snapshot {
		res, err = tx.SnapshotGetRange(ctx, sel, kv.FirstGreaterOrEqual(end), limit)
	} else {
		res, err = tx.GetRange(ctx, sel, kv.FirstGreaterOrEqual(end), limit)
	}
	if err != nil {
		return nil, false, err
	}
	sub := l.Root()
	prefix := begin[:len(begin)-1] // the packed ("d", parent)
	out := make([]Named, 0, len(res.KVs))
	for _, row := range res.KVs {
		name, ok := entryName(row.Key, prefix)
		if !ok {
			t, err := sub.Unpack(row.Key)
			if err != nil || len(t) != 3 {
				return nil, false, fmt.Errorf("%w: entry key %x in %d: %v", ErrCorrupt, row.Key, parent, err)
			}
			if name, ok = t[2].([]byte); !ok {
				return nil, false, fmt.Errorf("%w: entry key %x in %d: name is %T", ErrCorrupt, row.Key, parent, t[2])
			}
		}
		var e Entry
		if err := DecodeInto(row.Value, &e); err != nil {
			return nil, false, fmt.Errorf("entry %q in %d: %w", name, parent, err)
		}
		out = append(out, Named{Name: name, Entry: e})
	}
	return out, res.More, nil
}
