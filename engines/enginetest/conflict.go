package enginetest

import (
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var conflictTests = []test{
	{"ConflictPointReadThenWrite", testConflictPoint},
	{"ConflictOnReadOfMissingKey", testConflictMissing},
	{"NoConflictWhenReaderCommitsFirst", testNoConflictReaderFirst},
	{"NoConflictWhenWriteCommitsBeforeFirstRead", testNoConflictBeforeFirstRead},
	{"NoConflictForSnapshotReads", testNoConflictSnapshot},
	{"NoConflictForBlindWrites", testNoConflictBlind},
	{"NoConflictForDisjointKeys", testNoConflictDisjoint},
	{"NoConflictForReadOnlyTxn", testNoConflictReadOnly},
	{"NoConflictOnOwnWrites", testNoConflictOwnWrites},
	{"ConflictPhantomInsertIntoReadRange", testConflictPhantom},
	{"ConflictPhantomInsertIntoEmptyReadRange", testConflictPhantomEmpty},
	{"NoConflictForInsertOutsideReadRange", testNoConflictOutsideRange},
	{"ConflictDeleteThenRecreate", testConflictDeleteRecreate},
	{"ConflictCreateThenDeleteOfMissingKey", testConflictCreateDelete},
	{"ConflictRereadCannotHideChange", testConflictReread},
	{"ConflictLimitedRangeOnlyOnReturnedSpan", testConflictLimitedRange},
	{"ConflictOnSelectorResolution", testConflictSelector},
	{"ConflictAddReadConflictWithoutRead", testConflictAddReadConflict},
	{"ConflictAddReadConflictRangeWithoutRead", testConflictAddReadConflictRange},
	{"ConflictOnAtomicWrite", testConflictAtomic},
	{"ConflictOnClearRange", testConflictClearRange},
	{"ConflictOnVersionstampedKeyInReadRange", testConflictStampedKey},
}

// race runs read in a new transaction, then commits interfere in others,
// then writes "out" in the first and commits it. It returns the first
// transaction's commit error and checks that a failed commit stored nothing.
func race(tb testing.TB, db kv.Engine, read func(tx kv.ReadWriteTxn), interfere ...func(tx kv.ReadWriteTxn)) error {
	tb.Helper()
	tx := db.NewReadWrite()
	defer tx.Cancel()
	read(tx)
	for _, f := range interfere {
		write(tb, db, f)
	}
	tx.Set(b("out"), b("x"))
	err := tx.Commit(ctxBG)
	if err != nil {
		requireStored(tb, db, "out", "", false)
	} else {
		requireStored(tb, db, "out", "x", true)
		write(tb, db, func(tx kv.ReadWriteTxn) { tx.Clear(b("out")) })
	}
	return err
}

func setter(k, v string) func(kv.ReadWriteTxn) {
	return func(tx kv.ReadWriteTxn) { tx.Set(b(k), b(v)) }
}

func clearer(k string) func(kv.ReadWriteTxn) {
	return func(tx kv.ReadWriteTxn) { tx.Clear(b(k)) }
}

func reader(tb testing.TB, keys ...string) func(kv.ReadWriteTxn) {
	return func(tx kv.ReadWriteTxn) {
		for _, k := range keys {
			get(tb, tx, k)
		}
	}
}

func ranger(tb testing.TB, begin, end string, limit int) func(kv.ReadWriteTxn) {
	return func(tx kv.ReadWriteTxn) { rangeAll(tb, tx, b(begin), b(end), limit) }
}

func testConflictPoint(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	requireConflict(t, race(t, db, reader(t, "a"), setter("a", "2")))
}

func testConflictMissing(t *testing.T, c *Config) {
	db := c.Open(t)
	requireConflict(t, race(t, db, reader(t, "a"), setter("a", "1")))
}

// The same pair of transactions in the other commit order: the reader
// serializes before the writer.
func testNoConflictReaderFirst(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	r := db.NewReadWrite()
	requireValue(t, r, "a", "1", true)
	w := db.NewReadWrite()
	w.Set(b("a"), b("2"))
	r.Set(b("out"), b("x"))
	require.NoError(t, r.Commit(ctxBG))
	require.NoError(t, w.Commit(ctxBG))
	require.Equal(t, []string{"a=2", "out=x"}, dump(t, db))
}

func testNoConflictBeforeFirstRead(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	fill(t, db, "a", "2") // before tx's first read, so below its read version
	requireValue(t, tx, "a", "2", true)
	tx.Set(b("out"), b("x"))
	require.NoError(t, tx.Commit(ctxBG))
}

func testNoConflictSnapshot(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "m", "1")
	err := race(t, db, func(tx kv.ReadWriteTxn) {
		_, _, err := tx.SnapshotGet(ctxBG, b("a"))
		require.NoError(t, err)
		_, err = tx.SnapshotGetRange(ctxBG, kv.FirstGreaterOrEqual(b("b")), kv.FirstGreaterOrEqual(b("z")), 0)
		require.NoError(t, err)
		_, err = kv.GetMany(ctxBG, tx, true, b("s"))
		require.NoError(t, err)
	}, setter("a", "2"), setter("c", "new"), clearer("m"), setter("s", "x"))
	require.NoError(t, err)
}

