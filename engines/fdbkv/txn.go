//go:build fdb

package fdbkv

import (
	"bytes"
	"context"
	"errors"
	"math"

	"github.com/apple/foundationdb/bindings/go/src/fdb"
	"github.com/fsmeta/fsmeta/internal/kvcheck"
	"github.com/fsmeta/fsmeta/kv"
)

type state uint8

const (
	active state = iota
	committed
	cancelled
)

// Txn is a FoundationDB transaction behind the kv contract. It implements
// kv.ReadWriteTxn and kv.BatchGetter (kv.ReadOnlyTxn when it came from
// NewReadOnly). It is not safe for concurrent use.
type Txn struct {
	e        *Engine
	readOnly bool

	tr      fdb.Transaction
	openErr error // the transaction could not be created: every call fails with it
	st      state
	err     error // first failed mutation: Commit returns it
	size    int   // bytes counted against kv.MaxTxnSize, as memkv counts them
	wrote   bool  // a mutation reached FoundationDB
	rvFixed bool  // a read version was set or a read issued: SetReadVersion is ignored
	// stamped holds the stored keys with a pending versionstamped value:
	// unreadable, and not to be combined with atomics (as in memkv).
	stamped map[string]struct{}

	version  int64
	stamp    [kv.VersionstampSize]byte
	stampErr error
}

var (
	_ kv.ReadWriteTxn = (*Txn)(nil)
	_ kv.BatchGetter  = (*Txn)(nil)
)

// open creates the FoundationDB transaction, keeping a failure as openErr.
func (t *Txn) open() {
	tr, err := t.e.createTransaction()
	if err == nil {
		err = t.e.setOptions(tr)
	}
	t.tr, t.openErr = tr, err
}

// Reset implements kv.ReadOnlyTxn.
func (t *Txn) Reset() {
	e, ro := t.e, t.readOnly
	tr, openErr := t.tr, t.openErr
	*t = Txn{e: e, readOnly: ro, version: -1}
	if openErr != nil || e.closed.Load() {
		t.open()
		return
	}
	tr.Reset()
	t.tr = tr
	t.openErr = e.setOptions(tr)
}

// Cancel implements kv.ReadOnlyTxn.
func (t *Txn) Cancel() {
	if t.st != active {
		return
	}
	t.st = cancelled
	if t.openErr == nil {
		t.tr.Cancel()
	}
}

func (t *Txn) usable() error {
	if t.e.closed.Load() {
		return errClosed()
	}
	switch t.st {
	case committed:
		return kv.Errorf(kv.CodeInvalid, "transaction already committed")
	case cancelled:
		return kv.Errorf(kv.CodeCancelled, "transaction cancelled")
	}
	return t.openErr
}

// SetReadVersion implements kv.ReadOnlyTxn. It is ignored once the
// transaction has a read version.
func (t *Txn) SetReadVersion(v int64) {
	if t.rvFixed || v <= 0 || t.usable() != nil {
		return
	}
	t.rvFixed = true
	t.tr.SetReadVersion(v)
}

// ReadVersion implements kv.ReadOnlyTxn.
func (t *Txn) ReadVersion(ctx context.Context) (int64, error) {
	if err := t.usable(); err != nil {
		return 0, err
	}
	return t.readVersion(ctx)
}

func (t *Txn) readVersion(ctx context.Context) (int64, error) {
	t.rvFixed = true
	f := t.tr.GetReadVersion()
	var v int64
	err := t.await(ctx, func() (err error) { v, err = f.Get(); return err })
	return v, err
}

// Get implements kv.ReadOnlyTxn.
func (t *Txn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	return t.get(ctx, key, !t.readOnly)
}

// SnapshotGet implements kv.ReadOnlyTxn.
func (t *Txn) SnapshotGet(ctx context.Context, key []byte) ([]byte, bool, error) {
	return t.get(ctx, key, false)
}

func (t *Txn) get(ctx context.Context, key []byte, conflict bool) ([]byte, bool, error) {
	ls, err := t.getMany(ctx, [][]byte{key}, conflict)
	if err != nil {
		return nil, false, err
	}
	return ls[0].Value, ls[0].Found, nil
}

// GetMany implements kv.BatchGetter: every read is issued before the
// first is waited for.
func (t *Txn) GetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return t.getMany(ctx, keys, !t.readOnly)
}

