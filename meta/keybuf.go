package meta

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/keys"
)

// keyspace holds the packed prefixes of the key families the namespace
// operations touch on every call, so that their keys are appended to a
// buffer instead of packed from a keys.Tuple (which boxes each element and
// allocates per key). The bytes are those of the store's keys.Layout, as
// TestKeyspace_MatchesLayout checks: ("i", ino), ("d", parent, name),
// ("s", dir, field), ("q", client, req), ("o", ino, ...), ("g", ino),
// ("x", ino, ...), ("l", ino, ...).
type keyspace struct {
	inode, dirent, stat, request, handle, deferred, xattr, lock []byte
}

func newKeyspace(l keys.Layout) keyspace {
	p := func(family string) []byte { return l.Root().Pack(keys.Tuple{family}) }
	return keyspace{
		inode: p("i"), dirent: p("d"), stat: p("s"), request: p("q"),
		handle: p("o"), deferred: p("g"), xattr: p("x"), lock: p("l"),
	}
}

// Tuple codes of the elements appended here (FoundationDB's tuple layer).
const (
	tupleBytes   = 0x01
	tupleString  = 0x02
	tupleIntZero = 0x14
)

// appendTupleUint appends u as a tuple integer element.
func appendTupleUint(b []byte, u uint64) []byte {
	n := (bits.Len64(u) + 7) / 8
	b = append(b, byte(tupleIntZero+n))
	var tmp [8]byte
	binary.BigEndian.PutUint64(tmp[:], u)
	return append(b, tmp[8-n:]...)
}

// appendTupleBytes appends s as a tuple byte-string element: each 0x00
// escaped as 0x00 0xff, then the 0x00 terminator.
func appendTupleBytes(b []byte, s []byte) []byte {
	b = append(b, tupleBytes)
	for {
		i := bytes.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), 0xff)
		s = s[i+1:]
	}
	return append(append(b, s...), 0x00)
}

// appendTupleBytesOf is appendTupleBytes of []byte(s), without the copy.
func appendTupleBytesOf(b []byte, s string) []byte {
	b = append(b, tupleBytes)
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), 0xff)
		s = s[i+1:]
	}
	return append(append(b, s...), 0x00)
}

// appendTupleString appends s, which holds no 0x00, as a tuple string.
func appendTupleString(b []byte, s string) []byte {
	return append(append(append(b, tupleString), s...), 0x00)
}

// arena hands out the keys and values of an operation from a few shared
// allocations of chunk bytes (the zero arena allocates each slice on its
// own). Every slice it returns has its capacity capped at its length, so
// later appends never write into it, and it never reuses memory: a slice
// stays valid for as long as anyone holds it, whatever the engine does
// with it.
type arena struct {
	b     []byte
	chunk int
	// ks holds the keys of one kv.GetMany batch (see keys), so that the
	// batch needs no slice of its own.
	ks [4][]byte
}

// readArena is an arena with the room a read-only operation needs for its
// keys (a lookup: two inodes, an entry, a directory's four counters).
type readArena struct {
	a   arena
	buf [192]byte
}

// newArena returns an arena that starts in a buffer allocated with it and
// then takes chunks of 256 bytes: one allocation covers the keys of a
// read-only operation.
func newArena() *arena {
	r := new(readArena)
	r.a.b, r.a.chunk = r.buf[:0], 256
	return &r.a
}

// keys returns ks as a batch for kv.GetMany, valid until the next call.
// The engine keeps no reference to it (kv: slices passed in may be reused
// once the call returns).
func (a *arena) keys(ks ...[]byte) [][]byte {
	n := copy(a.ks[:], ks)
	if n < len(ks) {
		panic("meta: a batch of more than 4 keys")
	}
	return a.ks[:n:n]
}

// grow makes room for n more bytes. A new chunk leaves the slices already
// handed out where they are.
func (a *arena) grow(n int) {
	if cap(a.b)-len(a.b) < n {
		a.b = make([]byte, 0, max(a.chunk, n))
	}
}

// done returns the bytes appended since start.
func (a *arena) done(start int) []byte {
	return a.b[start:len(a.b):len(a.b)]
}

func (a *arena) inode(k *keyspace, ino uint64) []byte {
	a.grow(len(k.inode) + 9)
	start := len(a.b)
	a.b = appendTupleUint(append(a.b, k.inode...), ino)
	return a.done(start)
}

func (a *arena) dirent(k *keyspace, parent uint64, name []byte) []byte {
	a.grow(len(k.dirent) + 9 + 2 + 2*len(name))
	start := len(a.b)
	a.b = appendTupleBytes(appendTupleUint(append(a.b, k.dirent...), parent), name)
	return a.done(start)
}

// direntString is dirent of []byte(name).
func (a *arena) direntString(k *keyspace, parent uint64, name string) []byte {
	a.grow(len(k.dirent) + 9 + 2 + 2*len(name))
	start := len(a.b)
	a.b = appendTupleBytesOf(appendTupleUint(append(a.b, k.dirent...), parent), name)
	return a.done(start)
}

func (a *arena) stat(k *keyspace, dir uint64, field string) []byte {
	a.grow(len(k.stat) + 9 + 2 + len(field))
	start := len(a.b)
	a.b = appendTupleString(appendTupleUint(append(a.b, k.stat...), dir), field)
	return a.done(start)
}

func (a *arena) request(k *keyspace, client, req uint64) []byte {
	a.grow(len(k.request) + 18)
	start := len(a.b)
	a.b = appendTupleUint(appendTupleUint(append(a.b, k.request...), client), req)
	return a.done(start)
}

func (a *arena) deferred(k *keyspace, ino uint64) []byte {
	a.grow(len(k.deferred) + 9)
	start := len(a.b)
	a.b = appendTupleUint(append(a.b, k.deferred...), ino)
	return a.done(start)
}

// span returns the range of every key under prefix + (ino), as
// keys.Subspace.Range: [p+0x00, p+0xff).
func (a *arena) span(prefix []byte, ino uint64) (begin, end []byte) {
	a.grow(2 * (len(prefix) + 10))
	start := len(a.b)
	a.b = append(appendTupleUint(append(a.b, prefix...), ino), 0x00)
	begin = a.done(start)
	start = len(a.b)
	a.b = append(a.b, begin...)
	a.b[len(a.b)-1] = 0xff
	return begin, a.done(start)
}

// le64 returns v little-endian, the form of the stats counters.
func (a *arena) le64(v int64) []byte {
	a.grow(8)
	start := len(a.b)
	a.b = binary.LittleEndian.AppendUint64(a.b, uint64(v))
	return a.done(start)
}

// inodeRecord returns n encoded (inode.AppendEncode).
func (a *arena) inodeRecord(n *inode.Inode) []byte {
	a.grow(128 + len(n.Target) + len(n.Name))
	start := len(a.b)
	a.b = inode.AppendEncode(a.b, n)
	return a.done(start)
}

// entryRecord returns e encoded (dirent.AppendEncode).
func (a *arena) entryRecord(e *dirent.Entry) []byte {
	a.grow(32)
	start := len(a.b)
	a.b = dirent.AppendEncode(a.b, e)
	return a.done(start)
}

// requestRecord returns r encoded (appendRequest).
func (a *arena) requestRecord(r request) []byte {
	a.grow(24)
	start := len(a.b)
	a.b = appendRequest(a.b, r)
	return a.done(start)
}
