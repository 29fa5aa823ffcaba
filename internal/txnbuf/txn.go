package txnbuf

import (
	"bytes"
	"context"
	"slices"

	"github.com/fsmeta/fsmeta/internal/kvcheck"
	"github.com/fsmeta/fsmeta/kv"
)

type state uint8

const (
	active state = iota
	committed
	cancelled
)

// entry is the pending state of one key.
type entry struct {
	key []byte
	// known: the value is fully determined by this transaction's writes
	// (present and val say what it is); otherwise atomics apply over the
	// stored value.
	known   bool
	present bool
	val     []byte
	atomics []Mutation
	// unreadable: a versionstamped value is pending, unknown until commit.
	unreadable bool
}

// keyOr returns the key of e, or of row when e is nil.
func (e *entry) keyOr(row *kv.KeyValue) []byte {
	if e != nil {
		return e.key
	}
	return row.Key
}

// Txn is a read-your-writes transaction over a Backend. It implements
// kv.ReadWriteTxn (and kv.ReadOnlyTxn when made with readOnly). It is not
// safe for concurrent use.
type Txn struct {
	be       Backend
	readOnly bool

	one     OneGetter // be, if it reads one key without slices
	rv      int64     // 0 until taken
	writes  writeSet
	cleared []kv.KeyRange // sorted, disjoint, pending range clears
	// From the first versionstamped write on, the writes are also kept in
	// call order: a versionstamped key is known only at commit, so later
	// writes (a ClearRange over it) cannot be folded into it. base is the
	// compacted form of the writes before that one, vsOps the writes from
	// it on; writes and cleared still give the reads.
	ordered bool
	base    []Mutation
	vsOps   []Mutation
	reads   []kv.KeyRange
	size    int
	err     error // first mutation error; Commit returns it
	st      state
	version int64
	stamp   [kv.VersionstampSize]byte

	// The first pending entry, read conflict range, mutation and commit
	// request, in one allocation made at the first write or conflict range.
	// A read-only transaction never makes it.
	sm *small
}

// small holds a transaction's first backing arrays, so that a transaction
// of a few keys makes one allocation where it would make several.
type small struct {
	e0     entry // the first pending entry
	e0used bool
	reads  [1]kv.KeyRange
	ms     [1]Mutation
	req    CommitRequest
}

// small returns t.sm, allocating it at the first call.
func (t *Txn) small() *small {
	if t.sm == nil {
		t.sm = new(small)
	}
	return t.sm
}

var (
	_ kv.ReadWriteTxn = (*Txn)(nil)
	_ kv.BatchGetter  = (*Txn)(nil)
)

// New returns a transaction over be.
func New(be Backend, readOnly bool) *Txn {
	one, _ := be.(OneGetter)
	return &Txn{be: be, one: one, readOnly: readOnly, version: -1}
}

// Reset implements kv.ReadOnlyTxn.
func (t *Txn) Reset() {
	*t = Txn{be: t.be, one: t.one, readOnly: t.readOnly, version: -1}
}

// Cancel implements kv.ReadOnlyTxn.
func (t *Txn) Cancel() {
	if t.st == active {
		t.st = cancelled
	}
}

func (t *Txn) usable() error {
	switch t.st {
	case committed:
		return kv.Errorf(kv.CodeInvalid, "transaction already committed")
	case cancelled:
		return kv.Errorf(kv.CodeCancelled, "transaction cancelled")
	}
	return nil
}

// SetReadVersion implements kv.ReadOnlyTxn.
func (t *Txn) SetReadVersion(v int64) {
	if t.rv == 0 && v > 0 {
		t.rv = v
	}
}

// ReadVersion implements kv.ReadOnlyTxn.
func (t *Txn) ReadVersion(ctx context.Context) (int64, error) {
	if err := t.usable(); err != nil {
		return 0, err
	}
	if t.rv == 0 {
		v, err := t.be.ReadVersion(ctx)
		if err != nil {
			return 0, err
		}
		t.rv = v
	}
	return t.rv, nil
}

