package enginetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var windowTests = []test{
	{"TooOldReadFails", testTooOldRead},
	{"TooOldCommitWithReadConflictsFails", testTooOldCommit},
	{"StaleBlindWriteCommits", testStaleBlindWrite},
	{"OldVersionsReadableInsideWindow", testInsideWindow},
	{"FreshTxnAfterIdleIsNotTooOld", testAfterIdle},
}

func needClock(t *testing.T, c *Config) {
	t.Helper()
	if c.Advance == nil {
		t.Skip("MVCC window tests need Config.Advance to move the engine's clock")
	}
}

func testTooOldRead(t *testing.T, c *Config) {
	needClock(t, c)
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	requireValue(t, tx, "a", "1", true)
	c.Advance(c.Window + time.Second)
	_, _, err := tx.Get(ctxBG, b("a"))
	requireErr(t, err, kv.ErrTooOld)
	require.True(t, kv.Retryable(err))
	_, _, err = tx.SnapshotGet(ctxBG, b("a"))
	requireErr(t, err, kv.ErrTooOld)
	_, err = tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
	requireErr(t, err, kv.ErrTooOld)
	// Also through SetReadVersion.
	ro := db.NewReadOnly()
	defer ro.Cancel()
	rv, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	ro.SetReadVersion(rv)
	_, _, err = ro.Get(ctxBG, b("a"))
	requireErr(t, err, kv.ErrTooOld)
}

func testTooOldCommit(t *testing.T, c *Config) {
	needClock(t, c)
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	requireValue(t, tx, "a", "1", true)
	tx.Set(b("b"), b("2"))
	c.Advance(c.Window + time.Second)
	err := tx.Commit(ctxBG)
	requireErr(t, err, kv.ErrTooOld)
	require.True(t, kv.Retryable(err))
	require.False(t, kv.MaybeCommitted(err))
	requireStored(t, db, "b", "", false)
	// AddReadConflict counts as a read.
	tx2 := db.NewReadWrite()
	defer tx2.Cancel()
	_, err = tx2.ReadVersion(ctxBG)
	require.NoError(t, err)
	tx2.AddReadConflict(b("zz"))
	tx2.Set(b("c"), b("3"))
	c.Advance(c.Window + time.Second)
	requireErr(t, tx2.Commit(ctxBG), kv.ErrTooOld)
	requireStored(t, db, "c", "", false)
}

func testStaleBlindWrite(t *testing.T, c *Config) {
	needClock(t, c)
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	_, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	_, _, err = tx.SnapshotGet(ctxBG, b("a"))
	require.NoError(t, err)
	tx.Set(b("b"), b("2"))
	tx.Atomic(kv.AtomicAdd, b("n"), b("\x01"))
	c.Advance(c.Window + time.Second)
	require.NoError(t, tx.Commit(ctxBG), "a transaction without read conflicts cannot be too old")
	require.Equal(t, []string{"a=1", "b=2", "n=\x01"}, dump(t, db))
}

func testInsideWindow(t *testing.T, c *Config) {
	needClock(t, c)
	db := c.Open(t)
	v1 := fill(t, db, "a", "1", "gone", "x")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	requireValue(t, tx, "a", "1", true)
	fill(t, db, "a", "2")
	write(t, db, clearer("gone"))
	c.Advance(c.Window / 2)
	// Commits after the move let the engine prune what it may.
	for i := range 20 {
		fill(t, db, fmt.Sprintf("f%02d", i), "x")
	}
	requireValue(t, tx, "a", "1", true)
	requireValue(t, tx, "gone", "x", true)
	old := db.NewReadOnly()
	defer old.Cancel()
	old.SetReadVersion(v1)
	requireValue(t, old, "a", "1", true)
	// Inside the window a changed read is a conflict, not too old.
	tx.Set(b("out"), b("x"))
	requireConflict(t, tx.Commit(ctxBG))
}

func testAfterIdle(t *testing.T, c *Config) {
	needClock(t, c)
	db := c.Open(t)
	fill(t, db, "a", "1")
	c.Advance(3 * c.Window)
	// No commit since: a new transaction must still get a readable version.
	require.NoError(t, kv.Update(ctxBG, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		v, _, err := tx.Get(ctx, b("a"))
		tx.Set(b("b"), v)
		return err
	}, kv.MaxRetries(0)))
	requireStored(t, db, "b", "1", true)
}

