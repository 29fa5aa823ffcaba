// Package kvcheck holds the validation rules of the kv contract shared by the
// engines and the KV server, so that every engine rejects the same input with
// the same error.
package kvcheck

import (
	"bytes"

	"github.com/fsmeta/fsmeta/kv"
)

// MaxUserKey is the end of the user key space (0xff): no user key is at or
// past it. Callers must not modify it.
var MaxUserKey = []byte{kv.SystemPrefix}

// Key validates a user key: at most kv.MaxKeySize bytes and outside the
// reserved system key space.
func Key(k []byte) error {
	if len(k) > kv.MaxKeySize {
		return kv.Errorf(kv.CodeKeyTooLarge, "key of %d bytes exceeds the limit of %d bytes", len(k), kv.MaxKeySize)
	}
	if len(k) > 0 && k[0] >= kv.SystemPrefix {
		return kv.Errorf(kv.CodeInvalid, "key %q is in the reserved system key space (>= 0xff)", Trunc(k))
	}
	return nil
}

// Value validates a value: at most kv.MaxValueSize bytes.
func Value(v []byte) error {
	if len(v) > kv.MaxValueSize {
		return kv.Errorf(kv.CodeValueTooLarge, "value of %d bytes exceeds the limit of %d bytes", len(v), kv.MaxValueSize)
	}
	return nil
}

// Range validates the bounds of a range clear or conflict range: a valid
// begin key, an end at most 0xff, and begin <= end.
func Range(b, e []byte) error {
	if err := Key(b); err != nil {
		return err
	}
	if len(e) > kv.MaxKeySize+1 || bytes.Compare(e, MaxUserKey) > 0 {
		return kv.Errorf(kv.CodeInvalid, "range end %q is past the user key space (at most 0xff)", Trunc(e))
	}
	if bytes.Compare(b, e) > 0 {
		return kv.Errorf(kv.CodeInvalid, "inverted range: begin %q is after end %q", Trunc(b), Trunc(e))
	}
	return nil
}

// Selector validates a key selector: one of the four FoundationDB forms
// (offset 0 or 1) with a key of at most kv.MaxKeySize+1 bytes.
func Selector(s kv.KeySelector) error {
	if s.Offset != 0 && s.Offset != 1 {
		return kv.Errorf(kv.CodeInvalid, "key selector offset %d: only the four FoundationDB forms (offset 0 or 1) are supported", s.Offset)
	}
	if len(s.Key) > kv.MaxKeySize+1 {
		return kv.Errorf(kv.CodeKeyTooLarge, "selector key of %d bytes exceeds the limit of %d bytes", len(s.Key), kv.MaxKeySize)
	}
	return nil
}

// Trunc shortens a key to at most 32 bytes for an error message. The result
// aliases k.
func Trunc(k []byte) []byte {
	if len(k) > 32 {
		return k[:32]
	}
	return k
}

// MinKey returns the smallest of k and ks.
func MinKey(k []byte, ks ...[]byte) []byte {
	for _, x := range ks {
		if bytes.Compare(x, k) < 0 {
			k = x
		}
	}
	return k
}

// MaxKey returns the largest of k and ks.
func MaxKey(k []byte, ks ...[]byte) []byte {
	for _, x := range ks {
		if bytes.Compare(x, k) > 0 {
			k = x
		}
	}
	return k
}

// SelectorEnd is the end of the key span a selector's resolution depends on.
func SelectorEnd(s kv.KeySelector) []byte {
	if s.OrEqual {
		return kv.KeyAfter(s.Key)
	}
	return s.Key
}

// ConflictSpan is the read conflict span [lo, hi) of a range read whose
// selectors bsel and esel resolved to b and e: every key between the
// selectors' reference keys and what they resolved to (even when the range
// came out empty), up to stop (just past the last row) when the limit stopped
// the read, else to the end. The span is empty when lo >= hi; it is not
// clamped to the user key space, and lo and hi may alias the arguments.
func ConflictSpan(b, e []byte, bsel, esel kv.KeySelector, stop []byte) (lo, hi []byte) {
	lo = MinKey(b, bsel.Key, e)
	hi = stop
	if hi == nil {
		hi = MaxKey(e, SelectorEnd(esel))
	}
	hi = MaxKey(hi, SelectorEnd(bsel))
	return lo, hi
}
