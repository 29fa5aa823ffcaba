package keys

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Versionstamp is a 96-bit FoundationDB versionstamp: the 10-byte commit
// versionstamp (8-byte big-endian commit version, 2-byte batch order)
// followed by a user version ordering writes within one transaction.
type Versionstamp struct {
	TransactionVersion [10]byte
	UserVersion        uint16
}

// incompleteTxVersion marks a versionstamp the database fills in at commit.
var incompleteTxVersion = [10]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IncompleteVersionstamp returns a placeholder versionstamp whose
// transaction version is filled in at commit by a versionstamped-key or
// versionstamped-value mutation.
func IncompleteVersionstamp(userVersion uint16) Versionstamp {
	return Versionstamp{TransactionVersion: incompleteTxVersion, UserVersion: userVersion}
}

// HasIncompleteVersionstamp reports whether t, including nested tuples,
// holds an incomplete versionstamp. It returns an error wrapping
// ErrVersionstamp if it holds more than one, since a commit fills only one.
func (t Tuple) HasIncompleteVersionstamp() (bool, error) {
	n := t.countIncomplete()
	if n > 1 {
		return false, fmt.Errorf("%w: tuple holds %d", ErrVersionstamp, n)
	}
	return n == 1, nil
}

func (t Tuple) countIncomplete() int {
	n := 0
	for _, v := range t {
		switch x := v.(type) {
		case Versionstamp:
			if x.TransactionVersion == incompleteTxVersion {
				n++
			}
		case Tuple:
			n += x.countIncomplete()
		}
	}
	return n
}

// PackWithVersionstamp returns prefix followed by the packed tuple and the
// 4-byte little-endian offset of the incomplete versionstamp's 10-byte
// transaction version, the key form SetVersionstampedKey takes (FDB API
// version 520 and later). The tuple must hold exactly one incomplete
// versionstamp, else the error wraps ErrVersionstamp; unsupported elements
// give an error wrapping ErrUnsupported.
func (t Tuple) PackWithVersionstamp(prefix []byte) ([]byte, error) {
	e := encoder{buf: make([]byte, len(prefix), len(prefix)+t.sizeHint()+4)}
	copy(e.buf, prefix)
	if err := e.tuple(t, false); err != nil {
		return nil, err
	}
	if e.vsCount != 1 {
		return nil, fmt.Errorf("%w: tuple holds %d", ErrVersionstamp, e.vsCount)
	}
	if e.vsPos > math.MaxUint32 {
		return nil, fmt.Errorf("%w: offset %d does not fit in 32 bits", ErrVersionstamp, e.vsPos)
	}
	return binary.LittleEndian.AppendUint32(e.buf, uint32(e.vsPos)), nil
}
