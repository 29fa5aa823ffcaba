package keys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// Tuple is an ordered list of elements packed with the FoundationDB tuple
// encoding. Supported element types: nil, []byte, string, bool, all Go
// integer types, *big.Int, float32, float64, UUID, Versionstamp and nested
// Tuple.
type Tuple []any

// UUID is an RFC 4122 UUID in network byte order.
type UUID [16]byte

// Type codes from FoundationDB's design/tuple.md.
const (
	codeNil         = 0x00
	codeBytes       = 0x01
	codeString      = 0x02
	codeNested      = 0x05
	codeNegBig      = 0x0b
	codeIntZero     = 0x14
	codePosBig      = 0x1d
	codeFloat       = 0x20
	codeDouble      = 0x21
	codeFalse       = 0x26
	codeTrue        = 0x27
	codeUUID        = 0x30
	codeVersionstmp = 0x33
	escape          = 0xff
)

// Pack returns the encoding of t in a new slice. It panics if t holds an
// unsupported element; use PackErr for tuples built from untrusted types.
// An incomplete versionstamp packs as its 0xff placeholder; keys meant for
// the database to stamp come from PackWithVersionstamp.
func (t Tuple) Pack() []byte {
	b, err := t.PackErr()
	if err != nil {
		panic(err)
	}
	return b
}

// PackErr is Pack returning an error wrapping ErrUnsupported instead of
// panicking.
func (t Tuple) PackErr() ([]byte, error) {
	e := encoder{buf: make([]byte, 0, t.sizeHint())}
	if err := e.tuple(t, false); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// sizeHint estimates the packed size so Pack allocates once in the
// common case.
func (t Tuple) sizeHint() int {
	n := 0
	for _, v := range t {
		switch x := v.(type) {
		case string:
			n += len(x) + 2
		case []byte:
			n += len(x) + 2
		case Tuple:
			n += x.sizeHint() + 2
		case *big.Int:
			n += 2
			if x != nil {
				n += (x.BitLen() + 7) / 8
			}
		default:
			n += 17 // UUID, the largest fixed-size element
		}
	}
	return n
}

// encoder appends elements to buf and records where incomplete
// versionstamps land so PackWithVersionstamp can report the offset.
type encoder struct {
	buf     []byte
	vsPos   int
	vsCount int
}

func (e *encoder) tuple(t Tuple, nested bool) error {
	for _, v := range t {
		if err := e.elem(v, nested); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) elem(v any, nested bool) error {
	switch x := v.(type) {
	case nil:
		if nested {
			e.buf = append(e.buf, codeNil, escape)
		} else {
			e.buf = append(e.buf, codeNil)
		}
	case []byte:
		e.buf = appendEscapedBytes(append(e.buf, codeBytes), x)
	case string:
		e.buf = appendEscapedString(append(e.buf, codeString), x)
	case Tuple:
		e.buf = append(e.buf, codeNested)
		if err := e.tuple(x, true); err != nil {
			return err
		}
		e.buf = append(e.buf, codeNil)
	case int:
		e.buf = appendInt(e.buf, int64(x))
	case int8:
		e.buf = appendInt(e.buf, int64(x))
	case int16:
		e.buf = appendInt(e.buf, int64(x))
	case int32:
		e.buf = appendInt(e.buf, int64(x))
	case int64:
		e.buf = appendInt(e.buf, x)
	case uint:
		e.buf = appendUint(e.buf, uint64(x))
	case uint8:
		e.buf = appendUint(e.buf, uint64(x))
	case uint16:
		e.buf = appendUint(e.buf, uint64(x))
	case uint32:
		e.buf = appendUint(e.buf, uint64(x))
	case uint64:
		e.buf = appendUint(e.buf, x)
	case *big.Int:
		if x == nil {
			return fmt.Errorf("%w: nil *big.Int", ErrUnsupported)
		}
		var err error
		if e.buf, err = appendBig(e.buf, x); err != nil {
			return err
		}
	case float32:
		u := math.Float32bits(x)
		if u&(1<<31) != 0 {
			u = ^u
		} else {
			u ^= 1 << 31
		}
		e.buf = binary.BigEndian.AppendUint32(append(e.buf, codeFloat), u)
	case float64:
		u := math.Float64bits(x)
		if u&(1<<63) != 0 {
			u = ^u
		} else {
			u ^= 1 << 63
		}
		e.buf = binary.BigEndian.AppendUint64(append(e.buf, codeDouble), u)
	case bool:
		if x {
			e.buf = append(e.buf, codeTrue)
		} else {
			e.buf = append(e.buf, codeFalse)
		}
	case UUID:
		e.buf = append(append(e.buf, codeUUID), x[:]...)
	case Versionstamp:
		e.buf = append(e.buf, codeVersionstmp)
		if x.TransactionVersion == incompleteTxVersion {
			e.vsPos = len(e.buf)
			e.vsCount++
		}
		e.buf = append(e.buf, x.TransactionVersion[:]...)
		e.buf = binary.BigEndian.AppendUint16(e.buf, x.UserVersion)
	default:
		return fmt.Errorf("%w: type %T", ErrUnsupported, v)
	}
	return nil
}

// appendEscapedBytes appends s with each 0x00 escaped as 0x00 0xff, then
// the 0x00 terminator.
func appendEscapedBytes(b, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), escape)
		s = s[i+1:]
	}
	return append(append(b, s...), codeNil)
}

// appendEscapedString is appendEscapedBytes for a string, without the
// copy a conversion would cost.
func appendEscapedString(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), escape)
		s = s[i+1:]
	}
	return append(append(b, s...), codeNil)
}

func appendUint(b []byte, u uint64) []byte {
	n := (bits.Len64(u) + 7) / 8
	return appendBE(append(b, byte(codeIntZero+n)), u, n)
}

func appendInt(b []byte, i int64) []byte {
	if i >= 0 {
		return appendUint(b, uint64(i))
	}
	return appendNeg(b, uint64(-i)) // -MinInt64 wraps to 1<<63, the right magnitude
}

// appendNeg encodes -m for a magnitude m >= 1 of at most 8 bytes.
func appendNeg(b []byte, m uint64) []byte {
	n := (bits.Len64(m) + 7) / 8
	return appendBE(append(b, byte(codeIntZero-n)), ^m, n)
}

// appendBE appends the low n bytes of u, big-endian.
func appendBE(b []byte, u uint64, n int) []byte {
	var tmp [8]byte
	binary.BigEndian.PutUint64(tmp[:], u)
	return append(b, tmp[8-n:]...)
}

func appendBig(b []byte, x *big.Int) ([]byte, error) {
	if x.IsInt64() {
		return appendInt(b, x.Int64()), nil
	}
	if x.IsUint64() {
		return appendUint(b, x.Uint64()), nil
	}
	n := (x.BitLen() + 7) / 8 // BitLen is of |x|
	neg := x.Sign() < 0
	if neg && n <= 8 {
		return appendNeg(b, new(big.Int).Neg(x).Uint64()), nil
	}
	if n > 255 {
		return nil, fmt.Errorf("%w: integer of %d bytes exceeds 255", ErrUnsupported, n)
	}
	if neg {
		b = append(b, codeNegBig, byte(n)^0xff)
	} else {
		b = append(b, codePosBig, byte(n))
	}
	start := len(b)
	b = append(b, make([]byte, n)...)
	x.FillBytes(b[start:]) // fills |x|
	if neg {
		for i := start; i < len(b); i++ {
			b[i] = ^b[i]
		}
	}
	return b, nil
}
