// Package faults_test is the model-based property test of test/model run
// over internal/faultkv (issue 3, item 9): every commit with writes fails
// with a retryable error (nothing applied) at 20% and commits for real but
// reports kv.ErrMaybeCommitted at another 20%. meta retries every
// operation under kv.Update with Idempotent, so the errnos and the trees
// must still be exactly the model's after every step: no operation applied
// twice, none lost, no EEXIST or ENOENT from a retry tripping over its own
// earlier success.
//
// The tree and meta.Check are read through a second store on the inner
// engine, so verification sees no faults. Retries back off from 100µs
// instead of the default 10 ms: the backoff does not matter to the outcome
// here and would dominate the run time.
//
// Sizes: 300 sequences of about 100 steps by default (60 under -race);
// -rapid.checks and -rapid.steps override them. A failure prints the
// minimised sequence and how to replay it:
//
//	go test ./test/faults -run 'TestModelFaults$' -rapid.seed=<seed printed>
//
// (or -rapid.failfile=<file printed>). The fault seed is drawn by rapid, so
// the replay injects the same faults.
package faults_test

import (
	"context"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/internal/faultkv"
	"github.com/fsmeta/fsmeta/internal/testenv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/test/internal/fsmodel"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testenv.Race {
		testenv.RapidDefaults(60, 100)
	} else {
		testenv.RapidDefaults(300, 100)
	}
	os.Exit(m.Run())
}

func TestModelFaults(t *testing.T) {
	var mu sync.Mutex
	var total faultkv.Stats
	var retries int64
	tally := fsmodel.Tally{}
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		inner := memkv.New(memkv.Options{})
		fe := faultkv.New(inner, faultkv.Options{
			Seed:                rapid.Int64().Draw(rt, "fault-seed"),
			Rate:                0.4,
			MaybeCommittedShare: 0.5,
		})
		s, err := meta.Open(ctx, fe, meta.Options{Retry: kv.RetryOptions{
			InitialBackoff: 100 * time.Microsecond,
			MaxBackoff:     time.Millisecond,
		}})
		require.NoError(rt, err)
		v, err := meta.Open(ctx, inner, meta.Options{NoCreate: true})
		require.NoError(rt, err)
		h := fsmodel.NewHarness(ctx, s, v)
		defer func() { require.NoError(rt, s.Shutdown(ctx)) }()
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			st := fe.Stats()
			total.Commits += st.Commits
			total.Injected += st.Injected
			total.Conflicts += st.Conflicts
			total.Unavailable += st.Unavailable
			total.MaybeCommitted += st.MaybeCommitted
			retries += s.Retries()
			tally.Add(h)
		}()
		rt.Repeat(h.Actions())
	})
	t.Logf("faults: %+v; meta retries %d", total, retries)
	t.Logf("outcomes over all sequences (shrinking included):\n%v", tally)
	require.NotZero(t, total.MaybeCommitted, "no maybe-committed fault was injected")
	require.NotZero(t, total.Conflicts+total.Unavailable, "no retryable fault was injected")
}
