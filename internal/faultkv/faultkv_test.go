package faultkv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/faultkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// Without faults the wrapper is a conformant engine.
func TestConformanceWithoutFaults(t *testing.T) {
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			return faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1})
		},
		Workers:       4,
		TxnsPerWorker: 500,
	})
}

// outcomes commits n one-key transactions and records what each returned.
func outcomes(tb testing.TB, db kv.Engine, n int) []string {
	tb.Helper()
	var out []string
	for i := range n {
		tx := db.NewReadWrite()
		tx.Set(fmt.Appendf(nil, "k%04d", i), []byte("v"))
		err := tx.Commit(ctx)
		switch {
		case err == nil:
			out = append(out, "ok")
		case kv.MaybeCommitted(err):
			out = append(out, "maybe")
		case errors.Is(err, kv.ErrConflict):
			out = append(out, "conflict")
		case errors.Is(err, kv.ErrUnavailable):
			out = append(out, "unavailable")
		default:
			tb.Fatalf("unexpected error %v", err)
		}
	}
	return out
}

func TestSameSeedSameFaults(t *testing.T) {
	opts := faultkv.Options{Seed: 42, Rate: 0.5, MaybeCommittedShare: 0.3}
	a := outcomes(t, faultkv.New(memkv.New(memkv.Options{}), opts), 200)
	b := outcomes(t, faultkv.New(memkv.New(memkv.Options{}), opts), 200)
	require.Equal(t, a, b)
	opts.Seed = 43
	c := outcomes(t, faultkv.New(memkv.New(memkv.Options{}), opts), 200)
	require.NotEqual(t, a, c)
}

func TestFaultKindsAndCounters(t *testing.T) {
	inner := memkv.New(memkv.Options{})
	db := faultkv.New(inner, faultkv.Options{Seed: 7, Rate: 0.5, MaybeCommittedShare: 0.5})
	const n = 1000
	got := outcomes(t, db, n)
	count := map[string]int64{}
	for _, o := range got {
		count[o]++
	}
	st := db.Stats()
	require.Equal(t, int64(n), st.Commits)
	require.Equal(t, count["conflict"], st.Conflicts)
	require.Equal(t, count["unavailable"], st.Unavailable)
	require.Equal(t, count["maybe"], st.MaybeCommitted)
	require.Equal(t, st.Conflicts+st.Unavailable+st.MaybeCommitted, st.Injected)
	// Half of 1,000 commits faulted, a quarter of each kind: far from zero.
	require.Greater(t, st.Conflicts+st.Unavailable, int64(150))
	require.Greater(t, st.MaybeCommitted, int64(150))

	// Exactly the "ok" and "maybe" commits were applied.
	ro := inner.NewReadOnly()
	defer ro.Cancel()
	for i, o := range got {
		_, found, err := ro.Get(ctx, fmt.Appendf(nil, "k%04d", i))
		require.NoError(t, err)
		require.Equal(t, o == "ok" || o == "maybe", found, "commit %d reported %s", i, o)
	}
}

func TestCommitWithoutWritesIsNotFaulted(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1})
	for range 50 {
		tx := db.NewReadWrite()
		_, _, err := tx.Get(ctx, []byte("a"))
		require.NoError(t, err)
		require.NoError(t, tx.Commit(ctx))
	}
	require.Zero(t, db.Stats().Commits)
}

func TestMaybeCommittedHidesTheVersion(t *testing.T) {
	db := faultkv.New(memkv.New(memkv.Options{}), faultkv.Options{Seed: 1, Rate: 1, MaybeCommittedShare: 1})
	tx := db.NewReadWrite()
	tx.Set([]byte("a"), []byte("1"))
	err := tx.Commit(ctx)
	require.True(t, kv.MaybeCommitted(err), "%v", err)
	require.True(t, kv.Retryable(err))
	require.Equal(t, int64(-1), tx.CommittedVersion())
	_, err = tx.Versionstamp()
	require.Error(t, err)
	tx.Reset()
	tx.Set([]byte("b"), []byte("1"))
	require.True(t, kv.MaybeCommitted(tx.Commit(ctx)))
}
