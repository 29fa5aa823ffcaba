package txnbuf_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"github.com/fsmeta/fsmeta/internal/mvcc"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

// review3Hide hides the backend's GetOne (the general Get path).
type review3Hide struct{ txnbuf.Backend }

// review3Backends returns the two backends under test over fresh stores:
// one with the one-key Get path and one without.
func review3Backends(tb testing.TB) (map[string]txnbuf.Backend, *fakeclock.Clock) {
	tb.Helper()
	clock := fakeclock.Stopped(time.Unix(1_700_000_000, 0))
	one := mvcc.New(mvcc.Options{Clock: clock.Now}).Backend()
	if _, ok := one.(txnbuf.OneGetter); !ok {
		tb.Fatal("mvcc backend lost GetOne: the one-key path is not tested")
	}
	return map[string]txnbuf.Backend{
		"one":     one,
		"general": review3Hide{mvcc.New(mvcc.Options{Clock: clock.Now}).Backend()},
	}, clock
}

// TestReview3ReadYourWritesModel runs random transactions of up to 40
// distinct keys (across the writeSet's slice-to-tree switch at 16/17) with
// every write kind mixed, and checks every read (Get, SnapshotGet, GetMany,
// GetRange with and without limit, reverse selectors) against a model:
// the committed map with the transaction's writes applied in call order.
// After each commit the store must hold the model's view.
func TestReview3ReadYourWritesModel(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(31, 17))
			committed := map[string]string{}
			key := func(n int) string { return fmt.Sprintf("k%02d", r.IntN(n)) }
			atomicOps := []kv.AtomicOp{kv.AtomicAdd, kv.AtomicBitOr, kv.AtomicMax, kv.AtomicMin, kv.AtomicBitXor, kv.AtomicBitAnd}
			for round := range 150 {
				keyN := []int{4, 16, 17, 18, 40}[round%5]
				tx := txnbuf.New(be, false)
				view := maps.Clone(committed)
				check := func(step int, what string, got, want any) {
					t.Helper()
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("round %d step %d: %s = %v, want %v", round, step, what, got, want)
					}
				}
				for step := range 60 {
					k := key(keyN)
					switch op := r.IntN(11); op {
					case 0, 1:
						v := fmt.Sprintf("v%d.%d", round, step)
						tx.Set([]byte(k), []byte(v))
						view[k] = v
					case 2:
						tx.Clear([]byte(k))
						delete(view, k)
					case 3:
						k2 := key(keyN)
						if k2 < k {
							k, k2 = k2, k
						}
						end := k2 + "\x00"
						tx.ClearRange([]byte(k), []byte(end))
						for vk := range view {
							if vk >= k && vk < end {
								delete(view, vk)
							}
						}
					case 4, 5:
						aop := atomicOps[r.IntN(len(atomicOps))]
						param := []byte{byte(r.IntN(256)), byte(r.IntN(4))}
						tx.Atomic(aop, []byte(k), param)
						old, ok := view[k]
						view[k] = string(txnbuf.ApplyAtomic(aop, []byte(old), ok, param))
					case 6, 7:
						get := tx.Get
						if op == 7 {
							get = tx.SnapshotGet
						}
						v, found, err := get(ctx, []byte(k))
						if err != nil {
							t.Fatal(err)
						}
						want, ok := view[k]
						check(step, "Get "+k, fmt.Sprintf("%q %v", v, found), fmt.Sprintf("%q %v", want, ok))
					case 8:
						ks := [][]byte{[]byte(key(keyN)), []byte(key(keyN)), []byte(key(keyN))}
						ls, err := tx.GetMany(ctx, ks)
						if err != nil {
							t.Fatal(err)
						}
						for i, l := range ls {
							want, ok := view[string(ks[i])]
							check(step, "GetMany "+string(ks[i]), fmt.Sprintf("%q %v", l.Value, l.Found), fmt.Sprintf("%q %v", want, ok))
						}
					case 9:
						b, e := key(keyN), key(keyN)+"\x01"
						limit := r.IntN(6)
						res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte(b)), kv.FirstGreaterOrEqual([]byte(e)), limit)
						if err != nil {
							t.Fatal(err)
						}
						var want []string
						for _, vk := range slices.Sorted(maps.Keys(view)) {
							if vk >= b && vk < e {
								want = append(want, vk+"="+view[vk])
							}
						}
						more := false
						if limit > 0 && len(want) > limit {
							want, more = want[:limit], true
						}
						var got []string
						for _, kvp := range res.KVs {
							got = append(got, string(kvp.Key)+"="+string(kvp.Value))
						}
						check(step, fmt.Sprintf("GetRange [%s,%q) limit %d", b, e, limit), fmt.Sprint(got), fmt.Sprint(want))
						// More "may" be set conservatively once the limit is
						// reached; it must be set when rows are left.
						if more && !res.More || res.More && len(got) != limit {
							t.Fatalf("round %d step %d: GetRange more=%v with %d rows (limit %d), rows left: %v", round, step, res.More, len(got), limit, more)
						}
					case 10:
						// The last key below k: a reverse walk of the write set.
						res, err := tx.GetRange(ctx, kv.LastLessThan([]byte(k)), kv.FirstGreaterOrEqual([]byte(k)), 0)
						if err != nil {
							t.Fatal(err)
						}
						want := "none"
						for _, vk := range slices.Sorted(maps.Keys(view)) {
							if vk < k {
								want = vk
							}
						}
						got := "none"
						if len(res.KVs) > 0 {
							got = string(res.KVs[0].Key)
						}
						check(step, "last key below "+k, got, want)
					}
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatalf("round %d: commit: %v", round, err)
				}
				committed = view
				// The store holds the view: one snapshot range read.
				rd := txnbuf.New(be, true)
				res, err := rd.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("k")), kv.FirstGreaterOrEqual([]byte("l")), 0)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, kvp := range res.KVs {
					got[string(kvp.Key)] = string(kvp.Value)
				}
				if !maps.Equal(got, committed) {
					t.Fatalf("round %d: store holds %v, want %v", round, got, committed)
				}
			}
		})
	}
}

