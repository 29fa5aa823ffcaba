// Package msgcodec holds the msgpack helpers shared by the record packages,
// which encode and decode field by field instead of by reflection.
//
// Records are written by hand in exactly the bytes msgpack.Marshal writes
// for their tagged structs: a fixmap of fixstr keys in field order, each
// integer at the fixed width of its Go type (uint8 0xcc, uint32 0xce,
// uint64 0xcf, int64 0xd3), byte slices as bin 8/16/32, omitempty fields
// left out. The record packages' tests compare the two byte for byte.
//
// Reader decodes that form, and any msgpack integer or byte encoding in
// it, without allocating; on anything else (an unknown key, another value
// type, a non-fixmap header) it reports failure and the caller decodes the
// record with the general msgpack decoder (DecodeMap), which stays the
// authority on what a record means.
package msgcodec

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMap reads a msgpack map of string keys from dec and calls field
// for each key with dec positioned at its value; field must consume the
// value (dec.Skip for unknown keys).
func DecodeMap(dec *msgpack.Decoder, field func(key string) error) error {
	l, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if l < 0 {
		return errors.New("record is nil, not a map")
	}
	for i := 0; i < l; i++ {
		k, err := dec.DecodeString()
		if err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
	}
	return nil
}

// msgpack codes used here.
const (
	codeFixMap  = 0x80
	codeNil     = 0xc0
	codeBin8    = 0xc4
	codeBin16   = 0xc5
	codeBin32   = 0xc6
	codeUint8   = 0xcc
	codeUint16  = 0xcd
	codeUint32  = 0xce
	codeUint64  = 0xcf
	codeInt8    = 0xd0
	codeInt16   = 0xd1
	codeInt32   = 0xd2
	codeInt64   = 0xd3
	codeFixStr  = 0xa0
	codeStr8    = 0xd9
	codeStr16   = 0xda
	codeStr32   = 0xdb
	codeNegFix  = 0xe0
	maxFixField = 15
)

// AppendMapHeader appends the header of a map of n (at most 15) fields.
func AppendMapHeader(b []byte, n int) []byte {
	if n > maxFixField {
		panic("msgcodec: more than 15 fields")
	}
	return append(b, byte(codeFixMap|n))
}

// AppendKey appends a key of at most 31 bytes as a fixstr.
func AppendKey(b []byte, k string) []byte {
	if len(k) > 31 {
		panic("msgcodec: key longer than 31 bytes")
	}
	return append(append(b, byte(codeFixStr|len(k))), k...)
}

// AppendUint8 appends v as msgpack uint 8.
func AppendUint8(b []byte, v uint8) []byte { return append(b, codeUint8, v) }

// AppendUint32 appends v as msgpack uint 32.
func AppendUint32(b []byte, v uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, codeUint32), v)
}

// AppendUint64 appends v as msgpack uint 64.
func AppendUint64(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeUint64), v)
}

// AppendInt64 appends v as msgpack int 64.
func AppendInt64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeInt64), uint64(v))
}

// AppendBin appends v as msgpack bin 8, 16 or 32, the smallest that fits.
func AppendBin(b []byte, v []byte) []byte {
	switch n := len(v); {
	case n < 1<<8:
		b = append(b, codeBin8, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, codeBin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, codeBin32), uint32(n))
	}
	return append(b, v...)
}

// BinSize is the encoded size of AppendBin(nil, v).
func BinSize(v []byte) int {
	switch n := len(v); {
	case n < 1<<8:
		return 2 + n
	case n < 1<<16:
		return 3 + n
	}
	return 5 + len(v)
}

// Reader decodes the records' msgpack form from a byte slice. Every
// method returns false when the bytes are not in the form it reads; the
// caller then falls back to the general decoder.
type Reader struct {
	b []byte
}

// NewReader returns a Reader over b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Done reports whether every byte was read.
func (r *Reader) Done() bool { return len(r.b) == 0 }

// MapLen reads a fixmap header.
func (r *Reader) MapLen() (int, bool) {
	if len(r.b) == 0 || r.b[0]&0xf0 != codeFixMap {
		return 0, false
	}
	n := int(r.b[0] & 0x0f)
	r.b = r.b[1:]
	return n, true
}

