package txnbuf

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWriteSetMatchesModel drives a writeSet across the slice-to-B-tree
// switch with random inserts, deletes and walks and compares every answer
// with a sorted slice of keys.
func TestWriteSetMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		var w writeSet
		var model [][]byte  // sorted
		keyN := 4 + round*2 // some rounds stay small, some pass smallWrites
		key := func() []byte { return fmt.Appendf(nil, "k%03d", r.IntN(keyN)) }
		for step := range 300 {
			k := key()
			i, have := slices.BinarySearchFunc(model, k, bytes.Compare)
			switch op := r.IntN(10); {
			case op < 5:
				if !have {
					w.insert(&entry{key: k})
					model = slices.Insert(model, i, k)
				}
			case op < 7:
				if have {
					w.delete(w.get(k))
					model = slices.Delete(model, i, i+1)
				}
			case op < 8:
				var got [][]byte
				w.ascend(k, func(e *entry) bool { got = append(got, e.key); return true })
				if want := model[i:]; !equalKeys(got, want) {
					t.Fatalf("round %d step %d: ascend(%s) = %q, want %q", round, step, k, got, want)
				}
			case op < 9:
				var got [][]byte
				w.descend(k, func(e *entry) bool { got = append(got, e.key); return true })
				end := i
				if have {
					end++
				}
				want := slices.Clone(model[:end])
				slices.Reverse(want)
				if !equalKeys(got, want) {
					t.Fatalf("round %d step %d: descend(%s) = %q, want %q", round, step, k, got, want)
				}
			default:
				var got [][]byte
				w.scan(func(e *entry) bool { got = append(got, e.key); return true })
				if !equalKeys(got, model) {
					t.Fatalf("round %d step %d: scan = %q, want %q", round, step, got, model)
				}
			}
			if e := w.get(k); (e != nil) != slices.ContainsFunc(model, func(m []byte) bool { return bytes.Equal(m, k) }) {
				t.Fatalf("round %d step %d: get(%s) = %v disagrees with the model", round, step, k, e)
			}
			if w.empty() != (len(model) == 0) {
				t.Fatalf("round %d step %d: empty() = %v with %d keys", round, step, w.empty(), len(model))
			}
		}
	}
}

// TestWriteSetWalksStop checks that ascend and descend stop when fn returns
// false, in both representations.
func TestWriteSetWalksStop(t *testing.T) {
	for _, n := range []int{3, smallWrites + 5} {
		var w writeSet
		for i := range n {
			w.insert(&entry{key: fmt.Appendf(nil, "k%03d", i)})
		}
		calls := 0
		w.ascend(nil, func(*entry) bool { calls++; return calls < 2 })
		if calls != 2 {
			t.Errorf("%d keys: ascend made %d calls after a false at the 2nd, want 2", n, calls)
		}
		calls = 0
		w.descend([]byte("z"), func(*entry) bool { calls++; return false })
		if calls != 1 {
			t.Errorf("%d keys: descend made %d calls after a false at the 1st, want 1", n, calls)
		}
	}
}

func equalKeys(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}
