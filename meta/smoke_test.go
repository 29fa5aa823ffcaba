package meta_test

import (
	"context"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	s, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	c := meta.RootCred()
	d, err := s.Mkdir(ctx, c, 1, "a", 0o755)
	require.NoError(t, err)
	f, err := s.Create(ctx, c, d.Ino, "f", 0o644, true)
	require.NoError(t, err)
	_, err = s.Create(ctx, c, d.Ino, "f", 0o644, true)
	require.ErrorContains(t, err, "exists")
	require.NoError(t, s.Rename(ctx, c, d.Ino, "f", 1, "g", 0))
	a, err := s.Stat(ctx, c, "/g")
	require.NoError(t, err)
	require.Equal(t, f.Ino, a.Ino)
	r, err := s.Stat(ctx, c, "/")
	require.NoError(t, err)
	require.EqualValues(t, 3, r.Nlink)
	require.NoError(t, s.Rmdir(ctx, c, 1, "a"))
	require.NoError(t, s.Unlink(ctx, c, 1, "g"))
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
	_, err = s.MkdirAll(ctx, c, "/x/y/z", 0o755)
	require.NoError(t, err)
	require.NoError(t, s.RemoveAll(ctx, c, "/x"))
	rep, err = s.Check(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Problems)
	require.Equal(t, 1, rep.Inodes)
}