func (t *Txn) noteRV(v int64) {
	if t.rv == 0 {
		t.rv = v
	}
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
	if t.one == nil {
		vals, err := t.getMany(ctx, [][]byte{key}, conflict)
		if err != nil {
			return nil, false, err
		}
		return vals[0].Value, vals[0].Found, nil
	}
	// getMany for one key, without its slices.
	if err := t.usable(); err != nil {
		return nil, false, err
	}
	if err := kvcheck.Key(key); err != nil {
		return nil, false, err
	}
	var val []byte
	found := false
	e := t.lookup(key)
	switch {
	case e != nil && e.unreadable:
		return nil, false, unreadableError(key)
	case e != nil && e.known:
		val, found = e.val, e.present
	case e == nil && t.inCleared(key):
	default:
		v, rv, err := t.one.GetOne(ctx, t.rv, key)
		if err != nil {
			return nil, false, err
		}
		t.noteRV(rv)
		val, found = v.Value, v.Found
		if e != nil {
			val, found = applyAtomics(e.atomics, val, found), true
		}
	}
	if conflict {
		if err := t.addPointRead(ctx, key); err != nil {
			return nil, false, err
		}
	}
	if !found {
		return nil, false, nil
	}
	return bytes.Clone(val), true, nil
}

func unreadableError(k []byte) error {
	return kv.Errorf(kv.CodeInvalid, "key %q has a versionstamped value pending and cannot be read before commit", kvcheck.Trunc(k))
}

// addPointRead adds the read conflict range of key k, taking the read
// version first if the transaction has none.
func (t *Txn) addPointRead(ctx context.Context, k []byte) error {
	if t.rv == 0 {
		if _, err := t.ReadVersion(ctx); err != nil {
			return err
		}
	}
	// The caller may reuse k: the range owns a copy.
	end := kv.KeyAfter(k)
	t.addRead(end[:len(k):len(k)], end)
	return nil
}

// GetMany implements kv.BatchGetter: the keys that need the backend go to it
// in one call.
func (t *Txn) GetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return t.lookups(ctx, keys, !t.readOnly)
}

// SnapshotGetMany implements kv.BatchGetter.
func (t *Txn) SnapshotGetMany(ctx context.Context, keys [][]byte) ([]kv.Lookup, error) {
	return t.lookups(ctx, keys, false)
}

func (t *Txn) lookups(ctx context.Context, keys [][]byte, conflict bool) ([]kv.Lookup, error) {
	vals, err := t.getMany(ctx, keys, conflict)
	if err != nil {
		return nil, err
	}
	out := make([]kv.Lookup, len(vals))
	for i, v := range vals {
		out[i] = kv.Lookup{Value: v.Value, Found: v.Found}
	}
	return out, nil
}