// TestReview3SmallLimitBoundary writes exactly 16 keys, then the 17th, and
// clears ranges over the slice and over the tree, checking order and
// read-your-writes at each point.
func TestReview3SmallLimitBoundary(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			rangeKeys := func(tx *txnbuf.Txn) string {
				t.Helper()
				res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("k")), kv.FirstGreaterOrEqual([]byte("l")), 0)
				if err != nil {
					t.Fatal(err)
				}
				var ks []string
				for _, r := range res.KVs {
					ks = append(ks, string(r.Key))
				}
				return fmt.Sprint(ks)
			}
			keys := func(is ...int) string {
				var ks []string
				for _, i := range is {
					ks = append(ks, fmt.Sprintf("k%02d", i))
				}
				return fmt.Sprint(ks)
			}
			seq := func(a, b int) []int {
				var out []int
				for i := a; i < b; i++ {
					out = append(out, i)
				}
				return out
			}
			for _, n := range []int{15, 16, 17} {
				tx := txnbuf.New(be, false)
				// Written in descending order: each insert goes in front.
				for i := n - 1; i >= 0; i-- {
					tx.Set(fmt.Appendf(nil, "k%02d", i), []byte("v"))
				}
				if got, want := rangeKeys(tx), keys(seq(0, n)...); got != want {
					t.Fatalf("n=%d: range %s, want %s", n, got, want)
				}
				// Clear the middle: over the slice for n <= 16, the tree after.
				tx.ClearRange([]byte("k03"), []byte("k10"))
				want := append(seq(0, 3), seq(10, n)...)
				if got := rangeKeys(tx); got != keys(want...) {
					t.Fatalf("n=%d after ClearRange: range %s, want %s", n, got, keys(want...))
				}
				// Write again inside the cleared range and past the end.
				tx.Atomic(kv.AtomicAdd, []byte("k05"), []byte{2})
				tx.Set([]byte("k99"), []byte("w"))
				if v, ok, err := tx.Get(ctx, []byte("k05")); err != nil || !ok || !bytes.Equal(v, []byte{2}) {
					t.Fatalf("n=%d: atomic over a cleared key read %q %v %v, want \\x02 (the cleared key counts as absent)", n, v, ok, err)
				}
				if v, ok, err := tx.Get(ctx, []byte("k04")); err != nil || ok {
					t.Fatalf("n=%d: cleared k04 read %q %v %v", n, v, ok, err)
				}
				want = slices.Concat(seq(0, 3), []int{5}, seq(10, n), []int{99})
				if got := rangeKeys(tx); got != keys(want...) {
					t.Fatalf("n=%d after rewrite: range %s, want %s", n, got, keys(want...))
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				rd := txnbuf.New(be, true)
				if got := rangeKeys(rd); got != keys(want...) {
					t.Fatalf("n=%d committed: range %s, want %s", n, got, keys(want...))
				}
				// Clean up for the next n.
				cl := txnbuf.New(be, false)
				cl.ClearRange([]byte("k"), []byte("l"))
				if err := cl.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestReview3AtomicsOverStoreValue checks pending atomics over a stored
// value (not known locally) read through Get and GetMany, then committed.
func TestReview3AtomicsOverStoreValue(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			w := txnbuf.New(be, false)
			for i := range 20 {
				w.Set(fmt.Appendf(nil, "a%02d", i), []byte{byte(i)})
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			tx := txnbuf.New(be, false)
			for i := range 20 { // 20 pending atomic entries: the tree
				tx.Atomic(kv.AtomicAdd, fmt.Appendf(nil, "a%02d", i), []byte{10})
				tx.Atomic(kv.AtomicAdd, fmt.Appendf(nil, "a%02d", i), []byte{1})
			}
			for i := range 20 {
				v, ok, err := tx.Get(ctx, fmt.Appendf(nil, "a%02d", i))
				if err != nil || !ok || !bytes.Equal(v, []byte{byte(i + 11)}) {
					t.Fatalf("a%02d: %q %v %v, want %d", i, v, ok, err, i+11)
				}
				// The returned value belongs to the caller.
				v[0] = 0xee
			}
			ls, err := tx.GetMany(ctx, [][]byte{[]byte("a03"), []byte("a19")})
			if err != nil || !bytes.Equal(ls[0].Value, []byte{14}) || !bytes.Equal(ls[1].Value, []byte{30}) {
				t.Fatalf("GetMany after mutating Get results: %v %v", ls, err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			rd := txnbuf.New(be, true)
			for i := range 20 {
				v, ok, err := rd.Get(ctx, fmt.Appendf(nil, "a%02d", i))
				if err != nil || !ok || !bytes.Equal(v, []byte{byte(i + 11)}) {
					t.Fatalf("committed a%02d: %q %v %v, want %d", i, v, ok, err, i+11)
				}
			}
		})
	}
}

// TestReview3ReturnedValuesAreCopies mutates every returned slice (of a
// stored value, a pending value, and the caller's Set input) and reads
// again through both paths.
func TestReview3ReturnedValuesAreCopies(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			in := []byte("stored")
			w := txnbuf.New(be, false)
			w.Set([]byte("s"), in)
			in[0] = 'X' // the caller's buffer after Set
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{true, false} {
				tx := txnbuf.New(be, ro)
				for _, get := range []func(context.Context, []byte) ([]byte, bool, error){tx.Get, tx.SnapshotGet} {
					v, _, err := get(ctx, []byte("s"))
					if err != nil || string(v) != "stored" {
						t.Fatalf("read %q %v, want stored", v, err)
					}
					v[0] = 'Z'
				}
				if v, _, _ := tx.SnapshotGet(ctx, []byte("s")); string(v) != "stored" {
					t.Fatalf("readOnly=%v: after mutating returned values, s = %q", ro, v)
				}
			}
			tx := txnbuf.New(be, false)
			p := []byte("pending")
			tx.Set([]byte("p"), p)
			p[0] = 'X'
			v, _, _ := tx.Get(ctx, []byte("p"))
			if string(v) != "pending" {
				t.Fatalf("pending p = %q after the caller changed its Set buffer", v)
			}
			v[0] = 'Z'
			if v, _, _ := tx.Get(ctx, []byte("p")); string(v) != "pending" {
				t.Fatalf("pending p = %q after mutating a returned value", v)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := txnbuf.New(be, true).Get(ctx, []byte("p")); string(v) != "pending" {
				t.Fatalf("committed p = %q", v)
			}
		})
	}
}

