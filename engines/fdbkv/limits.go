package fdbkv

import (
	"bytes"
	"encoding/binary"

	"github.com/fsmeta/fsmeta/internal/kvcheck"
	"github.com/fsmeta/fsmeta/kv"
)

// The pure part of the adapter, free of cgo so that plain `go test` covers
// it: limits, the user-to-stored key mapping, versionstamp parameters and
// the read conflict span of a range read.

// rawAccessSlack is what FoundationDB adds to its key limit for
// transactions with the raw_access option (room for an 8-byte tenant
// prefix).
const rawAccessSlack = 8

// stampOffsetSize is the little-endian offset FoundationDB (API >= 520)
// expects after the key or value of a versionstamped write.
const stampOffsetSize = 4

// space maps the engine's user keys onto the keys stored in FoundationDB:
// prefix + key. The prefix is empty outside tests; the conformance test
// gives each subtest its own (with raw access, so that a 10,000-byte user
// key still fits FoundationDB's limit).
type space struct {
	prefix    []byte
	rawAccess bool
}

// pack returns prefix+k as a new slice.
func (s space) pack(k []byte) []byte {
	out := make([]byte, len(s.prefix)+len(k))
	copy(out, s.prefix)
	copy(out[len(s.prefix):], k)
	return out
}

// unpack returns the user key of a stored key; keys below the prefix (a
// selector that resolved before it) map to the empty key, the start of the
// user key space. The result aliases k.
func (s space) unpack(k []byte) []byte {
	if !bytes.HasPrefix(k, s.prefix) {
		if bytes.Compare(k, s.prefix) < 0 {
			return []byte{}
		}
		return kvcheck.MaxUserKey
	}
	return k[len(s.prefix):]
}

// keyLimit is FoundationDB's limit on a stored key.
func (s space) keyLimit() int {
	if s.rawAccess {
		return kv.MaxKeySize + rawAccessSlack
	}
	return kv.MaxKeySize
}

// checkStored checks that key, stored with extra bytes after it (the
// versionstamp offset), fits FoundationDB's limit, so that no oversized key
// ever reaches the client library.
func (s space) checkStored(key []byte, extra int) error {
	if n := len(s.prefix) + len(key) + extra; n > s.keyLimit() {
		return kv.Errorf(kv.CodeKeyTooLarge, "key of %d bytes is stored as %d bytes (prefix and versionstamp offset included), over FoundationDB's limit of %d bytes", len(key), n, s.keyLimit())
	}
	return nil
}

// checkValue validates a value; extra counts bytes FoundationDB adds to it
// (the versionstamp offset), which its own limit includes.
func checkValue(v []byte, extra int) error {
	if err := kvcheck.Value(v); err != nil {
		return err
	}
	if len(v)+extra > kv.MaxValueSize {
		return kv.Errorf(kv.CodeValueTooLarge, "versionstamped value of %d bytes exceeds FoundationDB's limit of %d bytes with its %d-byte offset", len(v), kv.MaxValueSize, extra)
	}
	return nil
}

func checkStampOffset(what string, n, offset int) error {
	if offset < 0 || offset+kv.VersionstampSize > n {
		return kv.Errorf(kv.CodeInvalid, "versionstamp offset %d out of bounds for a %s of %d bytes (needs offset+10 <= length)", offset, what, n)
	}
	return nil
}

func validAtomic(op kv.AtomicOp) bool {
	return op >= kv.AtomicAdd && op <= kv.AtomicBitXor
}

// stampParam returns b followed by offset as 4 little-endian bytes: the
// parameter of FoundationDB's SET_VERSIONSTAMPED_KEY / _VALUE at API >= 520.
func stampParam(b []byte, offset int) []byte {
	out := make([]byte, len(b), len(b)+stampOffsetSize)
	copy(out, b)
	return binary.LittleEndian.AppendUint32(out, uint32(offset))
}

// strinc returns the first key after every key starting with prefix; ok is
// false when prefix is empty or all 0xff.
func strinc(prefix []byte) (end []byte, ok bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			end = bytes.Clone(prefix[:i+1])
			end[i]++
			return end, true
		}
	}
	return nil, false
}

// offset1Key is the key at which a range bounded by an offset-1 selector
// starts or stops; such selectors need no read to resolve.
func offset1Key(s kv.KeySelector) []byte {
	if s.OrEqual {
		return kv.KeyAfter(s.Key)
	}
	return s.Key
}

// selectorUpper is the key below which an offset-0 selector looks for the
// last key, clamped to the user key space.
func selectorUpper(s kv.KeySelector) []byte {
	upper := kvcheck.SelectorEnd(s)
	if bytes.Compare(upper, kvcheck.MaxUserKey) > 0 {
		return kvcheck.MaxUserKey
	}
	return upper
}

// readSpan is the read conflict range of a range read whose selectors
// resolved to b and e: every key between the selectors' reference keys and
// what they resolved to (even when the range came out empty), up to stop
// (just past the last row) when the limit stopped the read, else to the
// end, clamped to the user key space. It is kvcheck.ConflictSpan, the rule
// of the shared transaction buffer (internal/txnbuf), so fdbkv conflicts
// exactly where memkv and customkv do. ok is false when the span is empty.
func readSpan(b, e []byte, bsel, esel kv.KeySelector, stop []byte) (lo, hi []byte, ok bool) {
	lo, hi = kvcheck.ConflictSpan(b, e, bsel, esel, stop)
	if bytes.Compare(hi, kvcheck.MaxUserKey) > 0 {
		hi = kvcheck.MaxUserKey
	}
	if bytes.Compare(lo, hi) >= 0 {
		return nil, nil, false
	}
	return bytes.Clone(lo), bytes.Clone(hi), true
}
