// Package keys implements the FoundationDB tuple layer encoding and
// subspaces, byte for byte as specified in FoundationDB's design/tuple.md,
// in pure Go (the official tuple package imports the cgo fdb package).
//
// # Encoding
//
// A Tuple is a sequence of typed elements. Each element is a type code
// followed by its payload:
//
//	0x00        nil (0x00 0xff inside a nested tuple)
//	0x01        []byte, 0x00 escaped as 0x00 0xff, terminated by 0x00
//	0x02        string (UTF-8 bytes as given), escaped like []byte
//	0x05        nested Tuple, terminated by 0x00
//	0x0b        negative integer of 9..255 bytes: ^length, one's complement
//	0x0c-0x13   negative integer of 8..1 bytes, big-endian one's complement
//	0x14        zero
//	0x15-0x1c   positive integer of 1..8 bytes, big-endian
//	0x1d        positive integer of 9..255 bytes: length, big-endian
//	0x20, 0x21  float32, float64: big-endian IEEE bits, sign bit flipped if
//	            positive, all bits flipped if negative
//	0x26, 0x27  false, true
//	0x30        UUID, 16 bytes
//	0x33        Versionstamp, 10-byte transaction version + 2-byte user version
//
// Integers of every Go width and *big.Int share one encoding, so int8(5),
// uint64(5) and big.NewInt(5) pack to the same bytes.
//
// # Ordering
//
// bytes.Compare of two packed tuples equals the tuple order: element by
// element, a tuple that is a prefix of another sorts first; elements of
// different types sort by type code (nil < bytes < string < nested <
// integers < float32 < float64 < false < true < UUID < Versionstamp);
// integers numerically; floats in IEEE total order (-NaN < -Inf < -0.0 <
// 0.0 < +Inf < +NaN); bytes and strings bytewise. This is what makes a
// Subspace a contiguous key range.
//
// # Decoding
//
// Unpack never panics: malformed input yields an error wrapping
// ErrMalformed with the byte offset. Unpack accepts only canonical
// encodings (for example, no integer with a redundant leading byte), so
// every key decodes to at most one tuple and a decoded tuple re-packs to
// exactly the input. Integers decode as int64 when they fit, else uint64,
// else *big.Int. Strings are not checked for valid UTF-8, so any Go string
// round-trips. Float bits, including NaN payloads and -0.0, are preserved.
//
// Pack panics only when the tuple holds a Go type the encoding does not
// support (or an integer wider than 255 bytes); that is a programming
// error. PackErr reports the same condition as an error.
//
// All returned byte slices and tuples are freshly allocated and owned by
// the caller; Unpack never retains its input. The package has no mutable
// state and is safe for concurrent use.
package keys
