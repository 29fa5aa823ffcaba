package txnbuf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"github.com/fsmeta/fsmeta/internal/mvcc"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

// slicesOnly hides the backend's GetOne, so that Get takes the general
// path through GetMany.
type slicesOnly struct{ txnbuf.Backend }

// TestOneKeyGetMatchesGeneralPath runs the same random transactions over
// two stores, one whose backend reads single keys with GetOne and one
// whose backend has only the slice Get, and requires every read, every
// commit outcome and the final contents to agree. Pairs of transactions
// overlap so that read conflicts (recorded by Get, not by SnapshotGet)
// decide some commits.
func TestOneKeyGetMatchesGeneralPath(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.Stopped(time.Unix(1_700_000_000, 0))
	one := mvcc.New(mvcc.Options{Clock: clock.Now})
	gen := mvcc.New(mvcc.Options{Clock: clock.Now})
	if _, ok := one.Backend().(txnbuf.OneGetter); !ok {
		t.Fatal("the mvcc backend does not implement txnbuf.OneGetter: the test compares nothing")
	}
	r := rand.New(rand.NewPCG(3, 4))
	key := func() []byte { return fmt.Appendf(nil, "k%02d", r.IntN(24)) }
	conflicts := 0
	for round := range 400 {
		txs := [2][2]*txnbuf.Txn{
			{txnbuf.New(one.Backend(), false), txnbuf.New(slicesOnly{gen.Backend()}, false)},
			{txnbuf.New(one.Backend(), false), txnbuf.New(slicesOnly{gen.Backend()}, false)},
		}
		for step := range 12 {
			pair := txs[r.IntN(2)]
			k := key()
			switch op := r.IntN(8); op {
			case 0, 1, 2:
				var got [2]string
				for i, tx := range pair {
					get := tx.Get
					if op == 2 {
						get = tx.SnapshotGet
					}
					v, found, err := get(ctx, k)
					got[i] = fmt.Sprintf("%q %v %v", v, found, err)
				}
				if got[0] != got[1] {
					t.Fatalf("round %d step %d: read of %s: one-key path %s, general path %s", round, step, k, got[0], got[1])
				}
			case 3, 4:
				v := fmt.Appendf(nil, "v%d.%d", round, step)
				for _, tx := range pair {
					tx.Set(k, v)
				}
			case 5:
				for _, tx := range pair {
					tx.Clear(k)
				}
			case 6:
				end := append(bytes.Clone(k), 0xff)
				for _, tx := range pair {
					tx.ClearRange(k, end)
				}
			case 7:
				for _, tx := range pair {
					tx.Atomic(kv.AtomicAdd, k, []byte{1, 0, 0, 0})
				}
			}
		}
		for _, pair := range txs {
			e0, e1 := pair[0].Commit(ctx), pair[1].Commit(ctx)
			if (e0 == nil) != (e1 == nil) || (e0 != nil && !errors.Is(e0, kv.ErrConflict)) {
				t.Fatalf("round %d: commits disagree: one-key path %v, general path %v", round, e0, e1)
			}
			if e0 != nil {
				conflicts++
			}
		}
	}
	if conflicts == 0 {
		t.Fatal("no commit conflicted: the read conflicts of Get were not exercised")
	}
	dump := func(s *mvcc.Store) string {
		var b bytes.Buffer
		if _, err := s.ForEach(func(k, v []byte) error {
			fmt.Fprintf(&b, "%s=%q\n", k, v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := dump(one), dump(gen); a != b {
		t.Fatalf("final contents differ:\none-key path:\n%s\ngeneral path:\n%s", a, b)
	}
}