var limitTests = []test{
	{"KeyTooLargeRejected", testKeyTooLarge},
	{"ValueTooLargeRejected", testValueTooLarge},
	{"TxnTooLargeRejected", testTxnTooLarge},
	{"ReservedKeysRejected", testReservedKeys},
	{"LimitsAreInclusive", testLimitsInclusive},
	{"FailedCommitStoresNothing", testFailedCommitStoresNothing},
}

// commitErr runs fn in a transaction that also sets "ok" and returns the
// commit error; a failed commit must leave nothing behind.
func commitErr(tb testing.TB, db kv.Engine, fn func(tx kv.ReadWriteTxn)) error {
	tb.Helper()
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Set(b("ok"), b("1"))
	fn(tx)
	err := tx.Commit(ctxBG)
	if err != nil {
		require.False(tb, kv.Retryable(err), "limit error %v is retryable", err)
		requireStored(tb, db, "ok", "", false)
	}
	return err
}

func testKeyTooLarge(t *testing.T, c *Config) {
	db := c.Open(t)
	big := bytes.Repeat([]byte("k"), kv.MaxKeySize+1)
	limit := fmt.Sprint(kv.MaxKeySize)
	for name, fn := range map[string]func(tx kv.ReadWriteTxn){
		"Set":                  func(tx kv.ReadWriteTxn) { tx.Set(big, b("v")) },
		"Clear":                func(tx kv.ReadWriteTxn) { tx.Clear(big) },
		"ClearRange":           func(tx kv.ReadWriteTxn) { tx.ClearRange(big, b("\xfe")) },
		"Atomic":               func(tx kv.ReadWriteTxn) { tx.Atomic(kv.AtomicAdd, big, b("\x01")) },
		"AddReadConflict":      func(tx kv.ReadWriteTxn) { tx.AddReadConflict(big) },
		"SetVersionstampedKey": func(tx kv.ReadWriteTxn) { _ = tx.SetVersionstampedKey(big, 0, b("v")) },
	} {
		t.Run(name, func(t *testing.T) {
			requireErr(t, commitErr(t, db, fn), kv.ErrKeyTooLarge, limit)
		})
	}
	tx := db.NewReadOnly()
	defer tx.Cancel()
	_, _, err := tx.Get(ctxBG, big)
	requireErr(t, err, kv.ErrKeyTooLarge, limit)
	require.Empty(t, dump(t, db))
}

func testValueTooLarge(t *testing.T, c *Config) {
	db := c.Open(t)
	big := bytes.Repeat([]byte("v"), kv.MaxValueSize+1)
	limit := fmt.Sprint(kv.MaxValueSize)
	for name, fn := range map[string]func(tx kv.ReadWriteTxn){
		"Set":                    func(tx kv.ReadWriteTxn) { tx.Set(b("k"), big) },
		"Atomic":                 func(tx kv.ReadWriteTxn) { tx.Atomic(kv.AtomicAdd, b("k"), big) },
		"SetVersionstampedValue": func(tx kv.ReadWriteTxn) { _ = tx.SetVersionstampedValue(b("k"), big, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			requireErr(t, commitErr(t, db, fn), kv.ErrValueTooLarge, limit)
		})
	}
	require.Empty(t, dump(t, db))
}

func testTxnTooLarge(t *testing.T, c *Config) {
	db := c.Open(t)
	val := bytes.Repeat([]byte("v"), kv.MaxValueSize)
	n := kv.MaxTxnSize/kv.MaxValueSize + 1
	err := commitErr(t, db, func(tx kv.ReadWriteTxn) {
		for i := range n {
			tx.Set(b(fmt.Sprintf("k%04d", i)), val)
		}
	})
	requireErr(t, err, kv.ErrTxnTooLarge, fmt.Sprint(kv.MaxTxnSize))
	require.Empty(t, dump(t, db))
}

