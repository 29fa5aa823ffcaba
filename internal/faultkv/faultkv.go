// Package faultkv wraps a kv.Engine and injects commit faults, as
// FoundationDB's simulator does: retryable errors before a commit (nothing
// applied) and unknown results after a real commit (everything applied, the
// caller told kv.ErrMaybeCommitted). Code that survives it is correct under
// retries: kv.Update must hide the first kind, and only idempotent closures
// may retry the second.
//
// Faults are drawn from a seeded source, so a run is reproducible given the
// same sequence of commits. The engine is safe for concurrent use.
package faultkv

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/fsmeta/fsmeta/kv"
)

// Options configure the faults.
type Options struct {
	// Seed makes the faults reproducible.
	Seed int64
	// Rate is the probability that a commit with writes gets a fault.
	Rate float64
	// MaybeCommittedShare is the share of faults that commit for real and
	// then report kv.ErrMaybeCommitted; the rest fail before the commit
	// with kv.ErrConflict or kv.ErrUnavailable (alternately at random).
	MaybeCommittedShare float64
}

// Stats counts what the engine did.
type Stats struct {
	Commits        int64 // Commit calls on transactions with writes
	Injected       int64 // faults of both kinds
	Conflicts      int64 // injected kv.ErrConflict, nothing applied
	Unavailable    int64 // injected kv.ErrUnavailable, nothing applied
	MaybeCommitted int64 // real commits reported as kv.ErrMaybeCommitted
}

// Engine is a kv.Engine that injects faults into its inner engine's commits.
type Engine struct {
	inner kv.Engine
	opts  Options

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	commits, conflicts, unavailable, maybe atomic.Int64
}

var _ kv.Engine = (*Engine)(nil)

// New wraps inner.
func New(inner kv.Engine, opts Options) *Engine {
	return &Engine{
		inner: inner,
		opts:  opts,
		rnd:   rand.New(rand.NewPCG(uint64(opts.Seed), 0xfa017)),
	}
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := Stats{
		Commits:        e.commits.Load(),
		Conflicts:      e.conflicts.Load(),
		Unavailable:    e.unavailable.Load(),
		MaybeCommitted: e.maybe.Load(),
	}
	s.Injected = s.Conflicts + s.Unavailable + s.MaybeCommitted
	return s
}

// NewReadOnly implements kv.Engine; reads are not faulted.
func (e *Engine) NewReadOnly() kv.ReadOnlyTxn { return e.inner.NewReadOnly() }

// NewReadWrite implements kv.Engine.
func (e *Engine) NewReadWrite() kv.ReadWriteTxn {
	return &txn{ReadWriteTxn: e.inner.NewReadWrite(), e: e}
}

// Close implements kv.Engine.
func (e *Engine) Close() error { return e.inner.Close() }

type fault uint8

const (
	none fault = iota
	conflict
	unavailable
	maybeCommitted
)

func (e *Engine) draw() fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rnd.Float64() >= e.opts.Rate {
		return none
	}
	if e.rnd.Float64() < e.opts.MaybeCommittedShare {
		return maybeCommitted
	}
	if e.rnd.IntN(2) == 0 {
		return conflict
	}
	return unavailable
}

// txn faults the commits of a transaction that wrote something: one that
// wrote nothing commits without the engine, so it has nothing to lose.
type txn struct {
	kv.ReadWriteTxn
	e     *Engine
	dirty bool
	maybe bool // the last commit was reported as maybe committed
}

var (
	_ kv.ReadWriteTxn = (*txn)(nil)
	_ kv.BatchGetter  = (*txn)(nil)
)

func (t *txn) Set(key, value []byte) { t.dirty = true; t.ReadWriteTxn.Set(key, value) }
func (t *txn) Clear(key []byte)      { t.dirty = true; t.ReadWriteTxn.Clear(key) }
func (t *txn) ClearRange(begin, end []byte) {
	t.dirty = true
	t.ReadWriteTxn.ClearRange(begin, end)
}

func (t *txn) Atomic(op kv.AtomicOp, key, param []byte) {
	t.dirty = true
	t.ReadWriteTxn.Atomic(op, key, param)
}

func (t *txn) SetVersionstampedKey(key []byte, offset int, value []byte) error {
	t.dirty = true
	return t.ReadWriteTxn.SetVersionstampedKey(key, offset, value)
}

func (t *txn) SetVersionstampedValue(key, value []byte, offset int) error {
	t.dirty = true
	return t.ReadWriteTxn.SetVersionstampedValue(key, value, offset)
}

// GetMany and SnapshotGetMany keep the inner transaction's batch reads.
func (t *txn) GetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return kv.GetMany(ctx, t.ReadWriteTxn, false, keys...)
}

func (t *txn) SnapshotGetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return kv.GetMany(ctx, t.ReadWriteTxn, true, keys...)
}

func (t *txn) Reset() {
	t.ReadWriteTxn.Reset()
	t.dirty, t.maybe = false, false
}

func (t *txn) Commit(ctx context.Context) error {
	if !t.dirty {
		return t.ReadWriteTxn.Commit(ctx)
	}
	t.e.commits.Add(1)
	switch t.e.draw() {
	case conflict:
		t.e.conflicts.Add(1)
		return kv.Errorf(kv.CodeConflict, "faultkv: injected conflict")
	case unavailable:
		t.e.unavailable.Add(1)
		return kv.Errorf(kv.CodeUnavailable, "faultkv: injected unavailability")
	case maybeCommitted:
		if err := t.ReadWriteTxn.Commit(ctx); err != nil {
			return err // a real failure stays what it is
		}
		t.e.maybe.Add(1)
		t.maybe = true
		return kv.Errorf(kv.CodeMaybeCommitted, "faultkv: commit applied, result reported lost")
	}
	return t.ReadWriteTxn.Commit(ctx)
}

// CommittedVersion is -1 after a reported unknown result: the caller was
// not told.
func (t *txn) CommittedVersion() int64 {
	if t.maybe {
		return -1
	}
	return t.ReadWriteTxn.CommittedVersion()
}

func (t *txn) Versionstamp() ([kv.VersionstampSize]byte, error) {
	if t.maybe {
		return [kv.VersionstampSize]byte{}, kv.Errorf(kv.CodeInvalid, "faultkv: versionstamp of a commit whose result was reported lost")
	}
	return t.ReadWriteTxn.Versionstamp()
}
