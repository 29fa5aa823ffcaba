package kv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/faultkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// fast keeps retries quick; the tests count, they do not time.
func fast() kv.Option {
	return kv.WithRetryOptions(kv.RetryOptions{
		MaxRetries:     1000,
		InitialBackoff: time.Microsecond,
		MaxBackoff:     10 * time.Microsecond,
	})
}

// counter reads key as a little-endian uint64 (0 when missing).
func counter(tb testing.TB, db kv.Engine, key string) uint64 {
	tb.Helper()
	n, err := kv.ReadTransact(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) (uint64, error) {
		v, _, err := tx.Get(ctx, []byte(key))
		if len(v) != 8 {
			return 0, err
		}
		return binary.LittleEndian.Uint64(v), err
	})
	require.NoError(tb, err)
	return n
}

// increment is a read-modify-write: not idempotent.
func increment(key string) func(context.Context, kv.ReadWriteTxn) error {
	return func(ctx context.Context, tx kv.ReadWriteTxn) error {
		v, _, err := tx.Get(ctx, []byte(key))
		if err != nil {
			return err
		}
		var n uint64
		if len(v) == 8 {
			n = binary.LittleEndian.Uint64(v)
		}
		tx.Set([]byte(key), binary.LittleEndian.AppendUint64(nil, n+1))
		return nil
	}
}

func TestUpdateHidesFaultsBeforeCommit(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 0.5})
	const n = 300
	retries := 0
	for range n {
		require.NoError(t, kv.Update(ctx, db, increment("n"), fast(), kv.OnRetry(func(int, error) { retries++ })))
	}
	st := db.Stats()
	require.Greater(t, st.Injected, int64(n/4), "faults were injected")
	require.Zero(t, st.MaybeCommitted)
	require.Equal(t, int(st.Injected), retries, "each injected fault cost one retry")
	require.Equal(t, uint64(n), counter(t, db, "n"), "each closure applied exactly once")
}

func TestUpdateReturnsMaybeCommittedWithoutIdempotent(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1, MaybeCommittedShare: 1})
	calls := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		return increment("n")(ctx, tx)
	}, fast())
	require.Error(t, err)
	require.True(t, kv.MaybeCommitted(err), "%v", err)
	require.True(t, errors.Is(err, kv.ErrMaybeCommitted))
	require.Equal(t, 1, calls, "not retried")
	require.Equal(t, uint64(1), counter(t, db, "n"), "the commit did happen")
}

// Retrying a closure that is not idempotent after an unknown result applies
// it twice: the faults are real, which is why Idempotent is opt-in.
func TestMaybeCommittedRetryOfNonIdempotentClosureDoubleApplies(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 3, Rate: 0.5, MaybeCommittedShare: 1})
	const n = 200
	for range n {
		require.NoError(t, kv.Update(ctx, db, increment("n"), fast(), kv.Idempotent()))
	}
	maybe := db.Stats().MaybeCommitted
	require.Positive(t, maybe)
	require.Equal(t, uint64(n)+uint64(maybe), counter(t, db, "n"))
}

func TestUpdateIdempotentRetriesMaybeCommitted(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 5, Rate: 0.5, MaybeCommittedShare: 1})
	const n = 200
	retries := 0
	for i := range n {
		// "Set k=v unless it is v already": each request leaves its id once.
		err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			k := fmt.Appendf(nil, "req/%04d", i)
			v, found, err := tx.Get(ctx, k)
			if err != nil || (found && string(v) == "done") {
				return err
			}
			tx.Set(k, []byte("done"))
			tx.Atomic(kv.AtomicAdd, []byte("applied"), binary.LittleEndian.AppendUint64(nil, 1))
			return nil
		}, fast(), kv.Idempotent(), kv.OnRetry(func(_ int, err error) {
			require.True(t, kv.MaybeCommitted(err), "%v", err)
			retries++
		}))
		require.NoError(t, err)
	}
	st := db.Stats()
	require.Positive(t, st.MaybeCommitted)
	require.Equal(t, int(st.MaybeCommitted), retries)
	require.Equal(t, uint64(n), counter(t, db, "applied"), "every request applied exactly once")
}

var errSentinel = errors.New("closure says no")

func TestUpdateReturnsNonRetryableClosureErrorUnchanged(t *testing.T) {
	db := memkv.New(memkv.Options{})
	calls := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		tx.Set([]byte("a"), []byte("1"))
		return fmt.Errorf("op failed: %w", errSentinel)
	}, fast())
	require.ErrorIs(t, err, errSentinel)
	require.Equal(t, "op failed: closure says no", err.Error())
	require.Equal(t, 1, calls)
	require.Zero(t, counter(t, db, "a"), "nothing committed")

	// A non-retryable kv error from the commit ends the loop too.
	calls = 0
	err = kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		tx.Set([]byte{0xff}, []byte("1"))
		return nil
	}, fast())
	require.ErrorIs(t, err, kv.ErrInvalid)
	require.Equal(t, 1, calls)
}

