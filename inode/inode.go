// Package inode is the inode record of fsmeta: its msgpack codec, its key
// under a filesystem's layout, and helpers that load and store it inside a
// caller's transaction.
//
// A directory's mtime, ctime and subdirectory count are not in its record:
// they live in atomic counters under the directory's stats keys (see meta),
// so that creates in one directory never conflict. For directories the
// record carries the parent id and the directory's own name, which rename
// uses for its loop check and readdir for "..".
package inode

import (
	"context"
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
)

// Version is the record version written by this code.
const Version = 1

// RootIno is the inode id of the root directory.
const RootIno uint64 = 1

// Type is the file type of an inode.
type Type uint8

// File types.
const (
	TypeFile Type = iota + 1
	TypeDir
	TypeSymlink
	TypeFIFO
	TypeSocket
	TypeChar
	TypeBlock
)

var typeNames = [...]string{"", "file", "dir", "symlink", "fifo", "socket", "char", "block"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t >= TypeFile && t <= TypeBlock }

// Mode bits of the S_IFMT family, for callers that speak st_mode.
const (
	ModeIFMT   = 0o170000
	ModeIFSOCK = 0o140000
	ModeIFLNK  = 0o120000
	ModeIFREG  = 0o100000
	ModeIFBLK  = 0o060000
	ModeIFDIR  = 0o040000
	ModeIFCHR  = 0o020000
	ModeIFIFO  = 0o010000
	ModePerm   = 0o7777 // permission, setuid, setgid and sticky bits
	ModeSticky = 0o1000
	ModeSetgid = 0o2000
	ModeSetuid = 0o4000
)

// IFMT returns the S_IFMT bits of t.
func (t Type) IFMT() uint32 {
	switch t {
	case TypeFile:
		return ModeIFREG
	case TypeDir:
		return ModeIFDIR
	case TypeSymlink:
		return ModeIFLNK
	case TypeFIFO:
		return ModeIFIFO
	case TypeSocket:
		return ModeIFSOCK
	case TypeChar:
		return ModeIFCHR
	case TypeBlock:
		return ModeIFBLK
	}
	return 0
}

// TypeOfMode returns the type named by the S_IFMT bits of mode, or 0.
func TypeOfMode(mode uint32) Type {
	switch mode & ModeIFMT {
	case ModeIFREG:
		return TypeFile
	case ModeIFDIR:
		return TypeDir
	case ModeIFLNK:
		return TypeSymlink
	case ModeIFIFO:
		return TypeFIFO
	case ModeIFSOCK:
		return TypeSocket
	case ModeIFCHR:
		return TypeChar
	case ModeIFBLK:
		return TypeBlock
	}
	return 0
}

// Inode is the stored record. Times are nanoseconds since the Unix epoch.
type Inode struct {
	V     uint8  `msgpack:"v"`
	Ino   uint64 `msgpack:"i"`
	Type  Type   `msgpack:"t"`
	Mode  uint32 `msgpack:"m"` // ModePerm bits only
	Uid   uint32 `msgpack:"u,omitempty"`
	Gid   uint32 `msgpack:"g,omitempty"`
	Nlink uint32 `msgpack:"n"` // files; directories use 2 + subdirectories
	Size  uint64 `msgpack:"s,omitempty"`
	Atime int64  `msgpack:"a"`
	Mtime int64  `msgpack:"mt"` // files; directories keep theirs in stats
	Ctime int64  `msgpack:"c"`  // files; directories keep theirs in stats
	Rdev  uint32 `msgpack:"r,omitempty"`
	// Target is a symlink's target.
	Target []byte `msgpack:"l,omitempty"`
	// Parent and Name are a directory's parent and its name there.
	Parent uint64 `msgpack:"p,omitempty"`
	Name   []byte `msgpack:"nm,omitempty"`
}

// ErrCorrupt is wrapped by decoding errors.
var ErrCorrupt = errors.New("inode: corrupt record")

// Encode returns the msgpack form of n in a new slice (see AppendEncode).
func Encode(n *Inode) []byte {
	return AppendEncode(make([]byte, 0, encodedSize(n)), n)
}

// Decode parses a record. Unknown fields are ignored; garbage, bytes after
// the record, a missing version or an unknown type are errors wrapping
// ErrCorrupt.
func Decode(b []byte) (*Inode, error) {
	n := new(Inode)
	if err := DecodeInto(b, n); err != nil {
		return nil, err
	}
	return n, nil
}

// DecodeInto is Decode into *n, which it overwrites, for callers that keep
// the record on the stack.
func DecodeInto(b []byte, n *Inode) error {
	*n = Inode{}
	if !decodeFast(b, n) {
		v, err := decodeSlow(b)
		if err != nil {
			return err
		}
		*n = *v
	}
	if n.V == 0 || n.V > Version {
		return fmt.Errorf("%w: record version %d (this code reads 1..%d)", ErrCorrupt, n.V, Version)
	}
	if !n.Type.Valid() {
		return fmt.Errorf("%w: inode %d has unknown type %d", ErrCorrupt, n.Ino, n.Type)
	}
	return nil
}

// decodeSlow decodes with the general msgpack decoder, which accepts
// every encoding of the fields and skips unknown ones, after
// msgcodec.Wellformed has refused corrupt lengths and trailing bytes. (The
// record it fills goes through an interface, hence to the heap: it is not
// the caller's.)
func decodeSlow(b []byte) (*Inode, error) {
	n := new(Inode)
	if err := msgcodec.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return n, nil
}

// Load reads inode ino in tx; snapshot chooses a snapshot read (no read
// conflict). found is false when the inode does not exist.
func Load(ctx context.Context, tx kv.ReadOnlyTxn, l keys.Layout, ino uint64, snapshot bool) (n *Inode, found bool, err error) {
	var b []byte
	if snapshot {
		b, found, err = tx.SnapshotGet(ctx, l.Inode(ino))
	} else {
		b, found, err = tx.Get(ctx, l.Inode(ino))
	}
	if err != nil || !found {
		return nil, false, err
	}
	n, err = Decode(b)
	if err != nil {
		return nil, false, fmt.Errorf("inode %d: %w", ino, err)
	}
	return n, true, nil
}

// Store writes n in tx.
func Store(tx kv.ReadWriteTxn, l keys.Layout, n *Inode) {
	tx.Set(l.Inode(n.Ino), Encode(n))
}

// Delete removes inode ino in tx.
func Delete(tx kv.ReadWriteTxn, l keys.Layout, ino uint64) {
	tx.Clear(l.Inode(ino))
}
