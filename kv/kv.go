package kv

import (
	"bytes"
	"context"
)

// Limits of every engine, as in FoundationDB. Exceeding one is a
// non-retryable error whose message names the limit.
const (
	MaxKeySize   = 10_000
	MaxValueSize = 100_000
	MaxTxnSize   = 10_000_000
)

// SystemPrefix starts the reserved key space: user keys must sort below it.
// A range end may be SystemPrefix itself.
const SystemPrefix = 0xff

// VersionstampSize is the size of a commit versionstamp: an 8-byte
// big-endian commit version followed by a 2-byte big-endian batch order.
const VersionstampSize = 10

// Engine opens transactions over one key space. It is safe for concurrent use.
type Engine interface {
	// NewReadOnly returns a transaction that can only read.
	NewReadOnly() ReadOnlyTxn
	// NewReadWrite returns a transaction that can read and write.
	NewReadWrite() ReadWriteTxn
	// Close releases the engine. Transactions in flight fail with ErrClosed.
	Close() error
}

// KeyValue is one row of a range read.
type KeyValue struct {
	Key   []byte
	Value []byte
}

// RangeResult is the answer to a range read. More reports that the range may
// hold rows beyond those returned; callers page on it (continuing after the
// last key returned) even when fewer than the limit came back.
type RangeResult struct {
	KVs  []KeyValue
	More bool
}

// KeySelector names a key relative to a reference key, in FoundationDB's
// terms: the last key less than (or equal to, with OrEqual) Key, moved
// Offset keys forward. Only the four forms below are supported: Offset 0 or 1.
type KeySelector struct {
	Key     []byte
	OrEqual bool
	Offset  int
}

// FirstGreaterOrEqual selects the first key >= k.
func FirstGreaterOrEqual(k []byte) KeySelector { return KeySelector{Key: k, Offset: 1} }

// FirstGreaterThan selects the first key > k.
func FirstGreaterThan(k []byte) KeySelector { return KeySelector{Key: k, OrEqual: true, Offset: 1} }

// LastLessThan selects the last key < k.
func LastLessThan(k []byte) KeySelector { return KeySelector{Key: k} }

// LastLessOrEqual selects the last key <= k.
func LastLessOrEqual(k []byte) KeySelector { return KeySelector{Key: k, OrEqual: true} }

// KeyRange is the half-open interval [Begin, End).
type KeyRange struct {
	Begin, End []byte
}

// Contains reports whether k lies in r.
func (r KeyRange) Contains(k []byte) bool {
	return bytes.Compare(k, r.Begin) >= 0 && bytes.Compare(k, r.End) < 0
}

// KeyAfter returns the first key after k: k followed by a zero byte.
// The result is a new slice.
func KeyAfter(k []byte) []byte {
	out := make([]byte, len(k)+1)
	copy(out, k)
	return out
}

// AtomicOp is an atomic read-modify-write applied at commit time without a
// read and without a read conflict.
type AtomicOp uint8

// Atomic operations, with FoundationDB's semantics. The existing value is
// zero-extended or truncated to the parameter's length first; a missing value
// counts as all zeroes except for Min and BitAnd, which then store the
// parameter (FoundationDB's MIN_V2 and AND_V2).
const (
	AtomicAdd    AtomicOp = iota + 1 // little-endian two's complement addition
	AtomicMax                        // little-endian unsigned maximum
	AtomicMin                        // little-endian unsigned minimum
	AtomicBitAnd                     // bitwise and
	AtomicBitOr                      // bitwise or
	AtomicBitXor                     // bitwise xor
)

func (op AtomicOp) String() string {
	switch op {
	case AtomicAdd:
		return "add"
	case AtomicMax:
		return "max"
	case AtomicMin:
		return "min"
	case AtomicBitAnd:
		return "and"
	case AtomicBitOr:
		return "or"
	case AtomicBitXor:
		return "xor"
	}
	return "unknown"
}

