// Package txnbuf is the read-your-writes transaction buffer shared by the
// engines: pending writes, conflict ranges, versionstamp operations and
// limits, over a Backend that reads committed data and applies commits.
// memkv's Backend is its local MVCC store; customkv's is a set of RPCs. One
// implementation of the transaction semantics, two transports.
package txnbuf

import (
	"context"

	"github.com/fsmeta/fsmeta/kv"
)

// Backend is what a transaction needs from the store behind it.
//
// Slices returned by a Backend may be shared with the store: the
// transaction copies them before they reach the caller, and never modifies
// them. Slices passed in may be retained by the Backend only for the call.
type Backend interface {
	// ReadVersion returns a version at which every acknowledged commit is
	// visible.
	ReadVersion(ctx context.Context) (int64, error)
	// Get reads keys at rv. rv == 0 asks the backend to choose a read
	// version, which it returns; otherwise it returns rv.
	Get(ctx context.Context, rv int64, keys [][]byte) (vals []Value, usedRV int64, err error)
	// Range reads at most limit (> 0) rows of [begin, end) at rv, ascending,
	// or descending (from end) when reverse. more reports rows beyond those
	// returned. rv == 0 behaves as in Get.
	Range(ctx context.Context, rv int64, begin, end []byte, limit int, reverse bool) (rows []kv.KeyValue, more bool, usedRV int64, err error)
	// Commit checks req's read conflicts and applies its mutations.
	Commit(ctx context.Context, req *CommitRequest) (CommitResult, error)
}

// Value is the result of reading one key.
type Value struct {
	Value []byte
	Found bool
}

// MutationType names a buffered write.
type MutationType uint8

// Mutation types.
const (
	MutSet        MutationType = iota + 1 // Key = Value
	MutClear                              // remove Key
	MutClearRange                         // remove [Key, End)
	MutAtomic                             // Key = Op(Key, Value)
	MutSetVSKey                           // Key with the stamp at Offset = Value
	MutSetVSValue                         // Key = Value with the stamp at Offset
)

// Mutation is one write of a commit. Mutations apply in order.
type Mutation struct {
	Type   MutationType
	Op     kv.AtomicOp // MutAtomic only
	Key    []byte
	End    []byte // MutClearRange only
	Value  []byte
	Offset int // versionstamp offset, MutSetVSKey and MutSetVSValue only
}

// CommitRequest is everything a Backend needs to commit a transaction.
type CommitRequest struct {
	// ReadVersion is the transaction's read version; 0 when it read nothing
	// and has no read conflicts.
	ReadVersion int64
	// ReadConflicts are sorted and non-overlapping.
	ReadConflicts []kv.KeyRange
	Mutations     []Mutation
}

// CommitResult is what a successful commit returns.
type CommitResult struct {
	Version      int64
	Versionstamp [kv.VersionstampSize]byte
}

// OneGetter is implemented by a Backend that can read a single key without
// the slices of Get; a transaction uses it for Get and SnapshotGet.
type OneGetter interface {
	// GetOne is Get for one key.
	GetOne(ctx context.Context, rv int64, key []byte) (val Value, usedRV int64, err error)
}
