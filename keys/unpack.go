package keys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
)

// Unpack decodes a packed tuple. It returns an error wrapping ErrMalformed,
// never a panic, if b is not a canonical encoding. The result does not
// alias b.
func Unpack(b []byte) (Tuple, error) {
	// Nested tuples are decoded with an explicit stack rather than
	// recursion so that hostile input cannot exhaust the goroutine stack.
	var parents []Tuple
	// Every element takes at least one byte; a small cap covers typical
	// keys in one allocation.
	cur := make(Tuple, 0, min(len(b), 4))
	pos := 0
	for pos < len(b) {
		switch b[pos] {
		case codeNested:
			parents = append(parents, cur)
			cur = Tuple{}
			pos++
			continue
		case codeNil:
			if len(parents) > 0 {
				if pos+1 < len(b) && b[pos+1] == escape {
					cur = append(cur, nil)
					pos += 2
					continue
				}
				parent := parents[len(parents)-1]
				parents = parents[:len(parents)-1]
				cur = append(parent, cur)
				pos++
				continue
			}
		}
		v, next, err := decodeElem(b, pos)
		if err != nil {
			return nil, err
		}
		cur = append(cur, v)
		pos = next
	}
	if len(parents) > 0 {
		return nil, malformed(len(b), "unterminated nested tuple")
	}
	return cur, nil
}

func malformed(pos int, what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrMalformed, what, pos)
}

// decodeElem decodes the non-nested element whose type code is at b[pos]
// and returns it with the offset just past it.
func decodeElem(b []byte, pos int) (any, int, error) {
	code := b[pos]
	p := pos + 1
	need := func(n int) bool { return len(b)-p >= n }
	switch {
	case code == codeNil:
		return nil, p, nil
	case code == codeBytes || code == codeString:
		return decodeEscaped(b, pos)
	case code > codeNegBig && code < codePosBig:
		return decodeInt(b, pos)
	case code == codePosBig || code == codeNegBig:
		return decodeBig(b, pos)
	case code == codeFloat:
		if !need(4) {
			return nil, 0, malformed(pos, "truncated float32")
		}
		u := binary.BigEndian.Uint32(b[p:])
		if u&(1<<31) != 0 {
			u ^= 1 << 31
		} else {
			u = ^u
		}
		return math.Float32frombits(u), p + 4, nil
	case code == codeDouble:
		if !need(8) {
			return nil, 0, malformed(pos, "truncated float64")
		}
		u := binary.BigEndian.Uint64(b[p:])
		if u&(1<<63) != 0 {
			u ^= 1 << 63
		} else {
			u = ^u
		}
		return math.Float64frombits(u), p + 8, nil
	case code == codeFalse:
		return false, p, nil
	case code == codeTrue:
		return true, p, nil
	case code == codeUUID:
		if !need(16) {
			return nil, 0, malformed(pos, "truncated UUID")
		}
		return UUID(b[p : p+16]), p + 16, nil
	case code == codeVersionstmp:
		if !need(12) {
			return nil, 0, malformed(pos, "truncated versionstamp")
		}
		return Versionstamp{
			TransactionVersion: [10]byte(b[p : p+10]),
			UserVersion:        binary.BigEndian.Uint16(b[p+10:]),
		}, p + 12, nil
	}
	return nil, 0, malformed(pos, fmt.Sprintf("unknown type code 0x%02x", code))
}

// decodeEscaped decodes a 0x01 or 0x02 element: bytes up to the first
// 0x00 not followed by 0xff, with 0x00 0xff unescaped to 0x00.
func decodeEscaped(b []byte, pos int) (any, int, error) {
	start := pos + 1
	end, escapes := start, 0
	for {
		i := bytes.IndexByte(b[end:], 0)
		if i < 0 {
			return nil, 0, malformed(pos, "unterminated string")
		}
		end += i
		if end+1 < len(b) && b[end+1] == escape {
			escapes++
			end += 2
			continue
		}
		break
	}
	raw := b[start:end]
	if b[pos] == codeString && escapes == 0 {
		return string(raw), end + 1, nil
	}
	out := make([]byte, 0, len(raw)-escapes)
	for {
		i := bytes.IndexByte(raw, 0)
		if i < 0 {
			break
		}
		out = append(out, raw[:i+1]...)
		raw = raw[i+2:]
	}
	out = append(out, raw...)
	if b[pos] == codeString {
		return string(out), end + 1, nil
	}
	return out, end + 1, nil
}

// decodeInt decodes codes 0x0c..0x1c: integers of at most 8 bytes.
func decodeInt(b []byte, pos int) (any, int, error) {
	code := int(b[pos])
	p := pos + 1
	if code == codeIntZero {
		return int64(0), p, nil
	}
	n, neg := code-codeIntZero, false
	if n < 0 {
		n, neg = -n, true
	}
	if len(b)-p < n {
		return nil, 0, malformed(pos, "truncated integer")
	}
	var u uint64
	for _, c := range b[p : p+n] {
		u = u<<8 | uint64(c)
	}
	if !neg {
		if b[p] == 0 {
			return nil, 0, malformed(pos, "non-canonical integer")
		}
		if u > math.MaxInt64 {
			return u, p + n, nil
		}
		return int64(u), p + n, nil
	}
	if b[p] == 0xff {
		return nil, 0, malformed(pos, "non-canonical integer")
	}
	m := ^u // magnitude: undo the one's complement within n bytes
	if n < 8 {
		m &= 1<<(8*n) - 1
	}
	if m > 1<<63 {
		return new(big.Int).Neg(new(big.Int).SetUint64(m)), p + n, nil
	}
	return int64(-m), p + n, nil // -m wraps so that 1<<63 gives MinInt64
}

// decodeBig decodes codes 0x0b and 0x1d: integers of 9..255 bytes.
func decodeBig(b []byte, pos int) (any, int, error) {
	neg := b[pos] == codeNegBig
	p := pos + 1
	if p >= len(b) {
		return nil, 0, malformed(pos, "truncated big integer length")
	}
	n := int(b[p])
	if neg {
		n ^= 0xff
	}
	p++
	if n <= 8 {
		return nil, 0, malformed(pos, "non-canonical big integer length")
	}
	if len(b)-p < n {
		return nil, 0, malformed(pos, "truncated big integer")
	}
	mag := make([]byte, n)
	copy(mag, b[p:p+n])
	if neg {
		for i := range mag {
			mag[i] = ^mag[i]
		}
	}
	if mag[0] == 0 {
		return nil, 0, malformed(pos, "non-canonical big integer")
	}
	x := new(big.Int).SetBytes(mag)
	if neg {
		x.Neg(x)
	}
	return x, p + n, nil
}
