// Package mvcc is the multi-version store and conflict resolver behind memkv
// and the customkv server: committed data by key and version, read at any
// version inside the MVCC window, and a resolver that fails a commit when a
// key in one of its read conflict ranges was written after its read version.
//
// Concurrency: commits are serialized by one mutex (the resolver's order is
// the commit order). Reads take no lock: they load the published tree with
// an atomic pointer and walk immutable version chains. The committer updates
// existing keys by swapping chain heads atomically and publishes a
// copy-on-write copy of the tree only when keys are inserted or removed.
//
// Versions advance with the clock, one per microsecond as in FoundationDB,
// and at least one per commit. The window is measured in versions; a read or
// a conflicting commit whose read version is older than now-window fails
// with kv.ErrTooOld. Old versions are pruned when a write finds its key's
// chain doubled since the last pruning (amortized O(1) per write) and by an
// incremental sweep that runs with the commits, so memory stays bounded by the live data
// plus a small multiple of the window's history.
package mvcc

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/tidwall/btree"
)

// DefaultWindow is FoundationDB's MVCC window.
const DefaultWindow = 5 * time.Second

// Options configure a Store.
type Options struct {
	// Window is how long old versions stay readable (default 5 s).
	Window time.Duration
	// Clock is the time source (default time.Now); tests move it by hand.
	// Only differences between its readings are used.
	Clock func() time.Time
}

// Logger makes commits durable. Append is called under the commit lock in
// version order with the commit's resolved mutations (versionstamps filled
// in); the returned wait blocks until the record is durable. A commit becomes
// visible, and is acknowledged, only after its wait returns nil.
type Logger interface {
	Append(version int64, ms []txnbuf.Mutation) (wait func() error)
}

type version struct {
	ver  int64
	val  []byte
	tomb bool
	// Committer bookkeeping, set before the version is published and never
	// read by readers (it fits in tomb's padding): n is the length of the
	// chain from this version when it was pushed (an upper bound after
	// later pruning); push prunes again once n reaches 1<<lg.
	lg   uint8
	n    uint32
	prev atomic.Pointer[version]
}

// minPruneLg makes push leave chains shorter than 1<<minPruneLg to the
// sweep, and sweepWalk bounds the chain length the sweep walks: longer
// chains are pruned by push, at amortized O(1) per write.
const (
	minPruneLg = 3
	sweepWalk  = 16
)

// sweepBatch is how many keys the sweep visits in one run at least.
const sweepBatch = 256

// item is a key and its version chain. Tree copies share items: the
// committer swaps heads in place. (Items are kept by pointer: by value, a
// copy-on-write clone of a node copies four times the bytes, which doubled
// the garbage of a commit that inserts keys.)
type item struct {
	key  []byte
	head atomic.Pointer[version]
}

func itemLess(a, b *item) bool { return bytes.Compare(a.key, b.key) < 0 }

type tree = btree.BTreeG[*item]

// Store is an MVCC key-value store with a conflict resolver.
type Store struct {
	window int64 // in versions (microseconds)
	clock  func() time.Time
	start  time.Time

	root    atomic.Pointer[tree] // published, read by readers
	visible atomic.Int64         // every commit <= visible is applied and acknowledged
	offset  atomic.Int64         // version at start
	closed  atomic.Bool

	mu       sync.Mutex // commit lock; guards the fields below
	work     *tree      // the committer's tree
	changed  bool       // work has keys root lacks or vice versa
	assigned int64      // last commit version handed out
	logger   Logger
	cursor   []byte  // sweep position
	debt     int     // keys the sweep owes, see sweepBatch
	failed   error   // a durability failure: the store accepts no more commits
	dead     []*item // sweep's scratch list, emptied after each sweep
	probe    item    // search key for the committer's lookups; see look
	// seen are the items resolve found for the point reads of the commit
	// being applied, in key order, so that apply does not search the tree
	// again for a key read and written. Emptied after each commit.
	seen []*item
}

// look returns the committer's probe item for k, so committer lookups
// allocate nothing. Called with mu held; the result is valid until the next
// call and must not be stored in a tree.
func (s *Store) look(k []byte) *item {
	s.probe.key = k
	return &s.probe
}

