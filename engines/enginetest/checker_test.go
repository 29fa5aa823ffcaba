package enginetest_test

import (
	"context"
	"testing"

	"github.com/fsmeta/fsmeta/engines/enginetest"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

// noConflicts is a deliberately broken engine: every read is a snapshot
// read and AddReadConflict* does nothing, so conflict checking is off.
type noConflicts struct{ kv.Engine }

func (e noConflicts) NewReadWrite() kv.ReadWriteTxn { return blindTxn{e.Engine.NewReadWrite()} }

type blindTxn struct{ kv.ReadWriteTxn }

func (t blindTxn) Get(ctx context.Context, key []byte) ([]byte, bool, error) {
	return t.SnapshotGet(ctx, key)
}

func (t blindTxn) GetRange(ctx context.Context, begin, end kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.SnapshotGetRange(ctx, begin, end, limit)
}

func (blindTxn) AddReadConflict([]byte)              {}
func (blindTxn) AddReadConflictRange([]byte, []byte) {}

// snapshotIsolation turns memkv into a snapshot-isolation engine: reads do
// not conflict, writes conflict with concurrent writes of the same key
// (first committer wins). Lost updates are impossible, write skew is not.
type snapshotIsolation struct{ kv.Engine }

func (e snapshotIsolation) NewReadWrite() kv.ReadWriteTxn {
	return siTxn{blindTxn{e.Engine.NewReadWrite()}}
}

type siTxn struct{ blindTxn }

func (t siTxn) Set(k, v []byte) {
	t.ReadWriteTxn.AddReadConflict(k)
	t.ReadWriteTxn.Set(k, v)
}

// The checkers must report the anomalies of an engine without conflict
// checking. Lost updates there are near-certain; a few rounds make sure.
func TestCheckBankCatchesLostUpdates(t *testing.T) {
	for round := range 20 {
		db := noConflicts{memkv.New(memkv.Options{})}
		rep, err := enginetest.CheckBank(context.Background(), db, enginetest.Workload{Workers: 8, Txns: 500, Keys: 10, Seed: uint64(round)})
		require.NoError(t, err)
		if len(rep.Violations) > 0 {
			t.Logf("round %d: %d violations, first: %s", round, len(rep.Violations), rep.Violations[0])
			return
		}
	}
	t.Fatal("CheckBank found no violation on an engine without conflict checking")
}

func TestCheckListAppendCatchesLostUpdates(t *testing.T) {
	for round := range 20 {
		db := noConflicts{memkv.New(memkv.Options{})}
		rep, err := enginetest.CheckListAppend(context.Background(), db, enginetest.Workload{Workers: 8, Txns: 500, Keys: 10, Seed: uint64(round)})
		require.NoError(t, err)
		if len(rep.Violations) > 0 {
			t.Logf("round %d: %d violations, first: %s", round, len(rep.Violations), rep.Violations[0])
			return
		}
	}
	t.Fatal("CheckListAppend found no violation on an engine without conflict checking")
}

// Under snapshot isolation no append is lost, so only the dependency graph
// can show the anomaly: a cycle (write skew).
func TestCheckListAppendCatchesWriteSkew(t *testing.T) {
	for round := range 20 {
		db := snapshotIsolation{memkv.New(memkv.Options{})}
		rep, err := enginetest.CheckListAppend(context.Background(), db, enginetest.Workload{Workers: 8, Txns: 500, Keys: 10, Seed: uint64(round)})
		require.NoError(t, err)
		for _, v := range rep.Violations {
			require.Contains(t, v, "cycle", "snapshot isolation cannot lose an append")
		}
		if len(rep.Violations) > 0 {
			t.Logf("round %d: %d violations, first: %s", round, len(rep.Violations), rep.Violations[0])
			return
		}
	}
	t.Fatal("CheckListAppend found no cycle under snapshot isolation")
}

// The same workloads on memkv itself find nothing, so the checkers do not
// report everything.
func TestCheckersPassOnMemkv(t *testing.T) {
	w := enginetest.Workload{Workers: 8, Txns: 500, Keys: 10, Seed: 7}
	rep, err := enginetest.CheckBank(context.Background(), memkv.New(memkv.Options{}), w)
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	rep, err = enginetest.CheckListAppend(context.Background(), memkv.New(memkv.Options{}), w)
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	require.Positive(t, rep.Retries, "a contended workload should conflict sometimes")
}

func TestCheckListHistory(t *testing.T) {
	l := func(ids ...int) []int { return ids }
	for _, tc := range []struct {
		name  string
		txns  []enginetest.ListTxn
		final map[string][]int
		want  string // a substring of the first violation; "" for none
	}{
		{
			name: "SerialHistory",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Reads: map[string][]int{"x": l()}, Appends: []string{"x"}},
				{ID: 2, Process: 1, Reads: map[string][]int{"x": l(1), "y": l()}, Appends: []string{"y"}},
				{ID: 3, Process: 0, Reads: map[string][]int{"y": l(2)}},
			},
			final: map[string][]int{"x": l(1), "y": l(2)},
		},
		{
			// Each read the other's key empty and appended to its own.
			name: "WriteSkewIsACycle",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Reads: map[string][]int{"x": l(), "y": l()}, Appends: []string{"y"}},
				{ID: 2, Process: 1, Reads: map[string][]int{"y": l(), "x": l()}, Appends: []string{"x"}},
			},
			final: map[string][]int{"x": l(2), "y": l(1)},
			want:  "cycle of 2 transactions",
		},
		{
			// Each read empty the key the next appends to: a cycle of
			// anti-dependencies.
			name: "ThreeTransactionCycle",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Reads: map[string][]int{"z": l()}, Appends: []string{"x"}},
				{ID: 2, Process: 1, Reads: map[string][]int{"x": l()}, Appends: []string{"y"}},
				{ID: 3, Process: 2, Reads: map[string][]int{"y": l()}, Appends: []string{"z"}},
			},
			final: map[string][]int{"x": l(1), "y": l(2), "z": l(3)},
			want:  "cycle of 3 transactions",
		},
		{
			// Serializable as 2, 3, 1, but process 0 ran 1 before 2: the
			// cycle needs the process order edge.
			name: "ProcessOrderCounts",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Appends: []string{"x"}},
				{ID: 2, Process: 0, Reads: map[string][]int{"y": l()}},
				{ID: 3, Process: 1, Reads: map[string][]int{"x": l()}, Appends: []string{"y"}},
			},
			final: map[string][]int{"x": l(1), "y": l(3)},
			want:  "process 0 order",
		},
		{
			name: "LostAppend",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Reads: map[string][]int{"x": l()}, Appends: []string{"x"}},
				{ID: 2, Process: 1, Reads: map[string][]int{"x": l()}, Appends: []string{"x"}},
			},
			final: map[string][]int{"x": l(2)},
			want:  "lost append",
		},
		{
			name: "IncompatibleRead",
			txns: []enginetest.ListTxn{
				{ID: 1, Process: 0, Appends: []string{"x"}, Reads: map[string][]int{"x": l()}},
				{ID: 2, Process: 1, Appends: []string{"x"}, Reads: map[string][]int{"x": l(1)}},
				{ID: 3, Process: 2, Reads: map[string][]int{"x": l(2)}},
			},
			final: map[string][]int{"x": l(1, 2)},
			want:  "incompatible order",
		},
		{
			name:  "Garbage",
			txns:  []enginetest.ListTxn{{ID: 1, Process: 0, Appends: []string{"x"}}},
			final: map[string][]int{"x": l(1, 9)},
			want:  "garbage",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, v := enginetest.CheckListHistory(tc.txns, tc.final)
			if tc.want == "" {
				require.Empty(t, v)
				return
			}
			require.NotEmpty(t, v)
			require.Contains(t, v[0], tc.want, "violations: %v", v)
		})
	}
}