// A retryable kv error returned by the closure itself is retried.
func TestUpdateRetriesRetryableClosureError(t *testing.T) {
	db := memkv.New(memkv.Options{})
	calls := 0
	require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		if calls < 3 {
			return kv.Errorf(kv.CodeThrottled, "slow down")
		}
		return nil
	}, fast()))
	require.Equal(t, 3, calls)
}

func TestUpdateRetryLimit(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1})
	var attempts []int
	calls := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		return increment("n")(ctx, tx)
	}, fast(), kv.MaxRetries(3), kv.OnRetry(func(attempt int, err error) {
		require.True(t, kv.Retryable(err))
		attempts = append(attempts, attempt)
	}))
	require.Error(t, err)
	require.True(t, kv.Retryable(err), "the last error is kept: %v", err)
	require.Contains(t, err.Error(), "gave up after 4 attempts")
	require.Equal(t, 4, calls)
	require.Equal(t, []int{1, 2, 3}, attempts)
	require.Zero(t, counter(t, db, "n"))
}

func TestUpdateTimeout(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1})
	err := kv.Update(ctx, db, increment("n"), kv.MaxRetries(-1), kv.Timeout(30*time.Millisecond))
	require.ErrorIs(t, err, kv.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, kv.Retryable(err))
}

func TestUpdateContextCancel(t *testing.T) {
	db := memkv.New(memkv.Options{})
	c, cancel := context.WithCancel(ctx)
	cancel()
	calls := 0
	err := kv.Update(c, db, func(context.Context, kv.ReadWriteTxn) error { calls++; return nil })
	require.ErrorIs(t, err, kv.ErrCancelled)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, calls)

	// Cancelled while backing off.
	c, cancel = context.WithCancel(ctx)
	db2 := faultkv.New(db, faultkv.Options{Seed: 1, Rate: 1})
	calls = 0
	err = kv.Update(c, db2, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		calls++
		return increment("n")(ctx, tx)
	}, kv.MaxRetries(-1), kv.OnRetry(func(attempt int, _ error) {
		if attempt == 2 {
			cancel()
		}
	}))
	require.ErrorIs(t, err, kv.ErrCancelled)
	require.Equal(t, 2, calls)
}

// The backoff doubles: within a fixed budget the number of attempts grows
// with the logarithm of the budget, not linearly. With a first pause of at
// least 0.5 ms (jitter takes at most half), doubling, 10 retries already
// sleep over 500 ms, far past the 200 ms budget, however fast or slow the
// machine is; a constant 1 ms backoff would make about 200 attempts.
func TestUpdateBackoffGrows(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1})
	attempts := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		attempts++
		return increment("n")(ctx, tx)
	}, kv.WithRetryOptions(kv.RetryOptions{
		MaxRetries:     -1,
		Timeout:        200 * time.Millisecond,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     time.Second,
	}))
	require.ErrorIs(t, err, kv.ErrTimeout)
	require.LessOrEqual(t, attempts, 10)
	require.GreaterOrEqual(t, attempts, 1)
}

// MaxBackoff caps the growth: with a cap equal to the first pause the
// same budget allows many more attempts than the doubling case could.
func TestUpdateBackoffIsCapped(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1})
	attempts := 0
	err := kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		attempts++
		return increment("n")(ctx, tx)
	}, kv.WithRetryOptions(kv.RetryOptions{
		MaxRetries:     20,
		Timeout:        5 * time.Second,
		InitialBackoff: 100 * time.Microsecond,
		MaxBackoff:     100 * time.Microsecond,
	}))
	// Doubling from 100 µs would sleep over 50 s for 20 retries and hit
	// the timeout; the cap keeps it near 2 ms, so the retry limit ends it.
	require.Contains(t, err.Error(), "gave up after 21 attempts")
	require.Equal(t, 21, attempts)
}

func TestViewRetriesAndReturnsTypedResult(t *testing.T) {
	db := memkv.New(memkv.Options{})
	require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.Set([]byte("a"), []byte("1"))
		return nil
	}))
	calls := 0
	v, err := kv.ReadTransact(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) (string, error) {
		calls++
		if calls == 1 {
			return "", kv.Errorf(kv.CodeTooOld, "injected")
		}
		b, _, err := tx.Get(ctx, []byte("a"))
		return string(b), err
	}, fast())
	require.NoError(t, err)
	require.Equal(t, "1", v)
	require.Equal(t, 2, calls)
}

// Concurrent increments through faults still count exactly.
func TestUpdateConcurrentWithFaults(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 9, Rate: 0.3})
	const workers, per = 4, 100
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if err := kv.Update(ctx, db, increment("n"), fast()); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Empty(t, slices.DeleteFunc(errs, func(err error) bool { return err == nil }))
	require.Equal(t, uint64(workers*per), counter(t, db, "n"))
}