// New returns an empty store whose first version is 1.
func New(opts Options) *Store {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Store{
		window: opts.Window.Microseconds(),
		clock:  opts.Clock,
		start:  opts.Clock(),
		work:   btree.NewBTreeGOptions(itemLess, btree.Options{NoLocks: true, Degree: 32}),
	}
	s.offset.Store(1)
	s.visible.Store(1)
	s.assigned = 1
	s.root.Store(s.work.Copy())
	return s
}

// SetLogger installs the durability hook. Call it before the first commit.
func (s *Store) SetLogger(l Logger) {
	s.mu.Lock()
	s.logger = l
	s.mu.Unlock()
}

// now is the current clock version.
func (s *Store) now() int64 {
	return s.offset.Load() + s.clock().Sub(s.start).Microseconds()
}

func (s *Store) horizon() int64 { return s.now() - s.window }

// horizonAt is the horizon at clock version now.
func (s *Store) horizonAt(now int64) int64 { return now - s.window }

// Close makes every later call fail with kv.ErrClosed.
func (s *Store) Close() { s.closed.Store(true) }

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return kv.Errorf(kv.CodeClosed, "store closed")
	}
	return nil
}

// bumpLag is how far the read version may trail the clock before a reader
// moves it forward; it keeps idle stores from handing out versions that
// are about to leave the window.
const bumpLag = 100_000 // 100 ms

// ReadVersion returns a version at which every acknowledged commit is visible.
func (s *Store) ReadVersion() (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	v := s.visible.Load()
	// With a window shorter than bumpLag the lag must stay inside it.
	if now := s.now(); now-v > min(bumpLag, s.window/2) {
		s.mu.Lock()
		// Only when no commit is between assignment and visibility can the
		// visible version move past the last one assigned.
		if s.assigned == s.visible.Load() && now > s.assigned {
			s.assigned = now
			s.visible.Store(now)
		}
		v = s.visible.Load()
		s.mu.Unlock()
	}
	return v, nil
}

func (s *Store) checkRead(rv int64) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if rv > s.visible.Load() {
		return kv.Errorf(kv.CodeFutureVersion, "read version %d is ahead of the store (at %d)", rv, s.visible.Load())
	}
	return nil
}

// checkAge runs after a read: if rv left the window, the chains it walked
// may have been pruned.
func (s *Store) checkAge(rv int64) error {
	if h := s.horizon(); rv < h {
		return kv.Errorf(kv.CodeTooOld, "read version %d is older than the %d µs MVCC window (oldest readable %d)", rv, s.window, h)
	}
	return nil
}

// at returns the version of it visible at rv.
func (it *item) at(rv int64) *version {
	for v := it.head.Load(); v != nil; v = v.prev.Load() {
		if v.ver <= rv {
			return v
		}
	}
	return nil
}

// Get reads keys at rv. Returned slices are shared and must not be modified.
func (s *Store) Get(rv int64, keys [][]byte) ([]txnbuf.Value, error) {
	if err := s.checkRead(rv); err != nil {
		return nil, err
	}
	root := s.root.Load()
	out := make([]txnbuf.Value, len(keys))
	for i, k := range keys {
		out[i] = get(root, rv, k)
	}
	return out, s.checkAge(rv)
}

// GetOne reads one key at rv, as Get does without the slices. The returned
// value is shared and must not be modified.
func (s *Store) GetOne(rv int64, key []byte) (txnbuf.Value, error) {
	if err := s.checkRead(rv); err != nil {
		return txnbuf.Value{}, err
	}
	v := get(s.root.Load(), rv, key)
	return v, s.checkAge(rv)
}

func get(root *tree, rv int64, k []byte) txnbuf.Value {
	if it, ok := root.Get(&item{key: k}); ok {
		if v := it.at(rv); v != nil && !v.tomb {
			return txnbuf.Value{Value: v.val, Found: true}
		}
	}
	return txnbuf.Value{}
}

