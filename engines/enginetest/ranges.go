package enginetest

import (
	"fmt"
	"testing"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

var rangeTests = []test{
	{"RangeIsAscendingAndHalfOpen", testRangeBasic},
	{"RangeLimitAndMore", testRangeLimit},
	{"RangePagingOnMoreCoversExactlyTheData", testRangePaging},
	{"RangePagingOverPendingWrites", testRangePagingPending},
	{"SelectorsAsBegin", testSelectorsBegin},
	{"SelectorsAsEnd", testSelectorsEnd},
	{"RangeEmptyOrInvertedIsEmpty", testRangeEmpty},
}

func testRangeBasic(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "b", "2", "a", "1", "c", "3", "ca", "4", "d", "5")
	tx := db.NewReadOnly()
	defer tx.Cancel()
	r := rangeAll(t, tx, b("a"), b("d"), 0)
	require.Equal(t, []string{"a=1", "b=2", "c=3", "ca=4"}, rows(t, r))
	require.False(t, r.More)
	r = rangeAll(t, tx, b("b"), b("ca"), 0)
	require.Equal(t, []string{"b=2", "c=3"}, rows(t, r))
	r = rangeAll(t, tx, b(""), b("\xff"), 0)
	require.Equal(t, []string{"a=1", "b=2", "c=3", "ca=4", "d=5"}, rows(t, r))
}

func testRangeLimit(t *testing.T, c *Config) {
	db := c.Open(t)
	fill(t, db, "a", "1", "b", "2", "c", "3")
	tx := db.NewReadOnly()
	defer tx.Cancel()
	all := []string{"a=1", "b=2", "c=3"}
	for _, limit := range []int{-1, 0, 1, 2, 3, 4, 100} {
		r := rangeAll(t, tx, b(""), b("\xff"), limit)
		want := all
		if limit > 0 && limit < len(all) {
			want = all[:limit]
		}
		require.Equal(t, want, rows(t, r), "limit %d", limit)
		if limit > 0 && limit < len(all) {
			require.True(t, r.More, "limit %d: More", limit)
		} else {
			require.False(t, r.More, "limit %d: More", limit)
		}
	}
}

// page reads [begin, end) in pages of limit rows, continuing after the last
// key while More holds, and returns the union. Callers compare it with the
// data they know, so a More that is false too early shows as missing rows.
func page(tb testing.TB, tx kv.ReadOnlyTxn, begin, end []byte, limit int) []string {
	tb.Helper()
	out := []string{}
	sel := kv.FirstGreaterOrEqual(begin)
	for n := 0; ; n++ {
		require.Less(tb, n, 100_000, "paging does not end")
		r, err := tx.GetRange(ctxBG, sel, kv.FirstGreaterOrEqual(end), limit)
		require.NoError(tb, err)
		require.LessOrEqual(tb, len(r.KVs), limit)
		out = append(out, rows(tb, r)...)
		if !r.More {
			return out
		}
		require.NotEmpty(tb, r.KVs, "More with no rows gives the caller nowhere to continue")
		sel = kv.FirstGreaterThan(r.KVs[len(r.KVs)-1].Key)
	}
}

func testRangePaging(t *testing.T, c *Config) {
	db := c.Open(t)
	var want []string
	tx := db.NewReadWrite()
	for i := range 257 {
		k, v := fmt.Sprintf("p%04d", i), fmt.Sprint(i)
		tx.Set(b(k), b(v))
		want = append(want, k+"="+v)
	}
	tx.Set(b("o"), b("before"))
	tx.Set(b("q"), b("after"))
	require.NoError(t, tx.Commit(ctxBG))
	ro := db.NewReadOnly()
	defer ro.Cancel()
	for _, limit := range []int{1, 2, 7, 64, 256, 257, 258, 1000} {
		require.Equal(t, want, page(t, ro, b("p"), b("p\xff"), limit), "limit %d", limit)
	}
}

func testRangePagingPending(t *testing.T, c *Config) {
	db := c.Open(t)
	tx := db.NewReadWrite()
	for i := range 100 {
		tx.Set(b(fmt.Sprintf("p%04d", i)), b("s"))
	}
	require.NoError(t, tx.Commit(ctxBG))
	tx = db.NewReadWrite()
	defer tx.Cancel()
	// Clear most stored rows, keep a few, add new ones between them.
	tx.ClearRange(b("p0010"), b("p0090"))
	for i := 20; i < 30; i++ {
		tx.Set(b(fmt.Sprintf("p%04d", i)), b("n"))
	}
	for i := range 100 {
		if i%10 == 5 {
			tx.Set(b(fmt.Sprintf("p%04d+", i)), b("x"))
		}
	}
	tx.Clear(b("p0000"))
	want := rows(t, rangeAll(t, tx, b("p"), b("q"), 0))
	require.Len(t, want, 9+10+10+10) // p0001-9, p0090-99, p0020-29, ten p00x5+
	for _, limit := range []int{1, 3, 10, 48, 49, 50} {
		require.Equal(t, want, page(t, tx, b("p"), b("q"), limit), "limit %d", limit)
	}
}