// TestReview3GetConflicts: Get adds a read conflict, whether the value came
// from the store, from a pending write or from a pending range clear;
// SnapshotGet adds none.
func TestReview3GetConflicts(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			setup := txnbuf.New(be, false)
			setup.Set([]byte("x"), []byte("0"))
			if err := setup.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name     string
				prep     func(tx *txnbuf.Txn)
				snapshot bool
				conflict bool
			}{
				{"store", func(*txnbuf.Txn) {}, false, true},
				{"store snapshot", func(*txnbuf.Txn) {}, true, false},
				{"pending set", func(tx *txnbuf.Txn) { tx.Set([]byte("x"), []byte("p")) }, false, true},
				{"pending set snapshot", func(tx *txnbuf.Txn) { tx.Set([]byte("x"), []byte("p")) }, true, false},
				{"pending clear range", func(tx *txnbuf.Txn) { tx.ClearRange([]byte("w"), []byte("y")) }, false, true},
				{"pending atomic", func(tx *txnbuf.Txn) { tx.Atomic(kv.AtomicAdd, []byte("x"), []byte{1}) }, false, true},
				{"pending atomic snapshot", func(tx *txnbuf.Txn) { tx.Atomic(kv.AtomicAdd, []byte("x"), []byte{1}) }, true, false},
			}
			for _, c := range cases {
				for _, many := range []bool{false, true} {
					tx := txnbuf.New(be, false)
					// Fix the read version before the prep: a fresh one.
					if _, err := tx.ReadVersion(ctx); err != nil {
						t.Fatal(err)
					}
					c.prep(tx)
					var err error
					switch {
					case many && c.snapshot:
						_, err = tx.SnapshotGetMany(ctx, [][]byte{[]byte("x")})
					case many:
						_, err = tx.GetMany(ctx, [][]byte{[]byte("x")})
					case c.snapshot:
						_, _, err = tx.SnapshotGet(ctx, []byte("x"))
					default:
						_, _, err = tx.Get(ctx, []byte("x"))
					}
					if err != nil {
						t.Fatal(err)
					}
					tx.Set([]byte("other"), []byte("1")) // a write, so the commit resolves
					other := txnbuf.New(be, false)
					other.Set([]byte("x"), []byte("o"))
					if err := other.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					err = tx.Commit(ctx)
					if got := errors.Is(err, kv.ErrConflict); got != c.conflict {
						t.Errorf("%s (many=%v): commit after a concurrent write of x: %v, want conflict=%v", c.name, many, err, c.conflict)
					}
				}
			}
		})
	}
}