// Range reads at most limit rows of [begin, end) at rv, descending from end
// when reverse. Returned slices are shared and must not be modified.
func (s *Store) Range(rv int64, begin, end []byte, limit int, reverse bool) ([]kv.KeyValue, bool, error) {
	if err := s.checkRead(rv); err != nil {
		return nil, false, err
	}
	root := s.root.Load()
	var rows []kv.KeyValue
	more := false
	visit := func(it *item) bool {
		if reverse {
			if bytes.Compare(it.key, begin) < 0 {
				return false
			}
			if bytes.Compare(it.key, end) >= 0 {
				return true
			}
		} else if bytes.Compare(it.key, end) >= 0 {
			return false
		}
		v := it.at(rv)
		if v == nil || v.tomb {
			return true
		}
		if limit > 0 && len(rows) == limit {
			more = true
			return false
		}
		rows = append(rows, kv.KeyValue{Key: it.key, Value: v.val})
		return true
	}
	if reverse {
		root.Descend(&item{key: end}, visit)
	} else {
		root.Ascend(&item{key: begin}, visit)
	}
	return rows, more, s.checkAge(rv)
}

// Stamp is the versionstamp of a commit version: 8 bytes big-endian version
// and a zero batch order (one transaction per version).
func Stamp(v int64) [kv.VersionstampSize]byte {
	var st [kv.VersionstampSize]byte
	binary.BigEndian.PutUint64(st[:8], uint64(v))
	return st
}

// Commit resolves req against the commits after its read version and, if
// none conflicts, applies it at a new version.
func (s *Store) Commit(req *txnbuf.CommitRequest) (txnbuf.CommitResult, error) {
	if err := s.checkOpen(); err != nil {
		return txnbuf.CommitResult{}, err
	}
	s.mu.Lock()
	if s.failed != nil {
		s.mu.Unlock()
		return txnbuf.CommitResult{}, kv.Errorf(kv.CodeUnavailable, "store refuses commits after a durability failure: %w", s.failed)
	}
	// One clock reading per commit: the resolver, the commit version and
	// the pruning horizon all use it.
	now := s.now()
	if err := s.resolve(req, now); err != nil {
		s.forget()
		s.mu.Unlock()
		return txnbuf.CommitResult{}, err
	}
	c := max(s.assigned+1, now)
	stamp := Stamp(c)
	ms := resolveStamps(req.Mutations, stamp)
	horizon := s.horizonAt(now)
	for i := range ms {
		s.apply(c, &ms[i], horizon)
	}
	s.forget()
	s.assigned = c
	// The sweep owes 2·mutations+8 keys per commit and runs once the debt
	// reaches sweepBatch: each run starts with a search from the cursor,
	// which costs as much as visiting tens of keys.
	s.debt += 2*len(ms) + 8
	if s.debt >= sweepBatch {
		s.sweep(s.debt, horizon)
		s.debt = 0
	}
	s.publish()
	logger := s.logger
	var wait func() error
	if logger != nil {
		wait = logger.Append(c, ms)
	} else {
		s.visible.Store(c)
	}
	s.mu.Unlock()
	if wait != nil {
		if err := wait(); err != nil {
			s.mu.Lock()
			s.failed = err
			s.mu.Unlock()
			return txnbuf.CommitResult{}, kv.Errorf(kv.CodeMaybeCommitted, "commit log failed: %w", err)
		}
		for v := s.visible.Load(); v < c && !s.visible.CompareAndSwap(v, c); v = s.visible.Load() {
		}
	}
	return txnbuf.CommitResult{Version: c, Versionstamp: stamp}, nil
}

// resolve fails req if it conflicts. Called with mu held.
func (s *Store) resolve(req *txnbuf.CommitRequest, now int64) error {
	if len(req.ReadConflicts) == 0 {
		return nil
	}
	rv := req.ReadVersion
	if h := s.horizonAt(now); rv < h {
		return kv.Errorf(kv.CodeTooOld, "read version %d is older than the MVCC window (oldest %d)", rv, h)
	}
	if rv > s.assigned {
		return kv.Errorf(kv.CodeFutureVersion, "read version %d is ahead of the store (at %d)", rv, s.assigned)
	}
	for _, r := range req.ReadConflicts {
		if isPoint(r) {
			if it, ok := s.work.Get(s.look(r.Begin)); ok {
				if it.head.Load().ver > rv {
					return conflictError(r.Begin, rv, it.head.Load().ver)
				}
				s.seen = append(s.seen, it)
			}
			continue
		}
		var hit *item
		s.work.Ascend(s.look(r.Begin), func(it *item) bool {
			if bytes.Compare(it.key, r.End) >= 0 {
				return false
			}
			if it.head.Load().ver > rv {
				hit = it
				return false
			}
			return true
		})
		if hit != nil {
			return conflictError(hit.key, rv, hit.head.Load().ver)
		}
	}
	return nil
}

