package mvcc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

// review3Versions counts the versions of every chain in the committer's tree.
func review3Versions(s *Store) (keys, versions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.work.Scan(func(it *item) bool {
		keys++
		for v := it.head.Load(); v != nil; v = v.prev.Load() {
			versions++
		}
		return true
	})
	return keys, versions
}

func review3Get(tb testing.TB, s *Store, rv int64, k string) string {
	tb.Helper()
	v, err := s.GetOne(rv, []byte(k))
	if err != nil {
		tb.Fatalf("GetOne(%d, %s): %v", rv, k, err)
	}
	vs, err := s.Get(rv, [][]byte{[]byte(k)})
	if err != nil {
		tb.Fatalf("Get(%d, %s): %v", rv, k, err)
	}
	if string(vs[0].Value) != string(v.Value) || vs[0].Found != v.Found {
		tb.Fatalf("at %d %s: GetOne %q %v, Get %q %v", rv, k, v.Value, v.Found, vs[0].Value, vs[0].Found)
	}
	if !v.Found {
		return "<absent>"
	}
	return string(v.Value)
}

// TestReview3ClearRangePrunesWhileWalking clears a range of keys whose
// chains are due for pruning, so push prunes inside the B-tree walk, and
// checks that every key got its tombstone, that the tree kept its keys,
// and that readers at older versions inside the window see the history.
func TestReview3ClearRangePrunesWhileWalking(t *testing.T) {
	s, clock := newTestStore(t)
	const n = 300
	type snap struct {
		rv   int64
		vals map[string]string
	}
	var snaps []snap
	model := map[string]string{}
	// Seven versions per key: the eighth push (the tombstone) prunes.
	for round := range 7 {
		ms := make([]txnbuf.Mutation, 0, n)
		for i := range n {
			k := fmt.Sprintf("k%03d", i)
			v := fmt.Sprintf("v%d", round)
			ms = append(ms, set(k, v))
			model[k] = v
		}
		if err := commit(t, s, 0, nil, ms...); err != nil {
			t.Fatal(err)
		}
		if round >= 4 {
			rv, _ := s.ReadVersion()
			vals := map[string]string{}
			for k, v := range model {
				vals[k] = v
			}
			snaps = append(snaps, snap{rv, vals})
		}
		clock.Advance(DefaultWindow / 20)
	}
	// Round r was committed at r·window/20; now at 7·window/20. Move to
	// window+3.5·window/20: the horizon falls between rounds 3 and 4, so
	// rounds 0-3 are at or below it and rounds 4-6 inside the window. No
	// sweep runs before the clear (its debt is far below a batch), so the
	// cut is the push's, inside the walk.
	clock.Advance(DefaultWindow - 7*DefaultWindow/40)
	keysBefore, versionsBefore := review3Versions(s)
	if versionsBefore != 7*n {
		t.Fatalf("%d versions before the clear, want %d (no pruning yet)", versionsBefore, 7*n)
	}
	// Also a key outside the range, right after its end.
	if err := commit(t, s, 0, nil, set("k300", "out")); err != nil {
		t.Fatal(err)
	}
	if err := commit(t, s, 0, nil, txnbuf.Mutation{Type: txnbuf.MutClearRange, Key: []byte("k000"), End: []byte("k300")}); err != nil {
		t.Fatal(err)
	}
	rv, _ := s.ReadVersion()
	for i := range n {
		if got := review3Get(t, s, rv, fmt.Sprintf("k%03d", i)); got != "<absent>" {
			t.Fatalf("k%03d = %q after the range clear", i, got)
		}
	}
	if got := review3Get(t, s, rv, "k300"); got != "out" {
		t.Fatalf("k300 (outside the range) = %q", got)
	}
	keysAfter, versionsAfter := review3Versions(s)
	if keysAfter != keysBefore+1 {
		t.Fatalf("the range clear changed the tree's keys: %d before (+1 for k300), %d after", keysBefore, keysAfter)
	}
	// Each chain: the tombstone, rounds 6-4, and round 3 (the newest at or
	// below the horizon); rounds 2-0 pruned inside the walk. k300: 1.
	if want := 5*n + 1; versionsAfter != want {
		t.Fatalf("%d versions after the clear, want %d: the pushes in the walk did not prune", versionsAfter, want)
	}
	// Every snapshot (rounds 4-6) is inside the window.
	for _, sn := range snaps {
		for i := range n {
			k := fmt.Sprintf("k%03d", i)
			if got := review3Get(t, s, sn.rv, k); got != sn.vals[k] {
				t.Fatalf("at %d, %s = %q, want %q", sn.rv, k, got, sn.vals[k])
			}
		}
	}
	rows, _, err := s.Range(rv, []byte("k"), []byte("l"), 0, false)
	if err != nil || len(rows) != 1 {
		t.Fatalf("range after the clear: %d rows %v, want only k300", len(rows), err)
	}
}

