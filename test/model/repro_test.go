package model_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// Reproductions of meta bugs found by TestModel, minimised, kept as
// regression tests. Each states Linux's behaviour. All three were fixed in
// meta by commit 7c2c956. A new one that is reported but not yet fixed
// starts with t.Skip("bug: ...").

func newStore(t *testing.T) (context.Context, *meta.Store) {
	t.Helper()
	ctx := context.Background()
	s, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	t.Cleanup(func() {
		rep, err := s.Check(ctx)
		require.NoError(t, err)
		require.Empty(t, rep.Problems)
	})
	return ctx, s
}

// mkdir(2) on Linux keeps only the permission bits and the sticky bit of
// mode ("apart from the permission bits, the S_ISVTX mode bit is also
// honored"); setgid comes only from a setgid parent, setuid never.
func TestRepro_MkdirKeepsSetgidBit(t *testing.T) {
	ctx, s := newStore(t)
	c := meta.RootCred()
	a, err := s.Mkdir(ctx, c, inode.RootIno, "a", 0o2755)
	require.NoError(t, err)
	require.Equal(t, uint32(0o755), a.Mode, "mode %#o", a.Mode)
	b, err := s.Mkdir(ctx, c, inode.RootIno, "b", 0o4755)
	require.NoError(t, err)
	require.Equal(t, uint32(0o755), b.Mode, "mode %#o", b.Mode)
	d, err := s.Mkdir(ctx, c, inode.RootIno, "d", 0o1777)
	require.NoError(t, err)
	require.Equal(t, uint32(0o1777), d.Mode, "mode %#o", d.Mode)
}

// A trailing slash or "/." after a non-directory is ENOTDIR on Linux, in a
// path and in a symlink's target alike.
func TestRepro_StatTrailingSlashOnFile(t *testing.T) {
	ctx, s := newStore(t)
	c := meta.RootCred()
	_, err := s.Create(ctx, c, inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	for _, p := range []string{"/f/", "/f/."} {
		_, err = s.Stat(ctx, c, p)
		require.Equal(t, syscall.ENOTDIR, meta.Errno(err), "stat %q: %v", p, err)
		_, err = s.Lstat(ctx, c, p)
		require.Equal(t, syscall.ENOTDIR, meta.Errno(err), "lstat %q: %v", p, err)
	}
	_, err = s.Symlink(ctx, c, inode.RootIno, "l", "f/")
	require.NoError(t, err)
	_, err = s.Stat(ctx, c, "/l")
	require.Equal(t, syscall.ENOTDIR, meta.Errno(err), "stat /l -> f/: %v", err)
}

// rename(2) of a file onto a directory that is an ancestor of the file:
// Linux's do_renameat2 finds the target is lock_rename's trap (an ancestor
// of the source's parent) and fails with ENOTEMPTY before vfs_rename's
// may_delete would say EISDIR.
func TestRepro_RenameFileOntoItsAncestor(t *testing.T) {
	ctx, s := newStore(t)
	c := meta.RootCred()
	a, err := s.Mkdir(ctx, c, inode.RootIno, "a", 0o755)
	require.NoError(t, err)
	_, err = s.Create(ctx, c, a.Ino, "f", 0o644, true)
	require.NoError(t, err)
	err = s.Rename(ctx, c, a.Ino, "f", inode.RootIno, "a", 0)
	require.Equal(t, syscall.ENOTEMPTY, meta.Errno(err), "rename /a/f -> /a: %v", err)
}
