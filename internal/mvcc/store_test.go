package mvcc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

func newTestStore(tb testing.TB) (*Store, *fakeclock.Clock) {
	tb.Helper()
	clock := fakeclock.Stopped(time.Unix(1_700_000_000, 0))
	return New(Options{Clock: clock.Now}), clock
}

func point(k string) kv.KeyRange {
	return kv.KeyRange{Begin: []byte(k), End: append([]byte(k), 0)}
}

func commit(tb testing.TB, s *Store, rv int64, reads []kv.KeyRange, ms ...txnbuf.Mutation) error {
	tb.Helper()
	_, err := s.Commit(&txnbuf.CommitRequest{ReadVersion: rv, ReadConflicts: reads, Mutations: ms})
	// Items found for one commit must not reach the next one's apply (nor
	// Apply's): the sweep may have dropped them in between.
	if len(s.seen) != 0 {
		tb.Fatalf("a commit (err %v) left %d items in seen", err, len(s.seen))
	}
	return err
}

func set(k, v string) txnbuf.Mutation {
	return txnbuf.Mutation{Type: txnbuf.MutSet, Key: []byte(k), Value: []byte(v)}
}

func read(tb testing.TB, s *Store, k string) (string, bool) {
	tb.Helper()
	rv, err := s.ReadVersion()
	if err != nil {
		tb.Fatal(err)
	}
	v, err := s.GetOne(rv, []byte(k))
	if err != nil {
		tb.Fatal(err)
	}
	return string(v.Value), v.Found
}

// TestGetOneMatchesGet reads random keys at random versions of a store with
// history and tombstones through both read paths.
func TestGetOneMatchesGet(t *testing.T) {
	s, _ := newTestStore(t)
	r := rand.New(rand.NewPCG(5, 6))
	var versions []int64
	for i := range 300 {
		k := fmt.Sprintf("k%02d", r.IntN(40))
		m := set(k, fmt.Sprint(i))
		if r.IntN(4) == 0 {
			m = txnbuf.Mutation{Type: txnbuf.MutClear, Key: []byte(k)}
		}
		res, err := s.Commit(&txnbuf.CommitRequest{Mutations: []txnbuf.Mutation{m}})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, res.Version)
	}
	for range 2000 {
		rv := versions[r.IntN(len(versions))]
		k := []byte(fmt.Sprintf("k%02d", r.IntN(44)))
		many, err := s.Get(rv, [][]byte{k})
		if err != nil {
			t.Fatal(err)
		}
		one, err := s.GetOne(rv, k)
		if err != nil {
			t.Fatal(err)
		}
		if one.Found != many[0].Found || string(one.Value) != string(many[0].Value) {
			t.Fatalf("%s at %d: GetOne = %+v, Get = %+v", k, rv, one, many[0])
		}
	}
	if _, err := s.GetOne(versions[len(versions)-1]+1000, []byte("k00")); !errors.Is(err, kv.ErrFutureVersion) {
		t.Fatalf("GetOne ahead of the store: %v, want ErrFutureVersion", err)
	}
}