// TestReview3SweepKeepsWindowReclaimsOld writes a random history over
// keys with the clock advancing, checks after every commit (so across many
// batched sweeps) that readers at every version still inside the window
// read what was committed then, and finally that, once the window has
// passed, chains are cut to what the window needs and expired tombstones
// leave the tree.
func TestReview3SweepKeepsWindowReclaimsOld(t *testing.T) {
	s, clock := newTestStore(t)
	r := rand.New(rand.NewPCG(9, 10))
	const keys = 400
	type snap struct {
		rv   int64
		at   time.Duration
		vals map[string]string
	}
	model := map[string]string{}
	var snaps []snap
	var elapsed time.Duration
	for c := range 1500 {
		var ms []txnbuf.Mutation
		for range 1 + r.IntN(4) {
			k := fmt.Sprintf("k%03d", r.IntN(keys))
			if r.IntN(4) == 0 {
				ms = append(ms, txnbuf.Mutation{Type: txnbuf.MutClear, Key: []byte(k)})
				delete(model, k)
			} else {
				v := fmt.Sprint(c)
				ms = append(ms, set(k, v))
				model[k] = v
			}
		}
		if err := commit(t, s, 0, nil, ms...); err != nil {
			t.Fatal(err)
		}
		if s.debt >= sweepBatch {
			t.Fatalf("sweep debt %d after a commit, want < %d", s.debt, sweepBatch)
		}
		rv, _ := s.ReadVersion()
		if c%50 == 0 {
			vals := make(map[string]string, len(model))
			for k, v := range model {
				vals[k] = v
			}
			snaps = append(snaps, snap{rv, elapsed, vals})
		}
		d := time.Duration(r.IntN(10)) * time.Millisecond
		clock.Advance(d)
		elapsed += d
		// Readers whose version is still well inside the window.
		for _, sn := range snaps {
			if elapsed-sn.at > DefaultWindow-time.Second {
				continue
			}
			k := fmt.Sprintf("k%03d", r.IntN(keys))
			want, ok := sn.vals[k]
			if !ok {
				want = "<absent>"
			}
			if got := review3Get(t, s, sn.rv, k); got != want {
				t.Fatalf("commit %d: reader at %d (%v old): %s = %q, want %q", c, sn.rv, elapsed-sn.at, k, got, want)
			}
		}
	}
	// Past the window, then enough small commits to sweep every key twice.
	clock.Advance(2 * DefaultWindow)
	for i := range 2 * keys / 10 {
		if err := commit(t, s, 0, nil, set("z", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	nkeys, versions := review3Versions(s)
	if want := len(model) + 1; nkeys != want {
		t.Fatalf("%d keys left past the window, want %d live (expired tombstones dropped)", nkeys, want)
	}
	// Chains shorter than 1<<minPruneLg may keep that many versions; the
	// sweep cuts the rest to the newest one at or below the horizon.
	if versions > nkeys*(1<<minPruneLg) {
		t.Fatalf("%d versions over %d keys past the window: history not reclaimed", versions, nkeys)
	}
	rv, _ := s.ReadVersion()
	for k, want := range model {
		if got := review3Get(t, s, rv, k); got != want {
			t.Fatalf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestReview3SweepCutsPastWindow: after the window has passed and the
// sweep has been around, a key written many times keeps one version.
func TestReview3SweepCutsPastWindow(t *testing.T) {
	s, clock := newTestStore(t)
	for i := range 7 { // below push's first pruning: left to the sweep
		if err := commit(t, s, 0, nil, set("a", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * DefaultWindow)
	for i := range sweepBatch/10 + 1 {
		if err := commit(t, s, 0, nil, set("z", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	it, _ := s.work.Get(s.look([]byte("a")))
	n := 0
	for v := it.head.Load(); v != nil; v = v.prev.Load() {
		n++
	}
	s.mu.Unlock()
	if n != 1 {
		t.Fatalf("a keeps %d versions past the window after a sweep, want 1", n)
	}
}

// TestReview3UnsortedReadConflicts sends point read conflicts out of order
// and repeated (as a customkv client may): the items found for them must
// still give apply the right item, and a conflict on any of them fails.
func TestReview3UnsortedReadConflicts(t *testing.T) {
	s, _ := newTestStore(t)
	add := func(k string) txnbuf.Mutation {
		return txnbuf.Mutation{Type: txnbuf.MutAtomic, Op: kv.AtomicAdd, Key: []byte(k), Value: []byte{1}}
	}
	if err := commit(t, s, 0, nil, set("a", "\x00"), set("m", "\x00"), set("z", "\x00")); err != nil {
		t.Fatal(err)
	}
	reads := []kv.KeyRange{point("z"), point("a"), point("m"), point("a"), point("q")}
	for range 3 {
		rv, _ := s.ReadVersion()
		if err := commit(t, s, rv, reads, add("a"), add("m"), add("q"), add("z")); err != nil {
			t.Fatal(err)
		}
	}
	rv, _ := s.ReadVersion()
	for _, k := range []string{"a", "m", "q", "z"} {
		if got := review3Get(t, s, rv, k); got != "\x03" {
			t.Errorf("%s = %q after three adds, want \\x03", k, got)
		}
	}
	if err := commit(t, s, 0, nil, set("a", "late")); err != nil {
		t.Fatal(err)
	}
	if err := commit(t, s, rv, reads, set("m", "lost")); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("stale unsorted reads: %v, want ErrConflict", err)
	}
	rv, _ = s.ReadVersion()
	if got := review3Get(t, s, rv, "m"); got != "\x03" {
		t.Fatalf("m = %q after a commit that failed its conflict check, want \\x03", got)
	}
}

// TestReview3GetOneChecks: GetOne refuses a future version, a version that
// left the window, and a closed store, as Get does.
func TestReview3GetOneChecks(t *testing.T) {
	s, clock := newTestStore(t)
	if err := commit(t, s, 0, nil, set("k", "v")); err != nil {
		t.Fatal(err)
	}
	rv, _ := s.ReadVersion()
	if _, err := s.GetOne(rv+1, []byte("k")); !errors.Is(err, kv.ErrFutureVersion) {
		t.Errorf("GetOne at a future version: %v", err)
	}
	v, err := s.GetOne(rv, []byte("k"))
	if err != nil || string(v.Value) != "v" {
		t.Fatalf("GetOne: %q %v", v.Value, err)
	}
	clock.Advance(2 * DefaultWindow)
	if _, err := s.GetOne(rv, []byte("k")); !errors.Is(err, kv.ErrTooOld) {
		t.Errorf("GetOne outside the window: %v", err)
	}
	if _, err := s.Get(rv, [][]byte{[]byte("k")}); !errors.Is(err, kv.ErrTooOld) {
		t.Errorf("Get outside the window: %v", err)
	}
	s.Close()
	if _, err := s.GetOne(rv, []byte("k")); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("GetOne on a closed store: %v", err)
	}
}

// TestReview3SetThenClearRangeInOneCommit: mutations in call order (as a
// transaction with versionstamps sends them) set keys, one of them new and
// one read, and then clear a range over them in the same commit; the walk
// pushes tombstones over versions of the commit itself.
func TestReview3SetThenClearRangeInOneCommit(t *testing.T) {
	s, _ := newTestStore(t)
	if err := commit(t, s, 0, nil, set("a", "old"), set("c", "keep")); err != nil {
		t.Fatal(err)
	}
	rv, _ := s.ReadVersion()
	err := commit(t, s, rv, []kv.KeyRange{point("a"), point("b")},
		set("a", "new"), set("b", "fresh"),
		txnbuf.Mutation{Type: txnbuf.MutClearRange, Key: []byte("a"), End: []byte("c")},
		set("b", "again"))
	if err != nil {
		t.Fatal(err)
	}
	now, _ := s.ReadVersion()
	for k, want := range map[string]string{"a": "<absent>", "b": "again", "c": "keep"} {
		if got := review3Get(t, s, now, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The reader at rv still sees the state before the commit.
	for k, want := range map[string]string{"a": "old", "b": "<absent>", "c": "keep"} {
		if got := review3Get(t, s, rv, k); got != want {
			t.Errorf("at the old version, %s = %q, want %q", k, got, want)
		}
	}
}