// SnapshotGetMany implements kv.BatchGetter.
func (t *Txn) SnapshotGetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return t.getMany(ctx, keys, false)
}

func (t *Txn) reader(conflict bool) fdb.ReadTransaction {
	if conflict {
		return t.tr
	}
	return t.tr.Snapshot()
}

func (t *Txn) getMany(ctx context.Context, keys [][]byte, conflict bool) ([]kv.Lookup, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := kvcheck.Key(k); err != nil {
			return nil, err
		}
		if len(t.stamped) > 0 {
			if _, ok := t.stamped[string(t.e.space.pack(k))]; ok {
				return nil, kv.Errorf(kv.CodeInvalid, "key %q has a versionstamped value pending and cannot be read before commit", kvcheck.Trunc(k))
			}
		}
	}
	r := t.reader(conflict)
	t.rvFixed = true
	fs := make([]fdb.FutureByteSlice, len(keys))
	for i, k := range keys {
		fs[i] = r.Get(fdb.Key(t.e.space.pack(k)))
	}
	out := make([]kv.Lookup, len(keys))
	err := t.await(ctx, func() error {
		for i, f := range fs {
			v, err := f.Get()
			if err != nil {
				return err
			}
			// The bindings return nil for a missing key and a non-nil
			// (possibly empty) copy for a present one.
			out[i] = kv.Lookup{Value: v, Found: v != nil}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetRange implements kv.ReadOnlyTxn.
func (t *Txn) GetRange(ctx context.Context, begin, end kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.getRange(ctx, begin, end, limit, !t.readOnly)
}

// SnapshotGetRange implements kv.ReadOnlyTxn.
func (t *Txn) SnapshotGetRange(ctx context.Context, begin, end kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.getRange(ctx, begin, end, limit, false)
}

// getRange reads with snapshot reads only and, for a serializable read,
// adds the read conflict range itself (see readSpan): FoundationDB's own
// range conflict would cover the extra row read to compute More.
func (t *Txn) getRange(ctx context.Context, bsel, esel kv.KeySelector, limit int, conflict bool) (kv.RangeResult, error) {
	if err := t.usable(); err != nil {
		return kv.RangeResult{}, err
	}
	if err := kvcheck.Selector(bsel); err != nil {
		return kv.RangeResult{}, err
	}
	if err := kvcheck.Selector(esel); err != nil {
		return kv.RangeResult{}, err
	}
	snap := t.tr.Snapshot()
	t.rvFixed = true
	b, err := t.resolve(ctx, snap, bsel)
	if err != nil {
		return kv.RangeResult{}, err
	}
	e, err := t.resolve(ctx, snap, esel)
	if err != nil {
		return kv.RangeResult{}, err
	}
	if bytes.Compare(e, kvcheck.MaxUserKey) > 0 {
		e = kvcheck.MaxUserKey
	}
	var res kv.RangeResult
	var stop []byte // end of the span read when the limit stopped the read
	read := false
	if bytes.Compare(b, e) < 0 {
		want := 0 // all
		if limit > 0 && limit < math.MaxInt32 {
			want = limit + 1 // one more than asked, so that More is exact
		}
		rr := snap.GetRange(fdb.KeyRange{Begin: fdb.Key(t.e.space.pack(b)), End: fdb.Key(t.e.space.pack(e))}, fdb.RangeOptions{Limit: want})
		var rows []fdb.KeyValue
		if err := t.await(ctx, func() (err error) { rows, err = rr.GetSliceWithError(); return err }); err != nil {
			return kv.RangeResult{}, err
		}
		read = true
		if want > 0 && len(rows) > limit {
			rows, res.More = rows[:limit], true
		}
		res.KVs = make([]kv.KeyValue, len(rows))
		for i, r := range rows {
			res.KVs[i] = kv.KeyValue{Key: t.e.space.unpack(r.Key), Value: r.Value}
		}
		if res.More {
			stop = kv.KeyAfter(res.KVs[len(res.KVs)-1].Key)
		}
	}
	if conflict {
		if !read && bsel.Offset == 1 && esel.Offset == 1 {
			// Nothing was read: take the read version a read would have.
			if _, err := t.readVersion(ctx); err != nil {
				return kv.RangeResult{}, err
			}
		}
		if lo, hi, ok := readSpan(b, e, bsel, esel, stop); ok {
			if err := t.addRead(lo, hi); err != nil {
				return kv.RangeResult{}, err
			}
		}
	}
	return res, nil
}

// resolve turns a selector into the user key at which a range starts (as
// a begin selector) or stops (as an end selector). Offset-1 selectors need
// no read; offset-0 ones are the last key below selectorUpper, found with a
// snapshot GetKey and clamped to the engine's key space.
func (t *Txn) resolve(ctx context.Context, snap fdb.Snapshot, s kv.KeySelector) ([]byte, error) {
	if s.Offset == 1 {
		return offset1Key(s), nil
	}
	f := snap.GetKey(fdb.LastLessThan(fdb.Key(t.e.space.pack(selectorUpper(s)))))
	var k fdb.Key
	if err := t.await(ctx, func() (err error) { k, err = f.Get(); return err }); err != nil {
		return nil, err
	}
	return t.e.space.unpack(k), nil
}

// AddReadConflict implements kv.ReadWriteTxn.
func (t *Txn) AddReadConflict(key []byte) {
	if t.mutable() && t.check(kvcheck.Key(key)) {
		t.check(t.addRead(key, kv.KeyAfter(key)))
	}
}

// AddReadConflictRange implements kv.ReadWriteTxn.
func (t *Txn) AddReadConflictRange(begin, end []byte) {
	if t.mutable() && t.check(kvcheck.Range(begin, end)) && bytes.Compare(begin, end) < 0 {
		t.check(t.addRead(begin, end))
	}
}

// addRead adds [b, e) as a read conflict range. Like memkv it counts the
// bytes without failing on the size limit: the next write does.
func (t *Txn) addRead(b, e []byte) error {
	t.size += len(b) + len(e)
	sp := t.e.space
	return toKV(t.tr.AddReadConflictRange(fdb.KeyRange{Begin: fdb.Key(sp.pack(b)), End: fdb.Key(sp.pack(e))}))
}

// mutable reports whether a mutation may proceed, recording why not.
func (t *Txn) mutable() bool {
	if err := t.usable(); err != nil {
		t.fail(err)
		return false
	}
	if t.readOnly {
		t.fail(kv.Errorf(kv.CodeInvalid, "write in a read-only transaction"))
		return false
	}
	return true
}

func (t *Txn) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// check records err, if any, and reports whether there was none.
func (t *Txn) check(err error) bool {
	if err != nil {
		t.fail(err)
		return false
	}
	return true
}

func (t *Txn) grow(n int) bool {
	t.size += n
	if t.size > kv.MaxTxnSize {
		t.fail(kv.Errorf(kv.CodeTxnTooLarge, "transaction of over %d bytes exceeds the limit of %d bytes", t.size, kv.MaxTxnSize))
		return false
	}
	return true
}

// write checks key and value and counts them; the caller then hands the
// mutation to FoundationDB.
func (t *Txn) write(key, value []byte) bool {
	if !t.mutable() || !t.check(kvcheck.Key(key)) || !t.check(checkValue(value, 0)) ||
		!t.check(t.e.space.checkStored(key, 0)) || !t.grow(len(key)+len(value)) {
		return false
	}
	t.wrote = true
	return true
}

// unstamp forgets pending versionstamped values of stored keys in [b, e):
// a later write replaces them.
func (t *Txn) unstamp(b, e []byte) {
	for k := range t.stamped {
		if k >= string(b) && k < string(e) {
			delete(t.stamped, k)
		}
	}
}

// Set implements kv.ReadWriteTxn.
func (t *Txn) Set(key, value []byte) {
	if !t.write(key, value) {
		return
	}
	pk := t.e.space.pack(key)
	delete(t.stamped, string(pk))
	t.tr.Set(fdb.Key(pk), value)
}

// Clear implements kv.ReadWriteTxn.
func (t *Txn) Clear(key []byte) {
	if !t.write(key, nil) {
		return
	}
	pk := t.e.space.pack(key)
	delete(t.stamped, string(pk))
	t.tr.Clear(fdb.Key(pk))
}

// ClearRange implements kv.ReadWriteTxn.
func (t *Txn) ClearRange(begin, end []byte) {
	if !t.mutable() || !t.check(kvcheck.Range(begin, end)) || bytes.Equal(begin, end) || !t.grow(len(begin)+len(end)) {
		return
	}
	t.wrote = true
	pb, pe := t.e.space.pack(begin), t.e.space.pack(end)
	t.unstamp(pb, pe)
	t.tr.ClearRange(fdb.KeyRange{Begin: fdb.Key(pb), End: fdb.Key(pe)})
}

// Atomic implements kv.ReadWriteTxn.
func (t *Txn) Atomic(op kv.AtomicOp, key, param []byte) {
	if !t.mutable() {
		return
	}
	if !validAtomic(op) {
		t.fail(kv.Errorf(kv.CodeInvalid, "unknown atomic operation %d", op))
		return
	}
	pk := t.e.space.pack(key)
	if _, ok := t.stamped[string(pk)]; ok {
		t.fail(kv.Errorf(kv.CodeInvalid, "atomic %v on key %q after a versionstamped value in the same transaction", op, kvcheck.Trunc(key)))
		return
	}
	if !t.write(key, param) {
		return
	}
	k := fdb.Key(pk)
	switch op {
	case kv.AtomicAdd:
		t.tr.Add(k, param)
	case kv.AtomicMax:
		t.tr.Max(k, param)
	case kv.AtomicMin:
		t.tr.Min(k, param)
	case kv.AtomicBitAnd:
		t.tr.BitAnd(k, param)
	case kv.AtomicBitOr:
		t.tr.BitOr(k, param)
	case kv.AtomicBitXor:
		t.tr.BitXor(k, param)
	}
}

// SetVersionstampedKey implements kv.ReadWriteTxn.
func (t *Txn) SetVersionstampedKey(key []byte, offset int, value []byte) error {
	if err := checkStampOffset("key", len(key), offset); err != nil {
		t.fail(err)
		return err
	}
	if !t.mutable() || !t.check(kvcheck.Key(key)) || !t.check(checkValue(value, 0)) ||
		!t.check(t.e.space.checkStored(key, stampOffsetSize)) || !t.grow(len(key)+len(value)) {
		return t.err
	}
	t.wrote = true
	sp := t.e.space
	t.tr.SetVersionstampedKey(fdb.Key(stampParam(sp.pack(key), len(sp.prefix)+offset)), value)
	return nil
}

// SetVersionstampedValue implements kv.ReadWriteTxn.
func (t *Txn) SetVersionstampedValue(key, value []byte, offset int) error {
	if err := checkStampOffset("value", len(value), offset); err != nil {
		t.fail(err)
		return err
	}
	if !t.mutable() || !t.check(kvcheck.Key(key)) || !t.check(checkValue(value, stampOffsetSize)) ||
		!t.check(t.e.space.checkStored(key, 0)) || !t.grow(len(key)+len(value)) {
		return t.err
	}
	t.wrote = true
	pk := t.e.space.pack(key)
	if t.stamped == nil {
		t.stamped = map[string]struct{}{}
	}
	t.stamped[string(pk)] = struct{}{}
	t.tr.SetVersionstampedValue(fdb.Key(pk), stampParam(value, offset))
	return nil
}

// Commit implements kv.ReadWriteTxn.
func (t *Txn) Commit(ctx context.Context) error {
	if err := t.usable(); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	if t.readOnly {
		return kv.Errorf(kv.CodeInvalid, "commit of a read-only transaction")
	}
	if !t.wrote {
		t.st = committed
		return nil
	}
	if err := ctx.Err(); err != nil {
		t.Cancel()
		return contextError(err) // nothing was sent
	}
	// The versionstamp future must be asked for before the commit.
	vs := t.tr.GetVersionstamp()
	f := t.tr.Commit()
	var version int64
	var stamp fdb.Key
	var stampErr, versionErr error
	err := t.awaitCommit(ctx, func() error {
		if err := f.Get(); err != nil {
			return err
		}
		// Read the results at once, before a late context cancel.
		version, versionErr = t.tr.GetCommittedVersion()
		stamp, stampErr = vs.Get()
		return nil
	})
	if err != nil {
		return err
	}
	t.st = committed
	if versionErr != nil {
		// Committed, but the version is unknown: report it as such.
		return mapCode(codeCommitUnknownResult, "the commit succeeded but its version could not be read", versionErr)
	}
	t.version = version
	switch {
	case stampErr != nil:
		t.stampErr = toKV(stampErr)
	case len(stamp) != kv.VersionstampSize:
		t.stampErr = kv.Errorf(kv.CodeInternal, "FoundationDB returned a versionstamp of %d bytes", len(stamp))
	default:
		copy(t.stamp[:], stamp)
	}
	return nil
}

// CommittedVersion implements kv.ReadWriteTxn.
func (t *Txn) CommittedVersion() int64 { return t.version }

// Versionstamp implements kv.ReadWriteTxn.
func (t *Txn) Versionstamp() ([kv.VersionstampSize]byte, error) {
	if t.version < 0 {
		return [kv.VersionstampSize]byte{}, kv.Errorf(kv.CodeInvalid, "versionstamp asked before a successful commit with writes")
	}
	return t.stamp, t.stampErr
}

// OnError is FoundationDB's retry step, for callers that run one
// transaction through a loop of their own instead of kv.Update: given the
// error of a failed call or Commit, it waits the delay FoundationDB chooses
// for it and resets the transaction (nil: run the attempt again), or
// returns the error when it is not retryable or Options.RetryLimit is used
// up. Errors that did not come from FoundationDB are returned unchanged.
// A maybe-committed error is retried like the others: only callers whose
// attempt is idempotent may use OnError.
func (t *Txn) OnError(ctx context.Context, err error) error {
	var fe fdb.Error
	if !errors.As(err, &fe) || t.openErr != nil || t.e.closed.Load() {
		return err
	}
	f := t.tr.OnError(fe)
	if werr := t.await(ctx, f.Get); werr != nil {
		return werr
	}
	// FoundationDB reset the transaction; clear the Go side to match and
	// set the options again (harmless if FoundationDB kept them).
	tr := t.tr
	*t = Txn{e: t.e, readOnly: t.readOnly, version: -1, tr: tr}
	t.openErr = t.e.setOptions(tr)
	return nil
}

// await runs get, which waits for a future of the transaction. If ctx ends
// first, the transaction is cancelled (FoundationDB futures take no
// context) and the context's error returned.
func (t *Txn) await(ctx context.Context, get func() error) error {
	if ctx.Done() == nil {
		return toKV(get())
	}
	if err := ctx.Err(); err != nil {
		t.Cancel()
		return contextError(err)
	}
	tr, fired := t.tr, make(chan struct{})
	stop := context.AfterFunc(ctx, func() { tr.Cancel(); close(fired) })
	err := get()
	if !stop() {
		<-fired
		t.st = cancelled
		return contextError(ctx.Err())
	}
	return toKV(err)
}

// awaitCommit is await for the commit future, whose cancellation leaves
// the outcome unknown.
func (t *Txn) awaitCommit(ctx context.Context, get func() error) error {
	if ctx.Done() == nil {
		return toKV(get())
	}
	tr, fired := t.tr, make(chan struct{})
	stop := context.AfterFunc(ctx, func() { tr.Cancel(); close(fired) })
	err := get()
	if stop() || err == nil {
		return toKV(err)
	}
	<-fired
	t.st = cancelled
	var fe fdb.Error
	if errors.As(err, &fe) && fe.Code != codeTransactionCancelled && fe.Code != codeOperationCancelled {
		return toKV(err) // FoundationDB answered before the cancel
	}
	return &kv.Error{Code: kv.CodeMaybeCommitted, Msg: "context ended while the commit was in flight; it may or may not have been applied", Err: ctx.Err()}
}

// toKV maps an error of the bindings onto a kv error.
func toKV(err error) error {
	if err == nil {
		return nil
	}
	var fe fdb.Error
	if errors.As(err, &fe) {
		return mapCode(fe.Code, "", fe)
	}
	var ke *kv.Error
	if errors.As(err, &ke) {
		return err
	}
	return &kv.Error{Code: kv.CodeInternal, Msg: "foundationdb", Err: err}
}

func contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &kv.Error{Code: kv.CodeTimeout, Msg: "context deadline exceeded; the transaction was cancelled", Err: err}
	}
	return &kv.Error{Code: kv.CodeCancelled, Msg: "context cancelled; the transaction was cancelled", Err: err}
}