// TestReadAndWrittenKeys covers the items resolve hands to apply: a commit
// that reads and writes the same keys (sets, atomics, clears, a range clear
// over them) must leave the same values as if apply had searched the tree,
// also for a key whose item the sweep dropped and a later commit created
// again, and after a commit that failed its conflict check.
func TestReadAndWrittenKeys(t *testing.T) {
	s, clock := newTestStore(t)
	add1 := func(k string) txnbuf.Mutation {
		return txnbuf.Mutation{Type: txnbuf.MutAtomic, Op: kv.AtomicAdd, Key: []byte(k), Value: []byte{1}}
	}
	if err := commit(t, s, 0, nil, set("a", "\x05"), set("b", "b0"), set("c", "c0")); err != nil {
		t.Fatal(err)
	}
	rv, _ := s.ReadVersion()
	// Reads a, c and z (absent); writes a (atomic), b (not read), c (clear)
	// and z (set).
	if err := commit(t, s, rv, []kv.KeyRange{point("a"), point("c"), point("z")},
		add1("a"), set("b", "b1"), txnbuf.Mutation{Type: txnbuf.MutClear, Key: []byte("c")}, set("z", "z1")); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a": "\x06", "b": "b1", "z": "z1"} {
		if got, ok := read(t, s, k); !ok || got != want {
			t.Errorf("%s = %q (found %v), want %q", k, got, ok, want)
		}
	}
	if _, ok := read(t, s, "c"); ok {
		t.Error("c survived its clear")
	}

	// A stale read of a fails resolve; the next commit, with other reads,
	// must not see what the failed one found.
	if err := commit(t, s, rv, []kv.KeyRange{point("a")}, add1("a")); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("stale read of a: %v, want ErrConflict", err)
	}
	rv, _ = s.ReadVersion()
	if err := commit(t, s, rv, []kv.KeyRange{point("b")}, set("b", "b2"), add1("a")); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(t, s, "a"); got != "\x07" {
		t.Errorf("a = %q after a second add, want \\x07", got)
	}

	// Range clear over read keys, then set one of them again in a later
	// commit that reads it.
	rv, _ = s.ReadVersion()
	if err := commit(t, s, rv, []kv.KeyRange{point("a"), point("b")},
		txnbuf.Mutation{Type: txnbuf.MutClearRange, Key: []byte("a"), End: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := read(t, s, "a"); ok {
		t.Error("a survived the range clear")
	}

	// Let the tombstones of a, b and c leave the window and the sweep drop
	// their items, then read-and-write a again: a new item.
	clock.Advance(2 * DefaultWindow)
	before := s.Len()
	for i := range 4 * sweepBatch {
		if err := commit(t, s, 0, nil, set("filler", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if after := s.Len(); after != before-3+1 {
		t.Fatalf("the sweep left %d keys of %d and filler, want the 3 tombstones dropped", after, before)
	}
	for i := range 3 {
		rv, _ = s.ReadVersion()
		if err := commit(t, s, rv, []kv.KeyRange{point("a")}, add1("a")); err != nil {
			t.Fatal(err)
		}
		if got, want := func() string { v, _ := read(t, s, "a"); return v }(), string([]byte{byte(i + 1)}); got != want {
			t.Fatalf("a = %q after %d adds on the recreated key, want %q", got, i+1, want)
		}
	}
	// Recovery replays through the same apply: a key read by the last
	// commit gets the replayed value.
	s.Apply(s.assigned+1, []txnbuf.Mutation{add1("a")})
	if got, _ := read(t, s, "a"); got != "\x04" {
		t.Fatalf("a = %q after a replayed add, want \\x04", got)
	}
}

// TestSweepRunsInBatches checks that the sweep keeps its rate of visits
// when it runs in batches: after the window has passed, commits that owe
// enough visits to cover every key drop every expired tombstone.
func TestSweepRunsInBatches(t *testing.T) {
	s, clock := newTestStore(t)
	const n = 2000
	ms := make([]txnbuf.Mutation, 0, n)
	for i := range n {
		ms = append(ms, set(fmt.Sprintf("k%05d", i), "v"))
	}
	if err := commit(t, s, 0, nil, ms...); err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		ms[i] = txnbuf.Mutation{Type: txnbuf.MutClear, Key: ms[i].Key}
	}
	if err := commit(t, s, 0, nil, ms...); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * DefaultWindow)
	// One-key commits owe 10 visits each; one pass needs n/10 of them, and
	// the cursor may start anywhere: two passes' worth.
	for i := range 2 * n / 10 {
		if err := commit(t, s, 0, nil, set("z", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 1 {
		t.Fatalf("%d keys left after the sweep passed every key, want 1 (z)", got)
	}
}
