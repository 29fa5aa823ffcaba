package msgcodec

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// ErrMalformed is returned by Wellformed and Unmarshal for bytes that are
// not exactly one well-formed msgpack value.
var ErrMalformed = errors.New("msgcodec: malformed msgpack")

// maxDepth bounds the nesting of maps and arrays Wellformed accepts; no
// record of ours nests more than two levels.
const maxDepth = 32

// Wellformed reports whether b is exactly one msgpack value whose every
// declared length and element count fits in the bytes that follow it, and
// which nests at most 32 maps or arrays deep. It allocates nothing and
// reads each byte once.
//
// It guards the general msgpack decoder, which allocates a []byte of any
// length a header declares before reading it (4 GiB for the 8-byte record
// 81a16cc6ffffffff) and a slice of any declared element count: a corrupt
// record must cost an error, not the process's memory.
func Wellformed(b []byte) error {
	end, err := skipValue(b, 0, 0)
	if err != nil {
		return err
	}
	if end != len(b) {
		return fmt.Errorf("%w: %d bytes after the value", ErrMalformed, len(b)-end)
	}
	return nil
}

// Unmarshal is msgpack.Unmarshal after Wellformed.
func Unmarshal(b []byte, v any) error {
	if err := Wellformed(b); err != nil {
		return err
	}
	return msgpack.Unmarshal(b, v)
}

// skipValue returns the offset just past the value at b[p:].
func skipValue(b []byte, p, depth int) (int, error) {
	if p >= len(b) {
		return 0, fmt.Errorf("%w: value missing at offset %d", ErrMalformed, p)
	}
	c := b[p]
	p++
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return p, nil
	case c <= 0x8f: // fixmap
		return skipN(b, p, 2*int(c&0x0f), depth)
	case c <= 0x9f: // fixarray
		return skipN(b, p, int(c&0x0f), depth)
	case c <= 0xbf: // fixstr
		return skipBytes(b, p, int(c&0x1f))
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return p, nil
	case 0xc4, 0xd9: // bin8, str8
		return skipSized(b, p, 1, 0)
	case 0xc5, 0xda: // bin16, str16
		return skipSized(b, p, 2, 0)
	case 0xc6, 0xdb: // bin32, str32
		return skipSized(b, p, 4, 0)
	case 0xc7: // ext8: length, type, data
		return skipSized(b, p, 1, 1)
	case 0xc8:
		return skipSized(b, p, 2, 1)
	case 0xc9:
		return skipSized(b, p, 4, 1)
	case 0xcc, 0xd0: // uint8, int8
		return skipBytes(b, p, 1)
	case 0xcd, 0xd1:
		return skipBytes(b, p, 2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return skipBytes(b, p, 4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return skipBytes(b, p, 8)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type, data
		return skipBytes(b, p, 1+1<<(c-0xd4))
	case 0xdc: // array16
		n, p, err := length(b, p, 2)
		if err != nil {
			return 0, err
		}
		return skipN(b, p, n, depth)
	case 0xdd: // array32
		n, p, err := length(b, p, 4)
		if err != nil {
			return 0, err
		}
		return skipN(b, p, n, depth)
	case 0xde: // map16
		n, p, err := length(b, p, 2)
		if err != nil {
			return 0, err
		}
		return skipN(b, p, 2*n, depth)
	case 0xdf: // map32
		n, p, err := length(b, p, 4)
		if err != nil {
			return 0, err
		}
		return skipN(b, p, 2*n, depth)
	}
	return 0, fmt.Errorf("%w: code %#x at offset %d is not msgpack", ErrMalformed, c, p-1)
}

// length reads a big-endian length of size bytes at b[p:].
func length(b []byte, p, size int) (int, int, error) {
	if len(b)-p < size {
		return 0, 0, fmt.Errorf("%w: %d-byte length cut off at offset %d", ErrMalformed, size, p)
	}
	switch size {
	case 1:
		return int(b[p]), p + 1, nil
	case 2:
		return int(binary.BigEndian.Uint16(b[p:])), p + 2, nil
	default:
		return int(binary.BigEndian.Uint32(b[p:])), p + 4, nil
	}
}

// skipSized skips a length of size bytes, extra bytes (an ext's type) and
// the data the length declares.
func skipSized(b []byte, p, size, extra int) (int, error) {
	n, p, err := length(b, p, size)
	if err != nil {
		return 0, err
	}
	return skipBytes(b, p, extra+n)
}

func skipBytes(b []byte, p, n int) (int, error) {
	if n > len(b)-p {
		return 0, fmt.Errorf("%w: %d bytes declared at offset %d, %d left", ErrMalformed, n, p, len(b)-p)
	}
	return p + n, nil
}

// skipN skips n values (2 per map pair). Each takes at least a byte, so a
// count beyond the bytes left is refused before any is read.
func skipN(b []byte, p, n, depth int) (int, error) {
	if depth >= maxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d at offset %d", ErrMalformed, maxDepth, p)
	}
	if n > len(b)-p {
		return 0, fmt.Errorf("%w: %d elements declared at offset %d, %d bytes left", ErrMalformed, n, p, len(b)-p)
	}
	var err error
	for ; n > 0; n-- {
		if p, err = skipValue(b, p, depth+1); err != nil {
			return 0, err
		}
	}
	return p, nil
}
