//go:build fdb

package fdbkv

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

// testPrefixTag starts every key the conformance run writes: 0xfe sorts
// after the usual data (tuple-encoded keys start far lower) and below the
// reserved 0xff.
const testPrefixTag = 0xfe

// clusterFile returns $FDB_CLUSTER_FILE or skips the test.
func clusterFile(t *testing.T) string {
	t.Helper()
	cf := os.Getenv("FDB_CLUSTER_FILE")
	if cf == "" {
		t.Skip("set FDB_CLUSTER_FILE to the cluster file of a FoundationDB cluster (7.3, API 730) " +
			"to run the conformance suite over fdbkv; each subtest writes only under its own random " +
			"prefix 0xfe+7 bytes and clears it afterwards")
	}
	return cf
}

// TestConformance runs the kv conformance suite over FoundationDB. Every
// subtest gets an engine confined to a fresh 8-byte prefix (0xfe + 7 random
// bytes; raw access lets a 10,000-byte user key still fit FoundationDB's
// limit), cleared when the subtest ends. The MVCC window tests skip: the
// cluster's clock cannot be moved.
func TestConformance(t *testing.T) {
	cf := clusterFile(t)
	// keeper holds the shared database handle for the whole run (subtests
	// close their engines, some early) and clears each prefix.
	keeper, err := OpenWith(Options{ClusterFile: cf, TransactionTimeout: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, keeper.Close()) })

	workers, txns := 8, 250
	if testing.Short() {
		workers, txns = 4, 50
	}
	enginetest.RunWith(t, enginetest.Config{
		Open: func(tb testing.TB) kv.Engine {
			prefix := make([]byte, 8)
			prefix[0] = testPrefixTag
			_, _ = rand.Read(prefix[1:])
			e, err := openWith(Options{ClusterFile: cf, TransactionTimeout: time.Minute}, space{prefix: prefix, rawAccess: true})
			require.NoError(tb, err)
			tb.Cleanup(func() {
				_ = e.Close()
				clearPrefix(tb, keeper, prefix)
			})
			return e
		},
		Workers:       workers,
		TxnsPerWorker: txns,
	})
}

// clearPrefix removes every key under prefix, through the unprefixed
// keeper engine.
func clearPrefix(tb testing.TB, keeper kv.Engine, prefix []byte) {
	tb.Helper()
	end, ok := strinc(prefix)
	require.True(tb, ok, "prefix %x has no end", prefix)
	err := kv.Update(context.Background(), keeper, func(_ context.Context, tx kv.ReadWriteTxn) error {
		tx.ClearRange(prefix, end)
		return nil
	})
	require.NoError(tb, err, "clear test prefix %x", prefix)
}

// The prefixed engine itself: nothing escapes the prefix, and a range read
// over the whole user key space sees only the subtest's rows.
func TestConformance_PrefixIsolation(t *testing.T) {
	cf := clusterFile(t)
	open := func(p string) *Engine {
		e, err := openWith(Options{ClusterFile: cf}, space{prefix: []byte(p), rawAccess: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	a, b := open("\xfe\x00"+string(tag[:])), open("\xfe\x01"+string(tag[:]))
	keeper, err := Open(cf)
	require.NoError(t, err)
	t.Cleanup(func() {
		clearPrefix(t, keeper, a.space.prefix)
		clearPrefix(t, keeper, b.space.prefix)
		_ = keeper.Close()
	})
	ctx := context.Background()
	for _, e := range []*Engine{a, b} {
		require.NoError(t, kv.Update(ctx, e, func(_ context.Context, tx kv.ReadWriteTxn) error {
			tx.Set([]byte("k"), e.space.prefix)
			return nil
		}))
	}
	for _, e := range []*Engine{a, b} {
		r, err := kv.ReadTransact(ctx, e, func(ctx context.Context, tx kv.ReadOnlyTxn) (kv.RangeResult, error) {
			return tx.GetRange(ctx, kv.LastLessThan([]byte("k")), kv.FirstGreaterThan([]byte("\xfe")), 0)
		})
		require.NoError(t, err)
		require.Len(t, r.KVs, 1)
		require.Equal(t, "k", string(r.KVs[0].Key))
		require.Equal(t, e.space.prefix, r.KVs[0].Value)
	}
}