func testReservedKeys(t *testing.T, c *Config) {
	db := c.Open(t)
	for name, fn := range map[string]func(tx kv.ReadWriteTxn){
		"Set":             func(tx kv.ReadWriteTxn) { tx.Set(b("\xff"), b("v")) },
		"SetSystemKey":    func(tx kv.ReadWriteTxn) { tx.Set(b("\xff/x"), b("v")) },
		"Clear":           func(tx kv.ReadWriteTxn) { tx.Clear(b("\xff\xff")) },
		"Atomic":          func(tx kv.ReadWriteTxn) { tx.Atomic(kv.AtomicAdd, b("\xff"), b("\x01")) },
		"ClearRangeBegin": func(tx kv.ReadWriteTxn) { tx.ClearRange(b("\xff"), b("\xff\x01")) },
		"ClearRangeEnd":   func(tx kv.ReadWriteTxn) { tx.ClearRange(b("a"), b("\xff\x00")) },
		"SetVersionstampedKey": func(tx kv.ReadWriteTxn) {
			_ = tx.SetVersionstampedKey(b("\xff"+placeholder), 1, b("v"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			requireErr(t, commitErr(t, db, fn), kv.ErrInvalid, "0xff")
		})
	}
	tx := db.NewReadOnly()
	defer tx.Cancel()
	_, _, err := tx.Get(ctxBG, b("\xff"))
	requireErr(t, err, kv.ErrInvalid)
	// 0xff itself is a valid range end.
	require.NoError(t, commitErr(t, db, func(tx kv.ReadWriteTxn) { tx.ClearRange(b("x"), b("\xff")) }))
	require.Equal(t, []string{"ok=1"}, dump(t, db))
}

func testLimitsInclusive(t *testing.T, c *Config) {
	db := c.Open(t)
	k := bytes.Repeat([]byte("k"), kv.MaxKeySize)
	v := bytes.Repeat([]byte("v"), kv.MaxValueSize)
	tx := db.NewReadWrite()
	tx.Set(k, v)
	require.NoError(t, tx.Commit(ctxBG))
	ro := db.NewReadOnly()
	defer ro.Cancel()
	got, ok, err := ro.Get(ctxBG, k)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, bytes.Equal(v, got))
}

func testFailedCommitStoresNothing(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "keep", "1")
	calls := 0
	err := kv.Update(ctxBG, db, func(_ context.Context, tx kv.ReadWriteTxn) error {
		calls++
		tx.Set(b("a"), b("1"))
		tx.ClearRange(b(""), b("\xff"))
		tx.Atomic(kv.AtomicAdd, b("n"), b("\x01"))
		tx.Set(b("big"), bytes.Repeat([]byte("v"), kv.MaxValueSize+1))
		tx.Set(b("z"), b("1"))
		return nil
	})
	requireErr(t, err, kv.ErrValueTooLarge)
	require.Equal(t, 1, calls, "a limit error is not retried")
	require.Equal(t, []string{"keep=1"}, dump(t, db))
}

var lifecycleTests = []test{
	{"UseAfterCommitFails", testUseAfterCommit},
	{"UseAfterCancelFails", testUseAfterCancel},
	{"ResetMakesTxnReusable", testReset},
	{"CommittedVersionIsMinusOneWithoutCommittedWrites", testCommittedVersion},
	{"CommitsAreVisibleToLaterReadVersions", testVisibility},
	{"ClosedEngineFails", testClosed},
}

func testUseAfterCommit(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	tx.Set(b("a"), b("1"))
	require.NoError(t, tx.Commit(ctxBG))
	v := tx.CommittedVersion()
	_, _, err := tx.Get(ctxBG, b("a"))
	require.Error(t, err, "Get after Commit")
	_, _, err = tx.SnapshotGet(ctxBG, b("a"))
	require.Error(t, err, "SnapshotGet after Commit")
	_, err = tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
	require.Error(t, err, "GetRange after Commit")
	_, err = tx.ReadVersion(ctxBG)
	require.Error(t, err, "ReadVersion after Commit")
	require.Error(t, tx.Commit(ctxBG), "second Commit")
	tx.Set(b("b"), b("2"))
	tx.Clear(b("a"))
	require.Error(t, tx.Commit(ctxBG), "Commit after a Set after Commit")
	require.Equal(t, v, tx.CommittedVersion(), "CommittedVersion stays")
	require.Equal(t, []string{"a=1"}, dump(t, db))
}