// Key reads a fixstr key; the result aliases the input.
func (r *Reader) Key() ([]byte, bool) {
	if len(r.b) == 0 || r.b[0]&0xe0 != codeFixStr {
		return nil, false
	}
	n := int(r.b[0] & 0x1f)
	if len(r.b) < 1+n {
		return nil, false
	}
	k := r.b[1 : 1+n]
	r.b = r.b[1+n:]
	return k, true
}

func (r *Reader) take(n int) ([]byte, bool) {
	if len(r.b) < n {
		return nil, false
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v, true
}

// Uint64 reads any msgpack integer (or nil, as 0) and converts it to
// uint64 as msgpack's Decoder.DecodeUint64 does: signed forms are sign
// extended.
func (r *Reader) Uint64() (uint64, bool) {
	if len(r.b) == 0 {
		return 0, false
	}
	c := r.b[0]
	r.b = r.b[1:]
	switch {
	case c <= 0x7f || c >= codeNegFix:
		return uint64(int8(c)), true
	case c == codeNil:
		return 0, true
	}
	var n int
	switch c {
	case codeUint8, codeInt8:
		n = 1
	case codeUint16, codeInt16:
		n = 2
	case codeUint32, codeInt32:
		n = 4
	case codeUint64, codeInt64:
		n = 8
	default:
		return 0, false
	}
	v, ok := r.take(n)
	if !ok {
		return 0, false
	}
	switch c {
	case codeUint8:
		return uint64(v[0]), true
	case codeInt8:
		return uint64(int8(v[0])), true
	case codeUint16:
		return uint64(binary.BigEndian.Uint16(v)), true
	case codeInt16:
		return uint64(int16(binary.BigEndian.Uint16(v))), true
	case codeUint32:
		return uint64(binary.BigEndian.Uint32(v)), true
	case codeInt32:
		return uint64(int32(binary.BigEndian.Uint32(v))), true
	}
	return binary.BigEndian.Uint64(v), true
}

// Int64 reads any msgpack integer (or nil, as 0) as msgpack's
// Decoder.DecodeInt64 does; the conversion is the same two's complement
// one as Uint64's.
func (r *Reader) Int64() (int64, bool) {
	v, ok := r.Uint64()
	return int64(v), ok
}

// Uint32 is Uint64 truncated, as msgpack's Decoder.DecodeUint32.
func (r *Reader) Uint32() (uint32, bool) {
	v, ok := r.Uint64()
	return uint32(v), ok
}

// Uint8 is Uint64 truncated, as msgpack's Decoder.DecodeUint8.
func (r *Reader) Uint8() (uint8, bool) {
	v, ok := r.Uint64()
	return uint8(v), ok
}

// Bytes reads a bin or str value (nil gives nil) into a new slice, as
// msgpack's Decoder.DecodeBytes.
func (r *Reader) Bytes() ([]byte, bool) {
	if len(r.b) == 0 {
		return nil, false
	}
	c := r.b[0]
	r.b = r.b[1:]
	var n int
	switch {
	case c == codeNil:
		return nil, true
	case c&0xe0 == codeFixStr:
		n = int(c & 0x1f)
	case c == codeBin8 || c == codeStr8:
		v, ok := r.take(1)
		if !ok {
			return nil, false
		}
		n = int(v[0])
	case c == codeBin16 || c == codeStr16:
		v, ok := r.take(2)
		if !ok {
			return nil, false
		}
		n = int(binary.BigEndian.Uint16(v))
	case c == codeBin32 || c == codeStr32:
		v, ok := r.take(4)
		if !ok {
			return nil, false
		}
		u := binary.BigEndian.Uint32(v)
		if u > math.MaxInt32 {
			return nil, false
		}
		n = int(u)
	default:
		return nil, false
	}
	v, ok := r.take(n)
	if !ok {
		return nil, false
	}
	if n == 0 {
		return []byte{}, true // empty, not nil, as msgpack
	}
	return append(make([]byte, 0, n), v...), true
}