// TestReview3ReadVersionChecks: a future read version and one older than
// the window fail the one-key Get as they fail GetMany.
func TestReview3ReadVersionChecks(t *testing.T) {
	ctx := context.Background()
	bes, clock := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			w := txnbuf.New(be, false)
			w.Set([]byte("k"), []byte("v"))
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			for _, snapshot := range []bool{false, true} {
				fut := txnbuf.New(be, false)
				fut.SetReadVersion(w.CommittedVersion() + 1_000_000)
				var err error
				if snapshot {
					_, _, err = fut.SnapshotGet(ctx, []byte("k"))
				} else {
					_, _, err = fut.Get(ctx, []byte("k"))
				}
				if !errors.Is(err, kv.ErrFutureVersion) {
					t.Errorf("snapshot=%v: Get at a future version: %v, want ErrFutureVersion", snapshot, err)
				}
				_, err = fut.GetMany(ctx, [][]byte{[]byte("k")})
				if !errors.Is(err, kv.ErrFutureVersion) {
					t.Errorf("GetMany at a future version: %v, want ErrFutureVersion", err)
				}
			}
			old := txnbuf.New(be, true)
			if _, err := old.ReadVersion(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * mvcc.DefaultWindow)
			if _, _, err := old.Get(ctx, []byte("k")); !errors.Is(err, kv.ErrTooOld) {
				t.Errorf("Get outside the window: %v, want ErrTooOld", err)
			}
			if _, _, err := old.SnapshotGet(ctx, []byte("absent")); !errors.Is(err, kv.ErrTooOld) {
				t.Errorf("SnapshotGet of an absent key outside the window: %v, want ErrTooOld", err)
			}
			clock.Advance(-2 * mvcc.DefaultWindow)
		})
	}
}