func testUseAfterCancel(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	tx.Set(b("b"), b("2"))
	requireValue(t, tx, "a", "1", true)
	tx.Cancel()
	_, _, err := tx.Get(ctxBG, b("a"))
	requireErr(t, err, kv.ErrCancelled)
	_, err = tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
	requireErr(t, err, kv.ErrCancelled)
	tx.Set(b("c"), b("3"))
	requireErr(t, tx.Commit(ctxBG), kv.ErrCancelled)
	require.Equal(t, int64(-1), tx.CommittedVersion())
	tx.Cancel() // twice is harmless
	ro := db.NewReadOnly()
	ro.Cancel()
	_, _, err = ro.Get(ctxBG, b("a"))
	requireErr(t, err, kv.ErrCancelled)
	require.Equal(t, []string{"a=1"}, dump(t, db))
}

func testReset(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	tx.Set(b("x"), b("1"))
	require.NoError(t, tx.Commit(ctxBG))
	tx.Reset()
	require.Equal(t, int64(-1), tx.CommittedVersion())
	requireValue(t, tx, "x", "1", true)
	// Reset drops pending writes and read conflicts and the read version.
	tx.Set(b("dropped"), b("1"))
	fill(t, db, "a", "2", "x", "2")
	tx.Reset()
	requireValue(t, tx, "a", "2", true)
	tx.Set(b("y"), b("1"))
	require.NoError(t, tx.Commit(ctxBG))
	require.Positive(t, tx.CommittedVersion())
	// After Cancel too.
	tx.Reset()
	tx.Cancel()
	tx.Reset()
	tx.Set(b("z"), b("1"))
	require.NoError(t, tx.Commit(ctxBG))
	ro := db.NewReadOnly()
	ro.Cancel()
	ro.Reset()
	requireValue(t, ro, "z", "1", true)
	ro.Cancel()
	require.Equal(t, []string{"a=2", "x=2", "y=1", "z=1"}, dump(t, db))
}

func testCommittedVersion(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	require.Equal(t, int64(-1), tx.CommittedVersion(), "new")
	tx.Set(b("a"), b("1"))
	require.Equal(t, int64(-1), tx.CommittedVersion(), "before commit")
	require.NoError(t, tx.Commit(ctxBG))
	v1 := tx.CommittedVersion()
	require.Positive(t, v1)
	ro := db.NewReadWrite()
	get(t, ro, "a")
	require.NoError(t, ro.Commit(ctxBG))
	require.Equal(t, int64(-1), ro.CommittedVersion(), "read-only commit")
	// A failed commit has no version either.
	r := db.NewReadWrite()
	get(t, r, "a")
	r.Set(b("b"), b("1"))
	fill(t, db, "a", "2")
	requireConflict(t, r.Commit(ctxBG))
	require.Equal(t, int64(-1), r.CommittedVersion(), "conflicted commit")
	v2 := fill(t, db, "c", "1")
	require.Greater(t, v2, v1)
}

func testVisibility(t *testing.T, c *Config) {
	db := c.Open(t)
	for i := range 10 {
		v := fill(t, db, "a", fmt.Sprint(i))
		tx := db.NewReadOnly()
		rv, err := tx.ReadVersion(ctxBG)
		require.NoError(t, err)
		require.GreaterOrEqual(t, rv, v, "read version below an acknowledged commit")
		requireValue(t, tx, "a", fmt.Sprint(i), true)
		tx.Cancel()
	}
}

func testClosed(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	requireValue(t, tx, "a", "1", true)
	tx.Set(b("b"), b("1"))
	require.NoError(t, db.Close())
	_, _, err := tx.Get(ctxBG, b("zz"))
	requireErr(t, err, kv.ErrClosed)
	requireErr(t, tx.Commit(ctxBG), kv.ErrClosed)
	tx2 := db.NewReadWrite()
	_, _, err = tx2.Get(ctxBG, b("a"))
	requireErr(t, err, kv.ErrClosed)
}

var sliceTests = []test{
	{"ArgumentSlicesMayBeReusedAfterTheCall", testArgSlices},
	{"ReturnedSlicesBelongToTheCaller", testReturnedSlices},
	{"ReadKeySliceMayBeReusedAfterTheRead", testReadKeyReuse},
}