// ReadOnlyTxn reads at one read version. Not safe for concurrent use; the
// engine it came from is.
type ReadOnlyTxn interface {
	// SetReadVersion fixes the read version instead of asking the engine at
	// the first read. It must be called before any read.
	SetReadVersion(v int64)
	// ReadVersion returns the transaction's read version, taking one from
	// the engine if no read has happened yet.
	ReadVersion(ctx context.Context) (int64, error)

	// Get returns the value of key, or found == false if it has none.
	// It adds key as a read conflict (on read-write transactions).
	Get(ctx context.Context, key []byte) (value []byte, found bool, err error)
	// SnapshotGet is Get without a read conflict.
	SnapshotGet(ctx context.Context, key []byte) (value []byte, found bool, err error)
	// GetRange returns the rows between the keys the selectors resolve to,
	// in ascending order, at most limit of them (limit <= 0 means all). It
	// adds the span it covered as a read conflict: up to just past the last
	// row when the limit stopped it, else the whole range.
	GetRange(ctx context.Context, begin, end KeySelector, limit int) (RangeResult, error)
	// SnapshotGetRange is GetRange without a read conflict.
	SnapshotGetRange(ctx context.Context, begin, end KeySelector, limit int) (RangeResult, error)

	// Cancel abandons the transaction: every later call fails with
	// ErrCancelled.
	Cancel()
	// Reset returns the transaction to its new state (no read version, no
	// writes, no conflicts) so it can be used again.
	Reset()
}

// ReadWriteTxn adds writes and commit to ReadOnlyTxn. Mutations are buffered
// until Commit; a mutation that breaks a limit makes Commit fail with the
// matching error.
type ReadWriteTxn interface {
	ReadOnlyTxn

	// AddReadConflict makes the commit conflict if key was written after
	// the read version, as if it had been read.
	AddReadConflict(key []byte)
	// AddReadConflictRange does the same for [begin, end).
	AddReadConflictRange(begin, end []byte)

	// Set stores value under key.
	Set(key, value []byte)
	// Clear removes key.
	Clear(key []byte)
	// ClearRange removes every key in [begin, end).
	ClearRange(begin, end []byte)
	// Atomic applies op with param to the value of key at commit time.
	Atomic(op AtomicOp, key, param []byte)
	// SetVersionstampedKey stores value under key with the 10 bytes at
	// offset replaced by the commit's versionstamp. The error reports an
	// offset out of bounds.
	SetVersionstampedKey(key []byte, offset int, value []byte) error
	// SetVersionstampedValue stores value under key with the 10 bytes at
	// offset of the value replaced by the commit's versionstamp.
	SetVersionstampedValue(key, value []byte, offset int) error

	// Commit applies the buffered writes atomically. On ErrConflict,
	// ErrTooOld and other errors for which Retryable holds nothing was
	// applied, except for ErrMaybeCommitted, whose outcome is unknown.
	// A transaction with no writes commits without contacting the engine.
	Commit(ctx context.Context) error
	// CommittedVersion is the version the transaction committed at, or -1
	// when it is read-only or has not committed.
	CommittedVersion() int64
	// Versionstamp is the commit's versionstamp; it fails before a
	// successful commit.
	Versionstamp() ([VersionstampSize]byte, error)
}

// Lookup is the result of reading one key in a batch.
type Lookup struct {
	Value []byte
	Found bool
}

// BatchGetter is implemented by transactions that read many keys in one
// round trip. GetMany adds each key as a read conflict; SnapshotGetMany adds
// none. Results are in the order of keys.
type BatchGetter interface {
	GetMany(ctx context.Context, keys [][]byte) ([]Lookup, error)
	SnapshotGetMany(ctx context.Context, keys [][]byte) ([]Lookup, error)
}

// GetMany reads keys through tx's BatchGetter when it has one, and one Get
// at a time otherwise. snapshot chooses snapshot reads.
func GetMany(ctx context.Context, tx ReadOnlyTxn, snapshot bool, keys ...[]byte) ([]Lookup, error) {
	if bg, ok := tx.(BatchGetter); ok {
		if snapshot {
			return bg.SnapshotGetMany(ctx, keys)
		}
		return bg.GetMany(ctx, keys)
	}
	out := make([]Lookup, len(keys))
	for i, k := range keys {
		var err error
		if snapshot {
			out[i].Value, out[i].Found, err = tx.SnapshotGet(ctx, k)
		} else {
			out[i].Value, out[i].Found, err = tx.Get(ctx, k)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