// selectorCase is a range read over the fixed data a, c, e.
type selectorCase struct {
	name       string
	begin, end kv.KeySelector
	want       []string
}

func selectorData(tb testing.TB, db kv.Engine) { fill(tb, db, "a", "1", "c", "3", "e", "5") }

func runSelectorCases(t *testing.T, c *Config, cases []selectorCase) {
	db := c.Open(t)
	selectorData(t, db)
	for _, snap := range []bool{false, true} {
		tx := db.NewReadWrite()
		for _, sc := range cases {
			var r kv.RangeResult
			var err error
			if snap {
				r, err = tx.SnapshotGetRange(ctxBG, sc.begin, sc.end, 0)
			} else {
				r, err = tx.GetRange(ctxBG, sc.begin, sc.end, 0)
			}
			require.NoError(t, err, sc.name)
			require.Equal(t, sc.want, rows(t, r), "%s (snapshot=%v)", sc.name, snap)
		}
		tx.Cancel()
	}
}

func testSelectorsBegin(t *testing.T, c *Config) {
	end := kv.FirstGreaterOrEqual(b("\xff"))
	runSelectorCases(t, c, []selectorCase{
		{"FirstGreaterOrEqual(existing)", kv.FirstGreaterOrEqual(b("c")), end, []string{"c=3", "e=5"}},
		{"FirstGreaterOrEqual(missing)", kv.FirstGreaterOrEqual(b("b")), end, []string{"c=3", "e=5"}},
		{"FirstGreaterThan(existing)", kv.FirstGreaterThan(b("c")), end, []string{"e=5"}},
		{"FirstGreaterThan(missing)", kv.FirstGreaterThan(b("b")), end, []string{"c=3", "e=5"}},
		{"LastLessThan(existing)", kv.LastLessThan(b("c")), end, []string{"a=1", "c=3", "e=5"}},
		{"LastLessThan(missing)", kv.LastLessThan(b("d")), end, []string{"c=3", "e=5"}},
		{"LastLessThan(first)", kv.LastLessThan(b("a")), end, []string{"a=1", "c=3", "e=5"}},
		{"LastLessOrEqual(existing)", kv.LastLessOrEqual(b("c")), end, []string{"c=3", "e=5"}},
		{"LastLessOrEqual(missing)", kv.LastLessOrEqual(b("d")), end, []string{"c=3", "e=5"}},
		{"LastLessOrEqual(before all)", kv.LastLessOrEqual(b("0")), end, []string{"a=1", "c=3", "e=5"}},
		{"FirstGreaterThan(last)", kv.FirstGreaterThan(b("e")), end, []string{}},
	})
}

func testSelectorsEnd(t *testing.T, c *Config) {
	begin := kv.FirstGreaterOrEqual(b(""))
	runSelectorCases(t, c, []selectorCase{
		{"FirstGreaterOrEqual(existing)", begin, kv.FirstGreaterOrEqual(b("c")), []string{"a=1"}},
		{"FirstGreaterOrEqual(missing)", begin, kv.FirstGreaterOrEqual(b("d")), []string{"a=1", "c=3"}},
		{"FirstGreaterThan(existing)", begin, kv.FirstGreaterThan(b("c")), []string{"a=1", "c=3"}},
		{"FirstGreaterThan(missing)", begin, kv.FirstGreaterThan(b("b")), []string{"a=1"}},
		{"LastLessThan(existing)", begin, kv.LastLessThan(b("c")), []string{}},
		{"LastLessThan(missing)", begin, kv.LastLessThan(b("d")), []string{"a=1"}},
		{"LastLessThan(past all)", begin, kv.LastLessThan(b("\xff")), []string{"a=1", "c=3"}},
		{"LastLessOrEqual(existing)", begin, kv.LastLessOrEqual(b("c")), []string{"a=1"}},
		{"LastLessOrEqual(missing)", begin, kv.LastLessOrEqual(b("d")), []string{"a=1"}},
		{"LastLessOrEqual(last)", begin, kv.LastLessOrEqual(b("e")), []string{"a=1", "c=3"}},
		{"FirstGreaterOrEqual(end of keys)", begin, kv.FirstGreaterOrEqual(b("\xff")), []string{"a=1", "c=3", "e=5"}},
	})
}

func testRangeEmpty(t *testing.T, c *Config) {
	db := c.Open(t)
	selectorData(t, db)
	tx := db.NewReadOnly()
	defer tx.Cancel()
	for _, r := range [][2]string{{"c", "c"}, {"d", "b"}, {"\xff", "\xff"}, {"f", "z"}} {
		got := rangeAll(t, tx, b(r[0]), b(r[1]), 0)
		require.Empty(t, got.KVs, "range [%q, %q)", r[0], r[1])
		require.False(t, got.More, "range [%q, %q)", r[0], r[1])
	}
	got, err := tx.GetRange(ctxBG, kv.FirstGreaterThan(b("e")), kv.LastLessThan(b("c")), 0)
	require.NoError(t, err)
	require.Empty(t, got.KVs)
}