// forget empties seen. Called with mu held.
func (s *Store) forget() {
	clear(s.seen) // hold no items the sweep may drop
	s.seen = s.seen[:0]
}

func isPoint(r kv.KeyRange) bool {
	return len(r.End) == len(r.Begin)+1 && r.End[len(r.Begin)] == 0 && bytes.HasPrefix(r.End, r.Begin)
}

func conflictError(k []byte, rv, wv int64) error {
	if len(k) > 64 {
		k = k[:64]
	}
	return kv.Errorf(kv.CodeConflict, "key %q written at version %d after read version %d", k, wv, rv)
}

// resolveStamps returns ms with versionstamps filled in; the slices of ms
// are not modified.
func resolveStamps(ms []txnbuf.Mutation, stamp [kv.VersionstampSize]byte) []txnbuf.Mutation {
	if !slices.ContainsFunc(ms, func(m txnbuf.Mutation) bool {
		return m.Type == txnbuf.MutSetVSKey || m.Type == txnbuf.MutSetVSValue
	}) {
		return ms // nothing to fill in: no copy
	}
	out := make([]txnbuf.Mutation, len(ms))
	for i, m := range ms {
		switch m.Type {
		case txnbuf.MutSetVSKey:
			k := bytes.Clone(m.Key)
			copy(k[m.Offset:], stamp[:])
			m = txnbuf.Mutation{Type: txnbuf.MutSet, Key: k, Value: m.Value}
		case txnbuf.MutSetVSValue:
			v := bytes.Clone(m.Value)
			copy(v[m.Offset:], stamp[:])
			m = txnbuf.Mutation{Type: txnbuf.MutSet, Key: m.Key, Value: v}
		}
		out[i] = m
	}
	return out
}

// Apply replays a logged commit at version c during recovery: no conflict
// check, no logging. Commits must be replayed in version order.
func (s *Store) Apply(c int64, ms []txnbuf.Mutation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	horizon := s.horizon()
	for i := range ms {
		s.apply(c, &ms[i], horizon)
	}
	if c > s.assigned {
		s.assigned = c
		if now := s.now(); c > now {
			// Continue the clock from the recovered version.
			s.offset.Add(c - now)
		}
		s.visible.Store(c)
	}
	s.publish()
}

// apply writes one resolved mutation at version c. Called with mu held.
func (s *Store) apply(c int64, m *txnbuf.Mutation, horizon int64) {
	switch m.Type {
	case txnbuf.MutSet:
		s.push(s.itemFor(m.Key, true), c, m.Value, false, horizon)
	case txnbuf.MutClear:
		if it := s.itemFor(m.Key, false); it != nil {
			s.push(it, c, nil, true, horizon)
		}
	case txnbuf.MutClearRange:
		// Pushing changes no key of the tree: push while walking.
		s.work.Ascend(s.look(m.Key), func(it *item) bool {
			if bytes.Compare(it.key, m.End) >= 0 {
				return false
			}
			s.push(it, c, nil, true, horizon)
			return true
		})
	case txnbuf.MutAtomic:
		it := s.itemFor(m.Key, true)
		var old []byte
		exists := false
		if h := it.head.Load(); h != nil && !h.tomb {
			old, exists = h.val, true
		}
		s.push(it, c, txnbuf.ApplyAtomic(m.Op, old, exists, m.Value), false, horizon)
	}
}

// itemFor returns the item of key k, inserting the key when create; nil if
// it is absent and not created.
func (s *Store) itemFor(k []byte, create bool) *item {
	// Items resolve found are still in the tree: only the sweep, after
	// the apply, removes keys.
	if i, ok := slices.BinarySearchFunc(s.seen, k, func(it *item, k []byte) int { return bytes.Compare(it.key, k) }); ok {
		return s.seen[i]
	}
	if it, ok := s.work.Get(s.look(k)); ok {
		return it
	}
	if !create {
		return nil
	}
	it := &item{key: bytes.Clone(k)}
	s.work.Set(it)
	s.changed = true
	return it
}