func testNoConflictBlind(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "0")
	t1, t2 := db.NewReadWrite(), db.NewReadWrite()
	t1.Set(b("a"), b("1"))
	t1.Atomic(kv.AtomicAdd, b("n"), b("\x01"))
	t2.Set(b("a"), b("2"))
	t2.Clear(b("n"))
	require.NoError(t, t2.Commit(ctxBG))
	require.NoError(t, t1.Commit(ctxBG))
	require.Equal(t, []string{"a=1", "n=\x01"}, dump(t, db), "the later commit wins")
}

func testNoConflictDisjoint(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "1", "m", "1")
	err := race(t, db, func(tx kv.ReadWriteTxn) {
		get(t, tx, "a")
		rangeAll(t, tx, b("m"), b("n"), 0)
	},
		setter("b", "2"), setter("a\x00", "2"), setter("l", "2"),
		setter("n", "2"), // the end of a range is outside it
		clearer("b"))
	require.NoError(t, err)
}

func testNoConflictReadOnly(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	get(t, tx, "a")
	rangeAll(t, tx, b(""), b("\xff"), 0)
	fill(t, db, "a", "2", "b", "2")
	require.NoError(t, tx.Commit(ctxBG), "a transaction that writes nothing cannot conflict")
	require.Equal(t, int64(-1), tx.CommittedVersion())
	ro := db.NewReadOnly()
	get(t, ro, "a")
	fill(t, db, "a", "3")
	requireValue(t, ro, "a", "2", true)
	ro.Cancel()
}

func testNoConflictOwnWrites(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	require.NoError(t, race(t, db, func(tx kv.ReadWriteTxn) {
		get(t, tx, "a")
		tx.Set(b("a"), b("2"))
		get(t, tx, "a")
	}))
	requireStored(t, db, "a", "2", true)
}

func testConflictPhantom(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "c", "1")
	requireConflict(t, race(t, db, ranger(t, "a", "z", 0), setter("b", "new")))
}

func testConflictPhantomEmpty(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "z", "1")
	requireConflict(t, race(t, db, ranger(t, "m", "n", 0), setter("m5", "new")))
}

func testNoConflictOutsideRange(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "b", "1", "c", "1")
	require.NoError(t, race(t, db, ranger(t, "b", "d", 0),
		setter("a", "new"), setter("d", "new"), setter("e", "new")))
}

func testConflictDeleteRecreate(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "r", "1")
	requireConflict(t, race(t, db, reader(t, "a"), clearer("a"), setter("a", "1")))
	requireConflict(t, race(t, db, ranger(t, "r", "s", 0), clearer("r"), setter("r", "1")))
}

func testConflictCreateDelete(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "z", "1")
	// The key is missing before and after, but a version of it was
	// written in between: conservatively a conflict, as in FoundationDB.
	requireConflict(t, race(t, db, reader(t, "a"), setter("a", "1"), clearer("a")))
}

func testConflictReread(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	requireConflict(t, race(t, db, func(tx kv.ReadWriteTxn) {
		requireValue(t, tx, "a", "1", true)
		write(t, db, setter("a", "2"))
		write(t, db, setter("a", "1"))
		requireValue(t, tx, "a", "1", true)
	}))
}

func testConflictLimitedRange(t *testing.T, c *Config) {
	fresh := func() kv.Engine {
		db := c.Open(t)
		fill(t, db, "a", "1", "b", "1", "c", "1", "d", "1", "e", "1")
		return db
	}
	read := func(tx kv.ReadWriteTxn) {
		r := rangeAll(t, tx, b("a"), b("z"), 3)
		require.Equal(t, []string{"a=1", "b=1", "c=1"}, rows(t, r))
		require.True(t, r.More)
	}
	// Past the last row returned: not covered.
	require.NoError(t, race(t, fresh(), read, setter("cc", "new")))
	require.NoError(t, race(t, fresh(), read, setter("d", "2")))
	require.NoError(t, race(t, fresh(), read, setter("c\x00", "new")))
	// Inside: covered, the last row included.
	requireConflict(t, race(t, fresh(), read, setter("bb", "new")))
	requireConflict(t, race(t, fresh(), read, setter("c", "2")))
	requireConflict(t, race(t, fresh(), read, clearer("a")))
}

