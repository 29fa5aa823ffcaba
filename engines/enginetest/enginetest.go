// Package enginetest is the conformance suite of the kv contract: one
// function that every engine runs in its tests, each rule of the contract a
// subtest named like a spec (TestConformance/ConflictPointReadThenWrite).
//
// The suite uses only the kv interfaces. Each subtest opens its own engine
// with Config.Open, which must hand out an empty key space: engines that
// share one database (FoundationDB, a KV server) give each call a fresh
// database or clear it first.
//
// The serializability checkers (CheckBank, CheckListAppend) are exported so
// that a test can show they catch a broken engine.
package enginetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

// Config describes the engine under test.
type Config struct {
	// Open returns an engine over an empty key space. It is called once per
	// subtest and should register its own cleanup (tb.Cleanup).
	Open func(tb testing.TB) kv.Engine
	// Advance moves the clock of every engine Open returned forward by d.
	// nil skips the MVCC window tests with a message.
	Advance func(d time.Duration)
	// Window is the engine's MVCC window (default kv's 5 s).
	Window time.Duration
	// Workers and TxnsPerWorker size the serializability workloads
	// (defaults 8 and 2,000).
	Workers, TxnsPerWorker int
}

// Run runs the suite over the engines open returns, without the MVCC window
// tests.
func Run(t *testing.T, open func(testing.TB) kv.Engine) {
	RunWith(t, Config{Open: open})
}

type test struct {
	name string
	fn   func(t *testing.T, c *Config)
}

// RunWith runs the suite with the given configuration.
func RunWith(t *testing.T, c Config) {
	if c.Open == nil {
		t.Fatal("enginetest: Config.Open is nil")
	}
	if c.Window <= 0 {
		c.Window = 5 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.TxnsPerWorker <= 0 {
		c.TxnsPerWorker = 2000
	}
	var all []test
	all = append(all, basicTests...)
	all = append(all, rangeTests...)
	all = append(all, conflictTests...)
	all = append(all, atomicTests...)
	all = append(all, stampTests...)
	all = append(all, windowTests...)
	all = append(all, limitTests...)
	all = append(all, lifecycleTests...)
	all = append(all, sliceTests...)
	all = append(all, serialTests...)
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, &c) })
	}
}

// Helpers. Keys and values are strings in the tests for legibility.

func b(s string) []byte { return []byte(s) }

var ctxBG = context.Background()

// fill commits key/value pairs in one transaction.
func fill(tb testing.TB, db kv.Engine, pairs ...string) int64 {
	tb.Helper()
	require.Zero(tb, len(pairs)%2, "fill takes key/value pairs")
	tx := db.NewReadWrite()
	for i := 0; i < len(pairs); i += 2 {
		tx.Set(b(pairs[i]), b(pairs[i+1]))
	}
	require.NoError(tb, tx.Commit(ctxBG))
	return tx.CommittedVersion()
}

// write commits one blind mutation function.
func write(tb testing.TB, db kv.Engine, fn func(tx kv.ReadWriteTxn)) {
	tb.Helper()
	tx := db.NewReadWrite()
	fn(tx)
	require.NoError(tb, tx.Commit(ctxBG))
}

// get reads key in tx and fails the test on error.
func get(tb testing.TB, tx kv.ReadOnlyTxn, key string) (string, bool) {
	tb.Helper()
	v, ok, err := tx.Get(ctxBG, b(key))
	require.NoError(tb, err, "Get(%q)", key)
	if !ok {
		require.Empty(tb, v, "Get(%q) returned a value with found == false", key)
	}
	return string(v), ok
}

// requireValue checks key's value in tx; want "" with found false means
// absent.
func requireValue(tb testing.TB, tx kv.ReadOnlyTxn, key, want string, wantFound bool) {
	tb.Helper()
	v, ok := get(tb, tx, key)
	require.Equal(tb, wantFound, ok, "Get(%q) found", key)
	require.Equal(tb, want, v, "Get(%q) value", key)
}

// requireStored checks key's committed value in a fresh transaction.
func requireStored(tb testing.TB, db kv.Engine, key, want string, wantFound bool) {
	tb.Helper()
	tx := db.NewReadOnly()
	defer tx.Cancel()
	requireValue(tb, tx, key, want, wantFound)
}

// dump returns every committed row as "k=v" strings.
func dump(tb testing.TB, db kv.Engine) []string {
	tb.Helper()
	tx := db.NewReadOnly()
	defer tx.Cancel()
	return rows(tb, rangeAll(tb, tx, b(""), b("\xff"), 0))
}

func rangeAll(tb testing.TB, tx kv.ReadOnlyTxn, begin, end []byte, limit int) kv.RangeResult {
	tb.Helper()
	r, err := tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(begin), kv.FirstGreaterOrEqual(end), limit)
	require.NoError(tb, err, "GetRange(%q, %q, %d)", begin, end, limit)
	return r
}

// rows renders a range result as "k=v" strings (never nil).
func rows(tb testing.TB, r kv.RangeResult) []string {
	tb.Helper()
	out := []string{}
	for _, kv := range r.KVs {
		out = append(out, string(kv.Key)+"="+string(kv.Value))
	}
	return out
}

// requireErr checks that err matches the sentinel and, when parts are
// given, that its message contains each of them.
func requireErr(tb testing.TB, err, sentinel error, parts ...string) {
	tb.Helper()
	require.Error(tb, err)
	require.True(tb, errors.Is(err, sentinel), "got error %v, want %v", err, sentinel)
	for _, p := range parts {
		require.True(tb, strings.Contains(err.Error(), p), "error %q does not mention %q", err, p)
	}
}

func requireConflict(tb testing.TB, err error) {
	tb.Helper()
	requireErr(tb, err, kv.ErrConflict)
	require.True(tb, kv.Retryable(err), "conflict %v not retryable", err)
	require.False(tb, kv.MaybeCommitted(err), "conflict %v reported as maybe committed", err)
}

// fastRetry keeps the retry loop of concurrent tests quick.
func fastRetry() kv.Option {
	return kv.WithRetryOptions(kv.RetryOptions{
		MaxRetries:     -1,
		InitialBackoff: 20 * time.Microsecond,
		MaxBackoff:     2 * time.Millisecond,
	})
}

func key(i int) string { return fmt.Sprintf("k%03d", i) }