// review3Capture records the commit requests a backend receives, as deep
// copies and as the pointers themselves.
type review3Capture struct {
	txnbuf.Backend
	reqs  []*txnbuf.CommitRequest
	deeps []string
}

func (c *review3Capture) Commit(ctx context.Context, req *txnbuf.CommitRequest) (txnbuf.CommitResult, error) {
	c.reqs = append(c.reqs, req)
	c.deeps = append(c.deeps, fmt.Sprintf("%+v", *req))
	return c.Backend.Commit(ctx, req)
}

// TestReview3ResetForgetsAttempt (the capture hides GetOne: the general
// path; the allocation under test is shared by both) reuses one Txn across attempts with Reset:
// the second attempt must commit only its own writes and read conflicts,
// and the first attempt's request must not change afterwards (it must not
// share the buffers the second attempt writes).
func TestReview3ResetForgetsAttempt(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			cb := &review3Capture{Backend: be}
			tx := txnbuf.New(cb, false)
			// Attempt 1: reads r (a conflict), writes 20 keys, commits.
			if _, _, err := tx.Get(ctx, []byte("r")); err != nil {
				t.Fatal(err)
			}
			tx.Set([]byte("first"), []byte("1"))
			for i := range 20 {
				tx.Set(fmt.Appendf(nil, "f%02d", i), []byte("1"))
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			// Attempt 2 on the same Txn, after Reset: reads r again and
			// loses to a concurrent write of r.
			tx.Reset()
			if _, _, err := tx.Get(ctx, []byte("r")); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				tx.Set(fmt.Appendf(nil, "a%02d", i), []byte("2"))
			}
			other := txnbuf.New(be, false)
			other.Set([]byte("r"), []byte("o"))
			if err := other.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); !errors.Is(err, kv.ErrConflict) {
				t.Fatalf("attempt 2: %v, want ErrConflict", err)
			}
			// Attempt 3: writes one key, reads nothing: must commit, and
			// carry neither attempt 2's writes nor its read of r.
			tx.Reset()
			tx.Set([]byte("third"), []byte("3"))
			other = txnbuf.New(be, false)
			other.Set([]byte("r"), []byte("o2"))
			if err := other.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatalf("attempt 3 (no reads) failed: %v: Reset kept attempt 2's read conflicts", err)
			}
			last := cb.reqs[len(cb.reqs)-1]
			if len(last.Mutations) != 1 || string(last.Mutations[0].Key) != "third" || len(last.ReadConflicts) != 0 || last.ReadVersion != 0 {
				t.Fatalf("attempt 3 request %+v, want one set of third and no reads", *last)
			}
			for i, req := range cb.reqs {
				if got := fmt.Sprintf("%+v", *req); got != cb.deeps[i] {
					t.Errorf("request %d changed after a later attempt:\nthen %s\nnow  %s", i, cb.deeps[i], got)
				}
			}
			rd := txnbuf.New(be, true)
			for k, want := range map[string]bool{"first": true, "third": true, "a00": false, "a19": false} {
				if _, ok, err := rd.Get(ctx, []byte(k)); err != nil || ok != want {
					t.Errorf("%s found=%v err=%v, want found=%v", k, ok, err, want)
				}
			}
		})
	}
}