// push makes (c, val) the newest version of it and prunes what no reader
// inside the window can need.
func (s *Store) push(it *item, c int64, val []byte, tomb bool, horizon int64) {
	h := it.head.Load()
	if tomb && (h == nil || h.tomb) {
		return // already absent
	}
	v := &version{ver: c, val: val, tomb: tomb, n: 1, lg: minPruneLg}
	if h != nil && h.ver == c {
		h = h.prev.Load() // a second write to the key in one commit
	}
	if h != nil {
		v.n, v.lg = h.n+1, h.lg
		// Walking the chain costs its length, so walk it only when it has
		// doubled since the last walk: O(1) per write, amortized, and at
		// most about four times the versions the window needs.
		if uint64(v.n) >= 1<<v.lg {
			v.n = prune(h, horizon) + 1
			v.lg = uint8(max(minPruneLg, bits.Len32(v.n)+1))
		}
	}
	v.prev.Store(h)
	it.head.Store(v)
}

// prune cuts the chain below its newest version at or below horizon and
// returns the number of versions left from v.
func prune(v *version, horizon int64) uint32 {
	var n uint32
	for ; v != nil; v = v.prev.Load() {
		n++
		if v.ver <= horizon {
			if v.prev.Load() != nil {
				v.prev.Store(nil)
			}
			return n
		}
	}
	return n
}

// sweep prunes up to n keys from the sweep cursor and drops keys whose only
// version is a tombstone below the horizon. Called with mu held.
func (s *Store) sweep(n int, horizon int64) {
	dead := s.dead[:0]
	var next []byte // the first key not visited; nil at the end
	visited := 0
	s.work.Ascend(s.look(s.cursor), func(it *item) bool {
		if visited == n {
			next = it.key // keys are immutable: no copy needed
			return false
		}
		visited++
		h := it.head.Load()
		// A head at or below the horizon is the cut point itself: O(1).
		if h.ver <= horizon || h.n <= sweepWalk {
			prune(h, horizon)
		}
		if h.tomb && h.ver <= horizon {
			dead = append(dead, it)
		}
		return true
	})
	s.cursor = next // nil wraps around
	for _, it := range dead {
		s.work.Delete(it)
		s.changed = true
	}
	clear(dead) // hold no dropped items
	s.dead = dead[:0]
}

// publish makes the committer's tree visible to readers if its keys changed.
func (s *Store) publish() {
	if s.changed {
		s.root.Store(s.work.Copy())
		s.changed = false
	}
}

// ForEach calls fn with every live key and value at the newest version, in
// key order, for snapshots. It holds the commit lock: commits wait.
func (s *Store) ForEach(fn func(key, value []byte) error) (version int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.work.Scan(func(it *item) bool {
		if h := it.head.Load(); h != nil && !h.tomb {
			err = fn(it.key, h.val)
		}
		return err == nil
	})
	return s.assigned, err
}

// Len is the number of keys in the tree, tombstones included.
func (s *Store) Len() int { return s.root.Load().Len() }

// Backend adapts the store to txnbuf.Backend for in-process transactions.
func (s *Store) Backend() txnbuf.Backend { return backend{s} }

type backend struct{ s *Store }

var _ txnbuf.OneGetter = backend{}

func (b backend) ReadVersion(context.Context) (int64, error) { return b.s.ReadVersion() }

func (b backend) Get(ctx context.Context, rv int64, keys [][]byte) ([]txnbuf.Value, int64, error) {
	rv, err := b.rv(rv)
	if err != nil {
		return nil, 0, err
	}
	vals, err := b.s.Get(rv, keys)
	return vals, rv, err
}

func (b backend) GetOne(ctx context.Context, rv int64, key []byte) (txnbuf.Value, int64, error) {
	rv, err := b.rv(rv)
	if err != nil {
		return txnbuf.Value{}, 0, err
	}
	val, err := b.s.GetOne(rv, key)
	return val, rv, err
}

func (b backend) Range(ctx context.Context, rv int64, begin, end []byte, limit int, reverse bool) ([]kv.KeyValue, bool, int64, error) {
	rv, err := b.rv(rv)
	if err != nil {
		return nil, false, 0, err
	}
	rows, more, err := b.s.Range(rv, begin, end, limit, reverse)
	return rows, more, rv, err
}

func (b backend) rv(rv int64) (int64, error) {
	if rv != 0 {
		return rv, nil
	}
	return b.s.ReadVersion()
}

func (b backend) Commit(ctx context.Context, req *txnbuf.CommitRequest) (txnbuf.CommitResult, error) {
	return b.s.Commit(req)
}
