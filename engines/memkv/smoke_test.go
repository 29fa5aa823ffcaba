package memkv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.Set([]byte("a"), []byte("1"))
		tx.Set([]byte("b"), []byte("2"))
		tx.Set([]byte("c"), []byte("3"))
		return nil
	}))
	t1 := db.NewReadWrite()
	v, ok, err := t1.Get(ctx, []byte("a"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", string(v))
	t1.Set([]byte("z"), []byte("x"))
	t2 := db.NewReadWrite()
	t2.Set([]byte("a"), []byte("9"))
	require.NoError(t, t2.Commit(ctx))
	err = t1.Commit(ctx)
	require.True(t, errors.Is(err, kv.ErrConflict), "%v", err)
	t3 := db.NewReadWrite()
	t3.Clear([]byte("b"))
	t3.Atomic(kv.AtomicAdd, []byte("n"), []byte{1, 0, 0, 0, 0, 0, 0, 0})
	r, err := t3.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("")), kv.FirstGreaterOrEqual([]byte{0xff}), 0)
	require.NoError(t, err)
	require.Len(t, r.KVs, 3)
	require.Equal(t, "a", string(r.KVs[0].Key))
	require.Equal(t, "c", string(r.KVs[1].Key))
	require.Equal(t, "n", string(r.KVs[2].Key))
	r, err = t3.GetRange(ctx, kv.LastLessThan([]byte("c")), kv.FirstGreaterThan([]byte("c")), 0)
	require.NoError(t, err)
	require.Len(t, r.KVs, 2, "%v", r.KVs)
	require.NoError(t, t3.Commit(ctx))
}
