package memkv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
)

// TestReview3ContendedCounters runs concurrent kv.Update transactions that
// each read-modify-write (Get then Set) a random subset of counters and
// bump 20 more with atomics (past the write set's slice of 16), so that
// commits conflict and retry on fresh transactions. Every counter must end
// at exactly the number of committed increments: a lost read conflict on
// the one-key Get path, or a retry that carried an old attempt's writes,
// would show as a wrong sum.
func TestReview3ContendedCounters(t *testing.T) {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	const (
		workers  = 4
		perW     = 150
		counters = 6
		spread   = 20
	)
	u64 := func(b []byte) uint64 {
		var x [8]byte
		copy(x[:], b)
		return binary.LittleEndian.Uint64(x[:])
	}
	var mu sync.Mutex
	want := make([]uint64, counters)
	wantSpread := make([]uint64, spread)
	retries := 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perW {
				c1, c2 := (w+i)%counters, (w*7+i*3)%counters
				err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
					for _, c := range []int{c1, c2} {
						k := fmt.Appendf(nil, "c%d", c)
						v, _, err := tx.Get(ctx, k)
						if err != nil {
							return err
						}
						var buf [8]byte
						binary.LittleEndian.PutUint64(buf[:], u64(v)+1)
						tx.Set(k, buf[:])
					}
					for s := range spread {
						tx.Atomic(kv.AtomicAdd, fmt.Appendf(nil, "s%02d", s), []byte{1, 0, 0, 0, 0, 0, 0, 0})
					}
					return nil
				}, kv.MaxRetries(-1), kv.OnRetry(func(int, error) {
					mu.Lock()
					retries++
					mu.Unlock()
				}))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				want[c1]++
				want[c2]++
				for s := range spread {
					wantSpread[s]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	err := kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		for c := range counters {
			v, _, err := tx.Get(ctx, fmt.Appendf(nil, "c%d", c))
			if err != nil {
				return err
			}
			if u64(v) != want[c] {
				return fmt.Errorf("counter c%d = %d, want %d", c, u64(v), want[c])
			}
		}
		for s := range spread {
			v, _, err := tx.Get(ctx, fmt.Appendf(nil, "s%02d", s))
			if err != nil {
				return err
			}
			if u64(v) != wantSpread[s] {
				return fmt.Errorf("atomic counter s%02d = %d, want %d", s, u64(v), wantSpread[s])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d retries", retries)
}

// TestReview3RetryStartsClean makes the first attempt of a kv.Update
// conflict after it wrote 20 keys and read one; the second attempt writes
// other keys. Only the committed attempt's writes may be in the store.
func TestReview3RetryStartsClean(t *testing.T) {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	attempt := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		attempt++
		if _, _, err := tx.Get(ctx, []byte("r")); err != nil {
			return err
		}
		if attempt == 1 {
			for i := range 20 {
				tx.Set(fmt.Appendf(nil, "first%02d", i), []byte("1"))
			}
			tx.ClearRange([]byte("first05"), []byte("first08"))
			// A concurrent write of r: this attempt must conflict.
			if err := kv.Update(ctx, db, func(ctx context.Context, o kv.ReadWriteTxn) error {
				o.Set([]byte("r"), []byte("x"))
				return nil
			}); err != nil {
				return err
			}
			return nil
		}
		tx.Set([]byte("second"), []byte("2"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if attempt != 2 {
		t.Fatalf("%d attempts, want 2 (the first conflicts)", attempt)
	}
	err = kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("a")), kv.FirstGreaterOrEqual([]byte("z")), 0)
		if err != nil {
			return err
		}
		var got []string
		for _, r := range res.KVs {
			got = append(got, string(r.Key))
		}
		if fmt.Sprint(got) != "[r second]" {
			return fmt.Errorf("store holds %v, want [r second]", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReview3SnapshotGetAddsNoConflict: through the engine, a SnapshotGet
// of a key written concurrently does not fail the commit; a Get does.
func TestReview3SnapshotGetAddsNoConflict(t *testing.T) {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	for _, snapshot := range []bool{true, false} {
		tx := db.NewReadWrite()
		var err error
		if snapshot {
			_, _, err = tx.SnapshotGet(ctx, []byte("k"))
		} else {
			_, _, err = tx.Get(ctx, []byte("k"))
		}
		if err != nil {
			t.Fatal(err)
		}
		tx.Set([]byte("w"), []byte("1"))
		o := db.NewReadWrite()
		o.Set([]byte("k"), []byte("x"))
		if err := o.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		err = tx.Commit(ctx)
		if snapshot && err != nil {
			t.Errorf("SnapshotGet then a concurrent write: commit %v, want nil", err)
		}
		if !snapshot && !errors.Is(err, kv.ErrConflict) {
			t.Errorf("Get then a concurrent write: commit %v, want ErrConflict", err)
		}
	}
}

// TestReview3RangeClearsUnderReaders: a writer alternately range-clears a
// block of 30 keys and rewrites all of them with one generation (both in
// one transaction, or the clear alone), while readers check in snapshots,
// through single-key Gets and range reads, that they never see a mix of
// generations: the pushes made inside the commit's walk of the tree must
// appear atomically to readers of the published tree.
func TestReview3RangeClearsUnderReaders(t *testing.T) {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	const block = 30
	key := func(i int) []byte { return fmt.Appendf(nil, "b%02d", i) }
	done := make(chan struct{})
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for gen := range 300 {
			err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
				tx.ClearRange([]byte("b"), []byte("c"))
				if gen%3 != 0 {
					for i := range block {
						tx.Set(key(i), fmt.Appendf(nil, "g%d", gen))
					}
				}
				return nil
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				err := kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
					res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("b")), kv.FirstGreaterOrEqual([]byte("c")), 0)
					if err != nil {
						return err
					}
					if n := len(res.KVs); n != 0 && n != block {
						return fmt.Errorf("range read saw %d of %d keys", n, block)
					}
					var first string
					for i := range block {
						v, ok, err := tx.Get(ctx, key(i))
						if err != nil {
							return err
						}
						if ok != (len(res.KVs) == block) {
							return fmt.Errorf("b%02d found=%v, but the range read in the same snapshot had %d keys", i, ok, len(res.KVs))
						}
						if i == 0 {
							first = string(v)
						} else if string(v) != first {
							return fmt.Errorf("b%02d = %q, b00 = %q in one snapshot", i, v, first)
						}
						if ok && string(res.KVs[i].Value) != string(v) {
							return fmt.Errorf("b%02d: Get %q, range read %q", i, v, res.KVs[i].Value)
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