// TestReview3RequestsOfSeparateTxns: requests of distinct transactions
// never share memory, even when one transaction's writes are made after
// the other committed.
func TestReview3RequestsOfSeparateTxns(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	cb := &review3Capture{Backend: bes["one"]}
	for i := range 30 {
		tx := txnbuf.New(cb, false)
		if _, _, err := tx.Get(ctx, fmt.Appendf(nil, "r%d", i)); err != nil {
			t.Fatal(err)
		}
		for j := range i % 20 {
			tx.Set(fmt.Appendf(nil, "t%02d.%02d", i, j), []byte("v"))
		}
		tx.Atomic(kv.AtomicAdd, []byte("n"), []byte{1})
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i, req := range cb.reqs {
		if got := fmt.Sprintf("%+v", *req); got != cb.deeps[i] {
			t.Errorf("request %d changed after later transactions:\nthen %s\nnow  %s", i, cb.deeps[i], got)
		}
	}
}

// TestReview3VersionstampsAcrossSmallLimit mixes versionstamped writes with
// more than 16 pending keys: a pending versionstamped value cannot be read
// (one-key path as the general one), a range clear over it drops it, and
// the commit writes the call-order result.
func TestReview3VersionstampsAcrossSmallLimit(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	for name, be := range bes {
		t.Run(name, func(t *testing.T) {
			tx := txnbuf.New(be, false)
			for i := range 20 {
				tx.Set(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			}
			stamped := make([]byte, 12)
			if err := tx.SetVersionstampedValue([]byte("k03"), stamped, 2); err != nil {
				t.Fatal(err)
			}
			if err := tx.SetVersionstampedValue([]byte("k17"), stamped, 2); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"k03", "k17"} {
				if _, _, err := tx.Get(ctx, []byte(k)); !errors.Is(err, kv.ErrInvalid) {
					t.Errorf("Get of pending versionstamped %s: %v, want ErrInvalid", k, err)
				}
				if _, _, err := tx.SnapshotGet(ctx, []byte(k)); !errors.Is(err, kv.ErrInvalid) {
					t.Errorf("SnapshotGet of pending versionstamped %s: %v, want ErrInvalid", k, err)
				}
			}
			tx.ClearRange([]byte("k15"), []byte("k19"))
			if _, ok, err := tx.Get(ctx, []byte("k17")); err != nil || ok {
				t.Fatalf("k17 after a range clear over its versionstamped value: found=%v %v", ok, err)
			}
			tx.Set([]byte("k16"), []byte("again"))
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			rd := txnbuf.New(be, true)
			res, err := rd.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("k")), kv.FirstGreaterOrEqual([]byte("l")), 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.KVs {
				got = append(got, string(r.Key))
			}
			want := "[k00 k01 k02 k03 k04 k05 k06 k07 k08 k09 k10 k11 k12 k13 k14 k16 k19]"
			if fmt.Sprint(got) != want {
				t.Fatalf("committed keys %v, want %s", got, want)
			}
			v, _, _ := rd.Get(ctx, []byte("k03"))
			if len(v) != 12 || binary.BigEndian.Uint64(v[2:10]) != uint64(tx.CommittedVersion()) {
				t.Fatalf("k03 = %x, want the commit's versionstamp at offset 2 (version %d)", v, tx.CommittedVersion())
			}
		})
	}
}

// TestReview3CommitAgainAfterConflict: a transaction whose commit failed
// its conflict check fails the same way when committed again without a
// Reset (the reused request must still carry its reads), and a Reset one
// then commits.
func TestReview3CommitAgainAfterConflict(t *testing.T) {
	ctx := context.Background()
	bes, _ := review3Backends(t)
	be := bes["one"]
	tx := txnbuf.New(be, false)
	if _, _, err := tx.Get(ctx, []byte("r")); err != nil {
		t.Fatal(err)
	}
	tx.Set([]byte("w"), []byte("1"))
	o := txnbuf.New(be, false)
	o.Set([]byte("r"), []byte("x"))
	if err := o.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := tx.Commit(ctx); !errors.Is(err, kv.ErrConflict) {
			t.Fatalf("commit %d: %v, want ErrConflict", i+1, err)
		}
	}
	tx.Reset()
	if _, _, err := tx.Get(ctx, []byte("r")); err != nil {
		t.Fatal(err)
	}
	tx.Set([]byte("w"), []byte("1"))
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}
