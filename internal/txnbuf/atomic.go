package txnbuf

import "github.com/fsmeta/fsmeta/kv"

// ApplyAtomic returns the value that op with param leaves in place of old
// (exists == false when there was none), with FoundationDB's semantics: old
// is zero-extended or truncated to len(param) first; a missing value counts
// as zeroes, except that Min and BitAnd over a missing value store param
// (FoundationDB's AND_V2 and MIN_V2, API >= 510). The result
// is a new slice.
func ApplyAtomic(op kv.AtomicOp, old []byte, exists bool, param []byte) []byte {
	n := len(param)
	out := make([]byte, n)
	if (op == kv.AtomicMin || op == kv.AtomicBitAnd) && !exists {
		copy(out, param)
		return out
	}
	copy(out, old) // zero-extends or truncates
	switch op {
	case kv.AtomicAdd:
		var carry uint16
		for i := 0; i < n; i++ {
			s := uint16(out[i]) + uint16(param[i]) + carry
			out[i] = byte(s)
			carry = s >> 8
		}
	case kv.AtomicMax:
		if compareLE(param, out) > 0 {
			copy(out, param)
		}
	case kv.AtomicMin:
		if compareLE(param, out) < 0 {
			copy(out, param)
		}
	case kv.AtomicBitAnd:
		for i := range out {
			out[i] &= param[i]
		}
	case kv.AtomicBitOr:
		for i := range out {
			out[i] |= param[i]
		}
	case kv.AtomicBitXor:
		for i := range out {
			out[i] ^= param[i]
		}
	}
	return out
}

// compareLE compares two equal-length little-endian unsigned integers.
func compareLE(a, b []byte) int {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func validAtomic(op kv.AtomicOp) bool {
	return op >= kv.AtomicAdd && op <= kv.AtomicBitXor
}
