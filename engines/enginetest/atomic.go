package enginetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var atomicTests = []test{
	{"AtomicValues", testAtomicValues},
	{"AtomicsDoNotConflictWithEachOther", testAtomicsNoConflict},
	{"AtomicsConcurrentAddsAllCommitFirstTime", testAtomicsConcurrent},
	{"AtomicAddReadsNothing", testAtomicNoRead},
}

func le64(x uint64) string {
	var p [8]byte
	binary.LittleEndian.PutUint64(p[:], x)
	return string(p[:])
}

func testAtomicValues(t *testing.T, c *Config) {
	const missing = "<missing>"
	cases := []struct {
		name      string
		op        kv.AtomicOp
		old       string // missing: no value
		param     string
		want      string
		wantFound bool
	}{
		{"AddOverMissing", kv.AtomicAdd, missing, le64(5), le64(5), true},
		{"AddCarries", kv.AtomicAdd, le64(0xff), le64(1), le64(0x100), true},
		{"AddNegative", kv.AtomicAdd, le64(10), le64(^uint64(2)), le64(7), true}, // 10 + (-3)
		{"AddWraps", kv.AtomicAdd, le64(^uint64(0)), le64(1), le64(0), true},
		{"AddShortOldIsZeroExtended", kv.AtomicAdd, "\x01", le64(1), le64(2), true},
		{"AddLongOldIsTruncated", kv.AtomicAdd, "\xff\x01\x07", "\x01\x00", "\x00\x02", true},
		{"MaxOverMissingStoresParam", kv.AtomicMax, missing, "\x05\x00", "\x05\x00", true},
		{"MaxKeepsLarger", kv.AtomicMax, "\x00\x02", "\xff\x01", "\x00\x02", true},
		{"MaxTakesLarger", kv.AtomicMax, "\xff\x01", "\x00\x02", "\x00\x02", true},
		{"MaxIsUnsigned", kv.AtomicMax, le64(1), le64(^uint64(0)), le64(^uint64(0)), true},
		{"MaxShortOld", kv.AtomicMax, "\x09", "\x01\x00", "\x09\x00", true},
		{"MaxLongOldTruncated", kv.AtomicMax, "\x01\x00\x09", "\x02\x00", "\x02\x00", true},
		{"MinOverMissingStoresParam", kv.AtomicMin, missing, "\x05\x00", "\x05\x00", true},
		{"MinKeepsSmaller", kv.AtomicMin, "\xff\x01", "\x00\x02", "\xff\x01", true},
		{"MinTakesSmaller", kv.AtomicMin, "\x00\x02", "\xff\x01", "\xff\x01", true},
		{"MinShortOldIsZeroExtended", kv.AtomicMin, "\x01", "\x00\x01", "\x01\x00", true},
		{"MinLongOldTruncated", kv.AtomicMin, "\x07\x00\x09", "\x08\x00", "\x07\x00", true},
		{"MinOverEmptyValue", kv.AtomicMin, "", "\x05", "\x00", true},
		{"BitOr", kv.AtomicBitOr, "\x0c", "\x0a", "\x0e", true},
		{"BitXor", kv.AtomicBitXor, "\x0c", "\x0a", "\x06", true},
		{"BitAndOverStored", kv.AtomicBitAnd, "\x0c", "\x0a", "\x08", true},
		{"BitAndOverMissingStoresParam", kv.AtomicBitAnd, missing, "\x0a", "\x0a", true},
	}
	db := c.Open(t)
	for i, tc := range cases {
		k := fmt.Sprintf("%02d/%s", i, tc.name)
		if tc.old != missing {
			fill(t, db, k, tc.old)
		}
		// In the transaction (read-your-writes) and after commit.
		tx := db.NewReadWrite()
		tx.Atomic(tc.op, b(k), b(tc.param))
		v, ok, err := tx.Get(ctxBG, b(k))
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.wantFound, ok, tc.name)
		require.Equal(t, []byte(tc.want), v, "%s in the transaction", tc.name)
		require.NoError(t, tx.Commit(ctxBG))
		tx2 := db.NewReadOnly()
		v, ok, err = tx2.Get(ctxBG, b(k))
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.wantFound, ok, tc.name)
		require.Equal(t, []byte(tc.want), v, "%s after commit", tc.name)
		tx2.Cancel()
	}
}

// Transactions open at the same time, each adding to one key and setting
// Max/Min on others, commit one after another without conflicts.
func testAtomicsNoConflict(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "n", le64(100))
	const n = 20
	txs := make([]kv.ReadWriteTxn, n)
	for i := range txs {
		txs[i] = db.NewReadWrite()
		_, err := txs[i].ReadVersion(ctxBG)
		require.NoError(t, err)
		txs[i].Atomic(kv.AtomicAdd, b("n"), b(le64(uint64(i))))
		txs[i].Atomic(kv.AtomicMax, b("max"), b(le64(uint64(i*7%n))))
		txs[i].Atomic(kv.AtomicMin, b("min"), b(le64(uint64(i*7%n)+1)))
	}
	for i, tx := range txs {
		require.NoError(t, tx.Commit(ctxBG), "transaction %d", i)
	}
	requireStored(t, db, "n", le64(100+n*(n-1)/2), true)
	requireStored(t, db, "max", le64(n-1), true)
	requireStored(t, db, "min", le64(1), true)
}

func testAtomicsConcurrent(t *testing.T, c *Config) {
	db := c.Open(t)
	const workers, per = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	var mu sync.Mutex
	retries := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				err := kv.Update(ctxBG, db, func(_ context.Context, tx kv.ReadWriteTxn) error {
					tx.Atomic(kv.AtomicAdd, b("n"), b(le64(1)))
					tx.Atomic(kv.AtomicMax, b("max"), b(le64(uint64(w*per+i))))
					return nil
				}, fastRetry(), kv.OnRetry(func(int, error) {
					mu.Lock()
					retries++
					mu.Unlock()
				}))
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
		require.NoError(t, err)
	}
	require.Zero(t, retries, "atomics retried")
	requireStored(t, db, "n", le64(workers*per), true)
	requireStored(t, db, "max", le64(workers*per-1), true)
}

// An atomic is not a read: its value cannot be hidden by a concurrent
// write, and it does not make the transaction conflict.
func testAtomicNoRead(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "n", le64(1))
	tx := db.NewReadWrite()
	_, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	tx.Atomic(kv.AtomicAdd, b("n"), b(le64(1)))
	fill(t, db, "n", le64(10))
	require.NoError(t, tx.Commit(ctxBG))
	tx2 := db.NewReadOnly()
	defer tx2.Cancel()
	v, _, err := tx2.Get(ctxBG, b("n"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(b(le64(11)), v), "got %x, want the add applied over the newer value", v)
}