func scribble(p []byte) {
	for i := range p {
		p[i] = '#'
	}
}

func testArgSlices(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	k, v := b("key"), b("value")
	tx.Set(k, v)
	scribble(k)
	scribble(v)
	k2, p := b("cnt"), b("\x01")
	tx.Atomic(kv.AtomicAdd, k2, p)
	scribble(k2)
	p[0] = 0x7f
	sk, sv := b("sk/"+placeholder), b("sv")
	require.NoError(t, tx.SetVersionstampedKey(sk, 3, sv))
	scribble(sk)
	scribble(sv)
	rb, re := b("r"), b("s")
	fill(t, db, "r1", "x", "s", "y")
	tx.ClearRange(rb, re)
	scribble(rb)
	scribble(re)
	requireValue(t, tx, "key", "value", true)
	requireValue(t, tx, "cnt", "\x01", true)
	require.NoError(t, tx.Commit(ctxBG))
	got := dump(t, db)
	require.Len(t, got, 4)
	require.Equal(t, []string{"cnt=\x01", "key=value", "s=y"}, got[:3])
	require.True(t, strings.HasPrefix(got[3], "sk/") && strings.HasSuffix(got[3], "=sv"), got[3])
}

func testReturnedSlices(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "stored", "b", "stored")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Set(b("p"), b("pending"))
	for _, k := range []string{"a", "p"} {
		v, _, err := tx.Get(ctxBG, b(k))
		require.NoError(t, err)
		scribble(v)
		v, _, err = tx.SnapshotGet(ctxBG, b(k))
		require.NoError(t, err)
		scribble(v)
	}
	r := rangeAll(t, tx, b(""), b("\xff"), 0)
	for _, row := range r.KVs {
		scribble(row.Key)
		scribble(row.Value)
	}
	ls, err := kv.GetMany(ctxBG, tx, false, b("b"), b("p"))
	require.NoError(t, err)
	for _, l := range ls {
		scribble(l.Value)
	}
	want := []string{"a=stored", "b=stored", "p=pending"}
	require.Equal(t, want, rows(t, rangeAll(t, tx, b(""), b("\xff"), 0)))
	require.NoError(t, tx.Commit(ctxBG))
	require.Equal(t, want, dump(t, db))
}

// The read conflict of a read must not alias the caller's key buffer.
func testReadKeyReuse(t *testing.T, c *Config) {
	for _, tc := range []struct {
		name      string
		read      func(t *testing.T, tx kv.ReadWriteTxn)
		interfere string
	}{
		{"Get", func(t *testing.T, tx kv.ReadWriteTxn) {
			k := b("a")
			_, _, err := tx.Get(ctxBG, k)
			require.NoError(t, err)
			k[0] = 'z'
		}, "a"},
		{"GetMany", func(t *testing.T, tx kv.ReadWriteTxn) {
			k := b("m")
			_, err := kv.GetMany(ctxBG, tx, false, k)
			require.NoError(t, err)
			k[0] = 'z'
		}, "m"},
		{"GetRange", func(t *testing.T, tx kv.ReadWriteTxn) {
			lo, hi := b("c"), b("d")
			_, err := tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(lo), kv.FirstGreaterOrEqual(hi), 0)
			require.NoError(t, err)
			scribble(lo)
			scribble(hi)
		}, "c5"},
		{"AddReadConflict", func(t *testing.T, tx kv.ReadWriteTxn) {
			_, err := tx.ReadVersion(ctxBG)
			require.NoError(t, err)
			k := b("e")
			tx.AddReadConflict(k)
			scribble(k)
		}, "e"},
		{"AddReadConflictRange", func(t *testing.T, tx kv.ReadWriteTxn) {
			_, err := tx.ReadVersion(ctxBG)
			require.NoError(t, err)
			lo, hi := b("f"), b("g")
			tx.AddReadConflictRange(lo, hi)
			scribble(lo)
			scribble(hi)
		}, "f5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := c.Open(t)
			fill(t, db, "a", "1", "m", "1")
			requireConflict(t, race(t, db, func(tx kv.ReadWriteTxn) { tc.read(t, tx) }, setter(tc.interfere, "new")))
		})
	}
}
