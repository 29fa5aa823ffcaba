package keys

import (
	"bytes"
	"fmt"
)

// Subspace is a key prefix under which tuples are packed. The zero value
// is the empty prefix, covering the whole key space. A Subspace is
// immutable and safe for concurrent use.
type Subspace struct {
	raw []byte
}

// Sub returns the subspace whose prefix is prefix packed. It panics like
// Tuple.Pack on unsupported elements.
func Sub(prefix Tuple) Subspace {
	return Subspace{raw: prefix.Pack()}
}

// FromBytes returns the subspace with the raw prefix, copied.
func FromBytes(prefix []byte) Subspace {
	return Subspace{raw: bytes.Clone(prefix)}
}

// Bytes returns a copy of the subspace prefix.
func (s Subspace) Bytes() []byte {
	return append([]byte{}, s.raw...)
}

// Sub returns the child subspace extended by the packed elems. It panics
// like Tuple.Pack on unsupported elements.
func (s Subspace) Sub(elems ...any) Subspace {
	return Subspace{raw: s.Pack(Tuple(elems))}
}

// Pack returns the prefix followed by t packed, in a new slice. It panics
// like Tuple.Pack on unsupported elements.
func (s Subspace) Pack(t Tuple) []byte {
	e := encoder{buf: make([]byte, len(s.raw), len(s.raw)+t.sizeHint())}
	copy(e.buf, s.raw)
	if err := e.tuple(t, false); err != nil {
		panic(err)
	}
	return e.buf
}

// PackWithVersionstamp is Tuple.PackWithVersionstamp with the subspace
// prefix.
func (s Subspace) PackWithVersionstamp(t Tuple) ([]byte, error) {
	return t.PackWithVersionstamp(s.raw)
}

// Unpack decodes the tuple after the prefix of k. The error wraps
// ErrNotInSubspace if k lacks the prefix, or ErrMalformed.
func (s Subspace) Unpack(k []byte) (Tuple, error) {
	if !bytes.HasPrefix(k, s.raw) {
		return nil, fmt.Errorf("%w: key %x, prefix %x", ErrNotInSubspace, k, s.raw)
	}
	return Unpack(k[len(s.raw):])
}

// Range returns the bounds [prefix+0x00, prefix+0xff) that hold every
// packed tuple of the subspace but not the bare prefix, as FoundationDB
// subspaces do.
func (s Subspace) Range() (begin, end []byte) {
	begin = append(append(make([]byte, 0, len(s.raw)+1), s.raw...), 0x00)
	end = append(append(make([]byte, 0, len(s.raw)+1), s.raw...), 0xff)
	return begin, end
}

// Contains reports whether k starts with the subspace prefix.
func (s Subspace) Contains(k []byte) bool {
	return bytes.HasPrefix(k, s.raw)
}

// Strinc returns the first key after every key that starts with prefix:
// trailing 0xff bytes dropped and the last remaining byte incremented. It
// returns an error wrapping ErrNoSuccessor if prefix is empty or all 0xff.
func Strinc(prefix []byte) ([]byte, error) {
	i := len(prefix) - 1
	for i >= 0 && prefix[i] == 0xff {
		i--
	}
	if i < 0 {
		return nil, fmt.Errorf("%w: %x", ErrNoSuccessor, prefix)
	}
	out := bytes.Clone(prefix[:i+1])
	out[i]++
	return out, nil
}