// A selector's answer depends on the keys between its reference key and the
// key it resolved to, even when a limit stops the read early.
func testConflictSelector(t *testing.T, c *Config) {
	fresh := func(t *testing.T) kv.Engine {
		db := c.Open(t)
		fill(t, db, "a", "1", "c", "1", "m", "1", "z", "1")
		return db
	}
	t.Run("LimitedRead", func(t *testing.T) {
		// LastLessThan("m") resolves to "c"; inserting "d" would make it
		// "d", though the limit stopped the read at "c".
		requireConflict(t, race(t, fresh(t), func(tx kv.ReadWriteTxn) {
			r, err := tx.GetRange(ctxBG, kv.LastLessThan(b("m")), kv.FirstGreaterOrEqual(b("\xff")), 1)
			require.NoError(t, err)
			require.Equal(t, []string{"c=1"}, rows(t, r))
		}, setter("d", "new")))
	})
	t.Run("EmptyRead", func(t *testing.T) {
		// The begin resolves to "m", past the end "d", so the range is
		// empty; clearing "m" moves the begin to "c": [c, d) = {c}.
		requireConflict(t, race(t, fresh(t), func(tx kv.ReadWriteTxn) {
			r, err := tx.GetRange(ctxBG, kv.LastLessOrEqual(b("m")), kv.FirstGreaterOrEqual(b("d")), 0)
			require.NoError(t, err)
			require.Empty(t, r.KVs)
		}, clearer("m")))
	})
	t.Run("EndSelector", func(t *testing.T) {
		// LastLessThan("m") as the end resolves to "c": [a, c) = {a};
		// inserting "d" makes it [a, d) = {a, c}.
		requireConflict(t, race(t, fresh(t), func(tx kv.ReadWriteTxn) {
			r, err := tx.GetRange(ctxBG, kv.FirstGreaterOrEqual(b("a")), kv.LastLessThan(b("m")), 0)
			require.NoError(t, err)
			require.Equal(t, []string{"a=1"}, rows(t, r))
		}, setter("d", "new")))
	})
}

func testConflictAddReadConflict(t *testing.T, c *Config) {
	db := c.Open(t)
	withConflict := func(k string) func(kv.ReadWriteTxn) {
		return func(tx kv.ReadWriteTxn) {
			_, err := tx.ReadVersion(ctxBG)
			require.NoError(t, err)
			tx.AddReadConflict(b(k))
		}
	}
	requireConflict(t, race(t, db, withConflict("a"), setter("a", "1")))
	require.NoError(t, race(t, db, withConflict("a"), setter("b", "1"), setter("a\x00", "1")))
	require.NoError(t, race(t, db, withConflict("a")))
}

func testConflictAddReadConflictRange(t *testing.T, c *Config) {
	db := c.Open(t)
	withRange := func(tx kv.ReadWriteTxn) {
		_, err := tx.ReadVersion(ctxBG)
		require.NoError(t, err)
		tx.AddReadConflictRange(b("m"), b("n"))
	}
	requireConflict(t, race(t, db, withRange, setter("m5", "1")))
	requireConflict(t, race(t, db, withRange, setter("m", "1")))
	require.NoError(t, race(t, db, withRange, setter("n", "1"), setter("l", "1")))
}

func testConflictAtomic(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "n", "\x01")
	requireConflict(t, race(t, db, reader(t, "n"), func(tx kv.ReadWriteTxn) {
		tx.Atomic(kv.AtomicAdd, b("n"), b("\x01"))
	}))
}

func testConflictClearRange(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "1")
	requireConflict(t, race(t, db, reader(t, "b"), func(tx kv.ReadWriteTxn) {
		tx.ClearRange(b("a"), b("c"))
	}))
}

func testConflictStampedKey(t *testing.T, c *Config) {
	db := c.Open(t)
	requireConflict(t, race(t, db, ranger(t, "q/", "q0", 0), func(tx kv.ReadWriteTxn) {
		require.NoError(t, tx.SetVersionstampedKey(b("q/0123456789"), 2, b("v")))
	}))
}