func (t *Txn) getMany(ctx context.Context, keys [][]byte, conflict bool) ([]Value, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	out := make([]Value, len(keys))
	var need [][]byte
	var needIdx []int
	for i, k := range keys {
		if err := kvcheck.Key(k); err != nil {
			return nil, err
		}
		e := t.lookup(k)
		switch {
		case e != nil && e.unreadable:
			return nil, unreadableError(k)
		case e != nil && e.known:
			if e.present {
				out[i] = Value{Value: bytes.Clone(e.val), Found: true}
			}
		case e == nil && t.inCleared(k):
		default:
			need = append(need, k)
			needIdx = append(needIdx, i)
		}
	}
	if len(need) > 0 {
		vals, rv, err := t.be.Get(ctx, t.rv, need)
		if err != nil {
			return nil, err
		}
		t.noteRV(rv)
		for j, v := range vals {
			i := needIdx[j]
			val, found := v.Value, v.Found
			if e := t.lookup(keys[i]); e != nil {
				val, found = applyAtomics(e.atomics, val, found), true
			}
			if found {
				out[i] = Value{Value: bytes.Clone(val), Found: true}
			}
		}
	}
	if conflict {
		for _, k := range keys {
			if err := t.addPointRead(ctx, k); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func applyAtomics(ops []Mutation, val []byte, found bool) []byte {
	for _, m := range ops {
		val = ApplyAtomic(m.Op, val, found, m.Value)
		found = true
	}
	return val
}

func (t *Txn) lookup(k []byte) *entry { return t.writes.get(k) }

func (t *Txn) inCleared(k []byte) bool {
	i, found := slices.BinarySearchFunc(t.cleared, k, func(r kv.KeyRange, k []byte) int {
		return bytes.Compare(r.Begin, k)
	})
	if found {
		return true
	}
	return i > 0 && bytes.Compare(k, t.cleared[i-1].End) < 0
}

func (t *Txn) addRead(b, e []byte) {
	if t.reads == nil {
		t.reads = t.small().reads[:0]
	}
	t.reads = append(t.reads, kv.KeyRange{Begin: b, End: e})
	t.size += len(b) + len(e)
}

// GetRange implements kv.ReadOnlyTxn.
func (t *Txn) GetRange(ctx context.Context, begin, end kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.getRange(ctx, begin, end, limit, !t.readOnly)
}

// SnapshotGetRange implements kv.ReadOnlyTxn.
func (t *Txn) SnapshotGetRange(ctx context.Context, begin, end kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.getRange(ctx, begin, end, limit, false)
}

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
	b, err := t.resolve(ctx, bsel)
	if err != nil {
		return kv.RangeResult{}, err
	}
	e, err := t.resolve(ctx, esel)
	if err != nil {
		return kv.RangeResult{}, err
	}
	if bytes.Compare(e, kvcheck.MaxUserKey) > 0 {
		e = kvcheck.MaxUserKey
	}
	var res kv.RangeResult
	var stop []byte // end of the span read when the limit stopped the read
	if bytes.Compare(b, e) < 0 {
		var limited bool
		res.KVs, res.More, limited, err = t.scan(ctx, b, e, limit)
		if err != nil {
			return kv.RangeResult{}, err
		}
		if limited {
			stop = kv.KeyAfter(res.KVs[len(res.KVs)-1].Key)
		}
	}
	if conflict {
		if t.rv == 0 {
			if _, err := t.ReadVersion(ctx); err != nil {
				return kv.RangeResult{}, err
			}
		}
		// The answer depends on every key between the selectors' reference
		// keys and what they resolved to (even when the range came out
		// empty), up to the last row when the limit stopped the read.
		lo, hi := kvcheck.ConflictSpan(b, e, bsel, esel, stop)
		if bytes.Compare(lo, hi) < 0 {
			t.addRead(bytes.Clone(lo), bytes.Clone(hi))
		}
	}
	return res, nil
}

// resolve turns a selector into the key at which a range starts (for a
// begin selector) or stops (for an end selector).
func (t *Txn) resolve(ctx context.Context, s kv.KeySelector) ([]byte, error) {
	if s.Offset == 1 {
		if s.OrEqual {
			return kv.KeyAfter(s.Key), nil
		}
		return s.Key, nil
	}
	upper := s.Key
	if s.OrEqual {
		upper = kv.KeyAfter(s.Key)
	}
	if bytes.Compare(upper, kvcheck.MaxUserKey) > 0 {
		upper = kvcheck.MaxUserKey
	}
	k, err := t.lastBefore(ctx, upper)
	if err != nil || k == nil {
		return []byte{}, err
	}
	return k, nil
}

// merged returns the value of the key of e or row as this transaction sees
// it. row is the stored row for that key, if the store has one; the caller
// has read the store over a span containing the key, so a nil row means the
// store has no value.
func (t *Txn) merged(e *entry, row *kv.KeyValue) ([]byte, bool, error) {
	if e == nil {
		if t.inCleared(row.Key) {
			return nil, false, nil
		}
		return row.Value, true, nil
	}
	if e.unreadable {
		return nil, false, kv.Errorf(kv.CodeInvalid, "key %q has a versionstamped value pending and cannot be read before commit", kvcheck.Trunc(e.key))
	}
	if e.known {
		return e.val, e.present, nil
	}
	var base []byte
	found := row != nil
	if found {
		base = row.Value
	}
	return applyAtomics(e.atomics, base, found), true, nil
}

// scan reads [b, e) merged with the pending writes. limited reports that the
// limit stopped it.
func (t *Txn) scan(ctx context.Context, b, e []byte, limit int) (out []kv.KeyValue, more, limited bool, err error) {
	cursor := b
	for {
		want := 1024
		if limit > 0 {
			want = limit - len(out)
		}
		rows, storeMore, rv, err := t.be.Range(ctx, t.rv, cursor, e, want, false)
		if err != nil {
			return nil, false, false, err
		}
		t.noteRV(rv)
		chunkEnd := e
		if storeMore && len(rows) > 0 {
			chunkEnd = kv.KeyAfter(rows[len(rows)-1].Key)
		} else {
			storeMore = false
		}
		var pending []*entry
		t.writes.ascend(cursor, func(en *entry) bool {
			if bytes.Compare(en.key, chunkEnd) >= 0 {
				return false
			}
			pending = append(pending, en)
			return true
		})
		i, j := 0, 0
		for i < len(rows) || j < len(pending) {
			var en *entry
			var row *kv.KeyValue
			switch {
			case j == len(pending):
				row = &rows[i]
				i++
			case i == len(rows):
				en = pending[j]
				j++
			default:
				c := bytes.Compare(rows[i].Key, pending[j].key)
				if c <= 0 {
					row = &rows[i]
					i++
				}
				if c >= 0 {
					en = pending[j]
					j++
				}
			}
			val, ok, err := t.merged(en, row)
			if err != nil {
				return nil, false, false, err
			}
			if !ok {
				continue
			}
			k := en.keyOr(row)
			out = append(out, kv.KeyValue{Key: bytes.Clone(k), Value: bytes.Clone(val)})
			if limit > 0 && len(out) == limit {
				more = i < len(rows) || j < len(pending) || storeMore || t.pendingAfter(chunkEnd, e)
				return out, more, more, nil
			}
		}
		if !storeMore {
			return out, false, false, nil
		}
		cursor = chunkEnd
	}
}

// pendingAfter reports whether a pending write lies in [from, to).
func (t *Txn) pendingAfter(from, to []byte) bool {
	found := false
	t.writes.ascend(from, func(en *entry) bool {
		found = bytes.Compare(en.key, to) < 0
		return false
	})
	return found
}

// lastBefore returns the last key below upper that this transaction sees, or
// nil if there is none.
func (t *Txn) lastBefore(ctx context.Context, upper []byte) ([]byte, error) {
	cursor := upper
	for {
		rows, storeMore, rv, err := t.be.Range(ctx, t.rv, nil, cursor, 16, true)
		if err != nil {
			return nil, err
		}
		t.noteRV(rv)
		var low []byte // rows and pending cover [low, cursor)
		if storeMore && len(rows) > 0 {
			low = rows[len(rows)-1].Key
		} else {
			storeMore = false
		}
		var pending []*entry
		t.writes.descend(cursor, func(en *entry) bool {
			if bytes.Compare(en.key, cursor) >= 0 {
				return true
			}
			if bytes.Compare(en.key, low) < 0 {
				return false
			}
			pending = append(pending, en)
			return true
		})
		i, j := 0, 0
		for i < len(rows) || j < len(pending) {
			var en *entry
			var row *kv.KeyValue
			switch {
			case j == len(pending):
				row = &rows[i]
				i++
			case i == len(rows):
				en = pending[j]
				j++
			default:
				c := bytes.Compare(rows[i].Key, pending[j].key)
				if c >= 0 {
					row = &rows[i]
					i++
				}
				if c <= 0 {
					en = pending[j]
					j++
				}
			}
			_, ok, err := t.merged(en, row)
			if err != nil {
				return nil, err
			}
			if ok {
				return bytes.Clone(en.keyOr(row)), nil
			}
		}
		if !storeMore {
			return nil, nil
		}
		cursor = low
	}
}

// AddReadConflict implements kv.ReadWriteTxn.
func (t *Txn) AddReadConflict(key []byte) {
	if t.mutable() && t.checkKey(key) {
		t.addRead(bytes.Clone(key), kv.KeyAfter(key))
	}
}

// AddReadConflictRange implements kv.ReadWriteTxn.
func (t *Txn) AddReadConflictRange(begin, end []byte) {
	if t.mutable() && t.checkRange(begin, end) && bytes.Compare(begin, end) < 0 {
		t.addRead(bytes.Clone(begin), bytes.Clone(end))
	}
}

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

func (t *Txn) checkKey(k []byte) bool {
	return t.check(kvcheck.Key(k))
}

func (t *Txn) checkValue(v []byte) bool {
	return t.check(kvcheck.Value(v))
}

func (t *Txn) checkRange(b, e []byte) bool {
	return t.check(kvcheck.Range(b, e))
}

// check records err, if any, as the transaction's error and reports
// whether it was nil.
func (t *Txn) check(err error) bool {
	if err != nil {
		t.fail(err)
		return false
	}
	return true
}

func (t *Txn) grow(n int) {
	t.size += n
	if t.size > kv.MaxTxnSize {
		t.fail(kv.Errorf(kv.CodeTxnTooLarge, "transaction of over %d bytes exceeds the limit of %d bytes", t.size, kv.MaxTxnSize))
	}
}

func (t *Txn) put(k []byte) *entry {
	if e := t.writes.get(k); e != nil {
		return e
	}
	var e *entry
	if sm := t.small(); !sm.e0used {
		// An entry is used once per transaction: one removed from the
		// set may still be in a caller's local slice.
		sm.e0used = true
		e = &sm.e0
	} else {
		e = new(entry)
	}
	*e = entry{key: bytes.Clone(k)}
	if t.inCleared(k) {
		e.known = true
	}
	t.writes.insert(e)
	return e
}

// Set implements kv.ReadWriteTxn.
func (t *Txn) Set(key, value []byte) {
	if !t.mutable() || !t.checkKey(key) || !t.checkValue(value) {
		return
	}
	t.grow(len(key) + len(value))
	e := t.put(key)
	t.replaceStamped(e)
	*e = entry{key: e.key, known: true, present: true, val: bytes.Clone(value)}
	t.logOrdered(Mutation{Type: MutSet, Key: e.key, Value: e.val})
}

// logOrdered appends m to the writes kept in call order, if they are kept.
func (t *Txn) logOrdered(m Mutation) {
	if t.ordered {
		t.vsOps = append(t.vsOps, m)
	}
}

// startOrdered starts keeping the writes in call order, before the first
// versionstamped write.
func (t *Txn) startOrdered() {
	if !t.ordered {
		t.base = t.compacted(nil)
		t.ordered = true
	}
}

// replaceStamped drops the pending versionstamped value of e's key, which a
// later write replaces (mutations apply in call order).
func (t *Txn) replaceStamped(e *entry) {
	if e.unreadable {
		t.dropStamped(e.key, kv.KeyAfter(e.key))
	}
}

// dropStamped drops the pending versionstamped values of keys in [b, e).
func (t *Txn) dropStamped(b, e []byte) {
	t.vsOps = slices.DeleteFunc(t.vsOps, func(m Mutation) bool {
		return m.Type == MutSetVSValue && bytes.Compare(m.Key, b) >= 0 && bytes.Compare(m.Key, e) < 0
	})
}

// Clear implements kv.ReadWriteTxn.
func (t *Txn) Clear(key []byte) {
	if !t.mutable() || !t.checkKey(key) {
		return
	}
	t.grow(len(key))
	e := t.put(key)
	t.replaceStamped(e)
	*e = entry{key: e.key, known: true}
	t.logOrdered(Mutation{Type: MutClear, Key: e.key})
}

// ClearRange implements kv.ReadWriteTxn.
func (t *Txn) ClearRange(begin, end []byte) {
	if !t.mutable() || !t.checkRange(begin, end) || bytes.Compare(begin, end) == 0 {
		return
	}
	t.grow(len(begin) + len(end))
	t.dropStamped(begin, end)
	var gone []*entry
	t.writes.ascend(begin, func(en *entry) bool {
		if bytes.Compare(en.key, end) >= 0 {
			return false
		}
		gone = append(gone, en)
		return true
	})
	for _, en := range gone {
		t.writes.delete(en)
	}
	r := kv.KeyRange{Begin: bytes.Clone(begin), End: bytes.Clone(end)}
	t.cleared = mergeRange(t.cleared, r)
	t.logOrdered(Mutation{Type: MutClearRange, Key: r.Begin, End: r.End})
}

// mergeRange inserts r into the sorted disjoint list rs, merging overlaps.
func mergeRange(rs []kv.KeyRange, r kv.KeyRange) []kv.KeyRange {
	out := make([]kv.KeyRange, 0, len(rs)+1)
	i := 0
	for ; i < len(rs) && bytes.Compare(rs[i].End, r.Begin) < 0; i++ {
		out = append(out, rs[i])
	}
	for ; i < len(rs) && bytes.Compare(rs[i].Begin, r.End) <= 0; i++ {
		if bytes.Compare(rs[i].Begin, r.Begin) < 0 {
			r.Begin = rs[i].Begin
		}
		if bytes.Compare(rs[i].End, r.End) > 0 {
			r.End = rs[i].End
		}
	}
	out = append(out, r)
	return append(out, rs[i:]...)
}

// Atomic implements kv.ReadWriteTxn.
func (t *Txn) Atomic(op kv.AtomicOp, key, param []byte) {
	if !t.mutable() || !t.checkKey(key) || !t.checkValue(param) {
		return
	}
	if !validAtomic(op) {
		t.fail(kv.Errorf(kv.CodeInvalid, "unknown atomic operation %d", op))
		return
	}
	t.grow(len(key) + len(param))
	e := t.put(key)
	switch {
	case e.unreadable:
		t.fail(kv.Errorf(kv.CodeInvalid, "atomic %v on key %q after a versionstamped value in the same transaction", op, kvcheck.Trunc(key)))
		return
	case e.known:
		e.val, e.present = ApplyAtomic(op, e.val, e.present, param), true
	default:
		e.atomics = append(e.atomics, Mutation{Type: MutAtomic, Op: op, Key: e.key, Value: bytes.Clone(param)})
	}
	t.logOrdered(Mutation{Type: MutAtomic, Op: op, Key: e.key, Value: bytes.Clone(param)})
}

func checkStampOffset(what string, n, offset int) error {
	if offset < 0 || offset+kv.VersionstampSize > n {
		return kv.Errorf(kv.CodeInvalid, "versionstamp offset %d out of bounds for a %s of %d bytes (needs offset+10 <= length)", offset, what, n)
	}
	return nil
}

// SetVersionstampedKey implements kv.ReadWriteTxn.
func (t *Txn) SetVersionstampedKey(key []byte, offset int, value []byte) error {
	if err := checkStampOffset("key", len(key), offset); err != nil {
		t.fail(err)
		return err
	}
	if !t.mutable() || !t.checkKey(key) || !t.checkValue(value) {
		return t.err
	}
	t.grow(len(key) + len(value))
	t.startOrdered()
	t.vsOps = append(t.vsOps, Mutation{Type: MutSetVSKey, Key: bytes.Clone(key), Value: bytes.Clone(value), Offset: offset})
	return nil
}

// SetVersionstampedValue implements kv.ReadWriteTxn.
func (t *Txn) SetVersionstampedValue(key, value []byte, offset int) error {
	if err := checkStampOffset("value", len(value), offset); err != nil {
		t.fail(err)
		return err
	}
	if !t.mutable() || !t.checkKey(key) || !t.checkValue(value) {
		return t.err
	}
	t.grow(len(key) + len(value))
	t.startOrdered()
	e := t.put(key)
	*e = entry{key: e.key, unreadable: true}
	t.vsOps = append(t.vsOps, Mutation{Type: MutSetVSValue, Key: e.key, Value: bytes.Clone(value), Offset: offset})
	return nil
}

// mutations returns the writes of a commit, equivalent to the calls in
// their order: the compacted writes before the first versionstamped write,
// then the writes from it on in call order.
func (t *Txn) mutations() []Mutation {
	if !t.ordered {
		var ms []Mutation
		if t.sm != nil {
			ms = t.sm.ms[:0]
		}
		return t.compacted(ms)
	}
	return append(slices.Clip(t.base), t.vsOps...)
}

// compacted compacts the buffer into range clears first, then the final
// state of each key, appended to ms. Without versionstamped writes this is
// equivalent to the calls in their order.
func (t *Txn) compacted(ms []Mutation) []Mutation {
	for _, r := range t.cleared {
		ms = append(ms, Mutation{Type: MutClearRange, Key: r.Begin, End: r.End})
	}
	t.writes.scan(func(e *entry) bool {
		switch {
		case e.unreadable:
		case !e.known:
			ms = append(ms, e.atomics...)
		case e.present:
			ms = append(ms, Mutation{Type: MutSet, Key: e.key, Value: e.val})
		default:
			ms = append(ms, Mutation{Type: MutClear, Key: e.key})
		}
		return true
	})
	return ms
}

// mergeReads sorts and merges the read conflict ranges.
func mergeReads(rs []kv.KeyRange) []kv.KeyRange {
	if len(rs) <= 1 {
		return rs
	}
	slices.SortFunc(rs, func(a, b kv.KeyRange) int { return bytes.Compare(a.Begin, b.Begin) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if bytes.Compare(r.Begin, last.End) <= 0 {
			if bytes.Compare(r.End, last.End) > 0 {
				last.End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
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
	ms := t.mutations()
	if len(ms) == 0 {
		t.st = committed
		return nil
	}
	req := &t.small().req
	req.Mutations = ms
	if len(t.reads) > 0 {
		if _, err := t.ReadVersion(ctx); err != nil {
			return err
		}
		req.ReadVersion = t.rv
		req.ReadConflicts = mergeReads(t.reads)
	}
	res, err := t.be.Commit(ctx, req)
	if err != nil {
		return err
	}
	t.st = committed
	t.version = res.Version
	t.stamp = res.Versionstamp
	return nil
}

// CommittedVersion implements kv.ReadWriteTxn.
func (t *Txn) CommittedVersion() int64 { return t.version }

// Versionstamp implements kv.ReadWriteTxn.
func (t *Txn) Versionstamp() ([kv.VersionstampSize]byte, error) {
	if t.version < 0 {
		return [kv.VersionstampSize]byte{}, kv.Errorf(kv.CodeInvalid, "versionstamp asked before a successful commit with writes")
	}
	return t.stamp, nil
}
