package enginetest

import (
	"fmt"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var basicTests = []test{
	{"GetMissingKeyIsNotFound", testGetMissing},
	{"SetIsVisibleToLaterTxns", testSetVisible},
	{"SetOverwrites", testSetOverwrites},
	{"ClearRemovesKey", testClear},
	{"ClearRangeIsHalfOpen", testClearRange},
	{"OneReadVersionPerTxn", testOneReadVersion},
	{"SetReadVersionReadsThePast", testSetReadVersion},
	{"ReadOnlyTxnReads", testReadOnlyTxn},
	{"ReadYourWritesPointReads", testRYWPoint},
	{"ReadYourWritesRangeReads", testRYWRange},
	{"ReadYourWritesAtomics", testRYWAtomics},
	{"ReadYourWritesMatchesModel", testRYWModel},
	{"GetManyMatchesGet", testGetMany},
}

func testGetMissing(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	requireValue(t, tx, "nope", "", false)
	requireValue(t, tx, "", "", false)
	tx.Cancel()
}

func testSetVisible(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2")
	requireStored(t, db, "a", "1", true)
	requireStored(t, db, "b", "2", true)
	// An empty value is a value.
	fill(t, db, "e", "")
	requireStored(t, db, "e", "", true)
	require.Equal(t, []string{"a=1", "b=2", "e="}, dump(t, db))
}

func testSetOverwrites(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	fill(t, db, "a", "2")
	requireStored(t, db, "a", "2", true)
	// The last write in a transaction wins.
	write(t, db, func(tx kv.ReadWriteTxn) {
		tx.Set(b("a"), b("3"))
		tx.Set(b("a"), b("4"))
	})
	requireStored(t, db, "a", "4", true)
}

func testClear(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2")
	write(t, db, func(tx kv.ReadWriteTxn) { tx.Clear(b("a")) })
	requireStored(t, db, "a", "", false)
	requireStored(t, db, "b", "2", true)
	// Clearing a missing key is a no-op, not an error.
	write(t, db, func(tx kv.ReadWriteTxn) { tx.Clear(b("zz")) })
	require.Equal(t, []string{"b=2"}, dump(t, db))
}

func testClearRange(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2", "ba", "3", "c", "4", "d", "5")
	write(t, db, func(tx kv.ReadWriteTxn) { tx.ClearRange(b("b"), b("c")) })
	require.Equal(t, []string{"a=1", "c=4", "d=5"}, dump(t, db))
	// An empty range clears nothing.
	write(t, db, func(tx kv.ReadWriteTxn) { tx.ClearRange(b("c"), b("c")) })
	require.Equal(t, []string{"a=1", "c=4", "d=5"}, dump(t, db))
	// Up to the end of the user key space.
	write(t, db, func(tx kv.ReadWriteTxn) { tx.ClearRange(b("c"), []byte{0xff}) })
	require.Equal(t, []string{"a=1"}, dump(t, db))
}

func testOneReadVersion(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	requireValue(t, tx, "a", "1", true)
	rv, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	fill(t, db, "a", "2", "b", "2")
	// Later reads of the same transaction stay at its read version.
	requireValue(t, tx, "a", "1", true)
	requireValue(t, tx, "b", "", false)
	require.Equal(t, []string{"a=1"}, rows(t, rangeAll(t, tx, b(""), b("\xff"), 0)))
	rv2, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	require.Equal(t, rv, rv2)
	// A transaction begun after the commit sees it.
	requireStored(t, db, "a", "2", true)
}

func testSetReadVersion(t *testing.T, c *Config) {
	db := c.Open(t)
	v1 := fill(t, db, "a", "1")
	v2 := fill(t, db, "a", "2")
	require.Greater(t, v2, v1)
	tx := db.NewReadOnly()
	defer tx.Cancel()
	tx.SetReadVersion(v1)
	rv, err := tx.ReadVersion(ctxBG)
	require.NoError(t, err)
	require.Equal(t, v1, rv)
	requireValue(t, tx, "a", "1", true)
	tx2 := db.NewReadOnly()
	defer tx2.Cancel()
	tx2.SetReadVersion(v2)
	requireValue(t, tx2, "a", "2", true)
	// A commit is visible at its own version and not below.
	tx3 := db.NewReadOnly()
	defer tx3.Cancel()
	tx3.SetReadVersion(v1 - 1)
	requireValue(t, tx3, "a", "", false)
}

func testReadOnlyTxn(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2")
	tx := db.NewReadOnly()
	defer tx.Cancel()
	requireValue(t, tx, "a", "1", true)
	v, ok, err := tx.SnapshotGet(ctxBG, b("b"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "2", string(v))
	r, err := tx.SnapshotGetRange(ctxBG, kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
	require.NoError(t, err)
	require.Equal(t, []string{"a=1", "b=2"}, rows(t, r))
}

func testRYWPoint(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2", "c", "3", "d", "4")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Set(b("a"), b("new"))
	tx.Set(b("n"), b("fresh"))
	tx.Clear(b("b"))
	tx.ClearRange(b("c"), b("d\x00"))
	tx.Set(b("cc"), b("inside"))
	for _, snap := range []bool{false, true} {
		read := func(k string) (string, bool) {
			var v []byte
			var ok bool
			var err error
			if snap {
				v, ok, err = tx.SnapshotGet(ctxBG, b(k))
			} else {
				v, ok, err = tx.Get(ctxBG, b(k))
			}
			require.NoError(t, err)
			return string(v), ok
		}
		for _, w := range []struct {
			k, v string
			ok   bool
		}{{"a", "new", true}, {"n", "fresh", true}, {"b", "", false}, {"c", "", false}, {"d", "", false}, {"cc", "inside", true}} {
			v, ok := read(w.k)
			require.Equal(t, w.ok, ok, "snapshot=%v Get(%q) found", snap, w.k)
			require.Equal(t, w.v, v, "snapshot=%v Get(%q)", snap, w.k)
		}
	}
	// Set after Clear and Clear after Set: the last one wins.
	tx.Clear(b("a"))
	requireValue(t, tx, "a", "", false)
	tx.Set(b("b"), b("back"))
	requireValue(t, tx, "b", "back", true)
	require.NoError(t, tx.Commit(ctxBG))
	require.Equal(t, []string{"b=back", "cc=inside", "n=fresh"}, dump(t, db))
}

func testRYWRange(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Set(b("a"), b("A"))
	tx.Set(b("bb"), b("BB"))
	tx.Clear(b("c"))
	tx.ClearRange(b("d"), b("f"))
	tx.Set(b("e"), b("E"))
	tx.Atomic(kv.AtomicAdd, b("f"), b("\x01")) // '6' + 1 = '7'
	tx.Atomic(kv.AtomicAdd, b("g"), b("\x30")) // over nothing: '0'
	want := []string{"a=A", "b=2", "bb=BB", "e=E", "f=7", "g=0"}
	r := rangeAll(t, tx, b(""), b("\xff"), 0)
	require.Equal(t, want, rows(t, r))
	require.False(t, r.More)
	r, err := tx.SnapshotGetRange(ctxBG, kv.FirstGreaterOrEqual(b("")), kv.FirstGreaterOrEqual(b("\xff")), 0)
	require.NoError(t, err)
	require.Equal(t, want, rows(t, r))
	// Limited reads merge too.
	for n := 1; n <= len(want)+1; n++ {
		r := rangeAll(t, tx, b(""), b("\xff"), n)
		require.Equal(t, want[:min(n, len(want))], rows(t, r), "limit %d", n)
		if n < len(want) {
			require.True(t, r.More, "limit %d: More", n)
		}
	}
	require.NoError(t, tx.Commit(ctxBG))
	require.Equal(t, want, dump(t, db))
}

func testRYWAtomics(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "stored", "\x05\x00")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Atomic(kv.AtomicAdd, b("stored"), b("\x01\x00"))
	tx.Atomic(kv.AtomicAdd, b("stored"), b("\x01\x00"))
	tx.Atomic(kv.AtomicAdd, b("unstored"), b("\x02\x00"))
	tx.Atomic(kv.AtomicMax, b("max"), b("\x03"))
	tx.Atomic(kv.AtomicMin, b("min"), b("\x04"))
	requireValue(t, tx, "stored", "\x07\x00", true)
	requireValue(t, tx, "unstored", "\x02\x00", true)
	requireValue(t, tx, "max", "\x03", true)
	requireValue(t, tx, "min", "\x04", true)
	// A Set after atomics replaces them; atomics after a Set apply to it.
	tx.Set(b("unstored"), b("\x10\x00"))
	tx.Atomic(kv.AtomicAdd, b("unstored"), b("\x01\x00"))
	requireValue(t, tx, "unstored", "\x11\x00", true)
	// Atomics after a Clear apply to nothing.
	tx.Clear(b("stored"))
	tx.Atomic(kv.AtomicAdd, b("stored"), b("\x09"))
	requireValue(t, tx, "stored", "\x09", true)
	require.NoError(t, tx.Commit(ctxBG))
	requireStored(t, db, "stored", "\x09", true)
	requireStored(t, db, "unstored", "\x11\x00", true)
	requireStored(t, db, "max", "\x03", true)
	requireStored(t, db, "min", "\x04", true)
}

func testGetMany(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2")
	tx := db.NewReadWrite()
	defer tx.Cancel()
	tx.Set(b("c"), b("3"))
	tx.Clear(b("a"))
	for _, snap := range []bool{false, true} {
		got, err := kv.GetMany(ctxBG, tx, snap, b("a"), b("b"), b("c"), b("d"))
		require.NoError(t, err)
		var gotS []string
		for _, l := range got {
			gotS = append(gotS, fmt.Sprintf("%v:%s", l.Found, l.Value))
		}
		require.Equal(t, []string{"false:", "true:2", "true:3", "false:"}, gotS, "snapshot=%v", snap)
	}
}
