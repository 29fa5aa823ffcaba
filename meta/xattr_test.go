package meta_test

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestXattr_SetGetListRemove(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.b", []byte("2"), 0))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.a", []byte("1"), 0))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.empty", nil, 0))
	v, err := s.GetXattr(ctx, rootCred, f.Ino, "user.a")
	require.NoError(t, err)
	require.Equal(t, []byte("1"), v)
	v, err = s.GetXattr(ctx, rootCred, f.Ino, "user.empty")
	require.NoError(t, err)
	require.NotNil(t, v)
	require.Empty(t, v)
	ns, err := s.ListXattr(ctx, rootCred, f.Ino)
	require.NoError(t, err)
	require.Equal(t, []string{"user.a", "user.b", "user.empty"}, ns)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.a", []byte("one"), 0))
	v, err = s.GetXattr(ctx, rootCred, f.Ino, "user.a")
	require.NoError(t, err)
	require.Equal(t, []byte("one"), v)
	require.NoError(t, s.RemoveXattr(ctx, rootCred, f.Ino, "user.a"))
	_, err = s.GetXattr(ctx, rootCred, f.Ino, "user.a")
	requirePathErr(t, err, syscall.ENODATA)
	err = s.RemoveXattr(ctx, rootCred, f.Ino, "user.a")
	requirePathErr(t, err, syscall.ENODATA)
	ns, err = s.ListXattr(ctx, rootCred, f.Ino)
	require.NoError(t, err)
	require.Equal(t, []string{"user.b", "user.empty"}, ns)
}

func TestXattr_Flags(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	err := s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("v"), meta.XattrReplace)
	requirePathErr(t, err, syscall.ENODATA)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("v"), meta.XattrCreate))
	err = s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("w"), meta.XattrCreate)
	requirePathErr(t, err, syscall.EEXIST)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("w"), meta.XattrReplace))
	// Both flags: as on Linux, whichever check fails.
	err = s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("w"), meta.XattrCreate|meta.XattrReplace)
	requirePathErr(t, err, syscall.EEXIST)
	err = s.SetXattr(ctx, rootCred, f.Ino, "user.y", []byte("w"), meta.XattrCreate|meta.XattrReplace)
	requirePathErr(t, err, syscall.ENODATA)
	err = s.SetXattr(ctx, rootCred, f.Ino, "user.x", []byte("w"), 4)
	requirePathErr(t, err, syscall.EINVAL)
	v, err := s.GetXattr(ctx, rootCred, f.Ino, "user.x")
	require.NoError(t, err)
	require.Equal(t, []byte("w"), v)
}

func TestXattr_Limits(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	long := "user." + string(bytes.Repeat([]byte("n"), meta.MaxXattrNameLen-len("user.")))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, long, []byte("v"), 0))
	for _, name := range []string{"", long + "n"} {
		requirePathErr(t, s.SetXattr(ctx, rootCred, f.Ino, name, nil, 0), syscall.ERANGE)
		_, err := s.GetXattr(ctx, rootCred, f.Ino, name)
		requirePathErr(t, err, syscall.ERANGE)
		requirePathErr(t, s.RemoveXattr(ctx, rootCred, f.Ino, name), syscall.ERANGE)
	}
	big := bytes.Repeat([]byte("v"), meta.MaxXattrValueLen)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.big", big, 0))
	v, err := s.GetXattr(ctx, rootCred, f.Ino, "user.big")
	require.NoError(t, err)
	require.Equal(t, big, v)
	err = s.SetXattr(ctx, rootCred, f.Ino, "user.big", append(big, 'v'), 0)
	requirePathErr(t, err, syscall.E2BIG)
	_, err = s.GetXattr(ctx, rootCred, 424242, "user.x")
	requirePathErr(t, err, syscall.ENOENT)
	requirePathErr(t, s.SetXattr(ctx, rootCred, 424242, "user.x", nil, 0), syscall.ENOENT)
	_, err = s.ListXattr(ctx, rootCred, 424242)
	requirePathErr(t, err, syscall.ENOENT)
}

func TestXattr_Namespaces(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	for _, name := range []string{"foo", "user", "os2.x", "system.posix_acl_access", "system.posix_acl_default", "system.x"} {
		requirePathErr(t, s.SetXattr(ctx, rootCred, f.Ino, name, nil, 0), syscall.EOPNOTSUPP)
		_, err := s.GetXattr(ctx, rootCred, f.Ino, name)
		requirePathErr(t, err, syscall.EOPNOTSUPP)
		requirePathErr(t, s.RemoveXattr(ctx, rootCred, f.Ino, name), syscall.EOPNOTSUPP)
	}
	for _, name := range []string{"user.", "trusted.", "security."} {
		requirePathErr(t, s.SetXattr(ctx, rootCred, f.Ino, name, nil, 0), syscall.EINVAL)
	}
	for _, name := range []string{"user.a", "trusted.a", "security.selinux"} {
		require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, name, []byte(name), 0))
	}
	ns, err := s.ListXattr(ctx, rootCred, f.Ino)
	require.NoError(t, err)
	require.Equal(t, []string{"security.selinux", "trusted.a", "user.a"}, ns)
}

func TestXattr_Permissions(t *testing.T) {
	s := newStore(t)
	dir := home(t, s, alice)
	f := create(t, s, alice, dir, "f", 0o600)
	require.NoError(t, s.SetXattr(ctx, alice, f.Ino, "user.a", []byte("1"), 0))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "trusted.t", []byte("1"), 0))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "security.s", []byte("1"), 0))

	// user.*: read and write permission on the inode.
	_, err := s.GetXattr(ctx, bob, f.Ino, "user.a")
	requirePathErr(t, err, syscall.EACCES)
	requirePathErr(t, s.SetXattr(ctx, bob, f.Ino, "user.a", nil, 0), syscall.EACCES)
	requirePathErr(t, s.RemoveXattr(ctx, bob, f.Ino, "user.a"), syscall.EACCES)
	chmod(t, s, f.Ino, 0o644)
	v, err := s.GetXattr(ctx, bob, f.Ino, "user.a")
	require.NoError(t, err)
	require.Equal(t, []byte("1"), v)
	requirePathErr(t, s.SetXattr(ctx, bob, f.Ino, "user.a", nil, 0), syscall.EACCES)
	chmod(t, s, f.Ino, 0o646)
	require.NoError(t, s.SetXattr(ctx, bob, f.Ino, "user.b", []byte("2"), 0))

	// trusted.*: root only; hidden from others' lists.
	_, err = s.GetXattr(ctx, alice, f.Ino, "trusted.t")
	requirePathErr(t, err, syscall.ENODATA)
	requirePathErr(t, s.SetXattr(ctx, alice, f.Ino, "trusted.t", nil, 0), syscall.EPERM)
	requirePathErr(t, s.RemoveXattr(ctx, alice, f.Ino, "trusted.t"), syscall.EPERM)

	// security.*: anyone reads, only root writes.
	chmod(t, s, f.Ino, 0o600)
	v, err = s.GetXattr(ctx, bob, f.Ino, "security.s")
	require.NoError(t, err)
	require.Equal(t, []byte("1"), v)
	requirePathErr(t, s.SetXattr(ctx, alice, f.Ino, "security.s", nil, 0), syscall.EPERM)
	requirePathErr(t, s.RemoveXattr(ctx, alice, f.Ino, "security.s"), syscall.EPERM)

	// Listing needs no permission; trusted.* is root's.
	ns, err := s.ListXattr(ctx, bob, f.Ino)
	require.NoError(t, err)
	require.Equal(t, []string{"security.s", "user.a", "user.b"}, ns)
	ns, err = s.ListXattr(ctx, rootCred, f.Ino)
	require.NoError(t, err)
	require.Equal(t, []string{"security.s", "trusted.t", "user.a", "user.b"}, ns)
}

func TestXattr_UserOnlyOnFilesAndDirs(t *testing.T) {
	s := newStore(t)
	l := symlink(t, s, root, "l", "target")
	p, err := s.Mknod(ctx, rootCred, root, "p", syscall.S_IFIFO|0o666, 0)
	require.NoError(t, err)
	for _, ino := range []uint64{l.Ino, p.Ino} {
		requirePathErr(t, s.SetXattr(ctx, rootCred, ino, "user.a", nil, 0), syscall.EPERM)
		requirePathErr(t, s.RemoveXattr(ctx, rootCred, ino, "user.a"), syscall.EPERM)
		_, err := s.GetXattr(ctx, rootCred, ino, "user.a")
		requirePathErr(t, err, syscall.ENODATA)
		require.NoError(t, s.SetXattr(ctx, rootCred, ino, "trusted.a", []byte("x"), 0))
	}
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	require.NoError(t, s.SetXattr(ctx, rootCred, d.Ino, "user.a", []byte("x"), 0))
}

func TestXattr_StickyDirOwnerOnly(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "tmp", 0o777)
	chmod(t, s, d.Ino, 0o1777)
	requirePathErr(t, s.SetXattr(ctx, alice, d.Ino, "user.a", nil, 0), syscall.EPERM)
	require.NoError(t, s.SetXattr(ctx, rootCred, d.Ino, "user.a", nil, 0))
	v, err := s.GetXattr(ctx, alice, d.Ino, "user.a")
	require.NoError(t, err)
	require.Empty(t, v)
}

func TestXattr_SetAndRemoveBumpCtime(t *testing.T) {
	clk := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clk.Now})
	f := create(t, s, rootCred, root, "f", 0o644)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	for _, ino := range []uint64{f.Ino, d.Ino} {
		clk.Advance(time.Second)
		require.NoError(t, s.SetXattr(ctx, rootCred, ino, "user.a", nil, 0))
		require.True(t, clk.Now().Equal(getattr(t, s, ino).Ctime), "setxattr sets ctime")
		clk.Advance(time.Second)
		require.NoError(t, s.RemoveXattr(ctx, rootCred, ino, "user.a"))
		require.True(t, clk.Now().Equal(getattr(t, s, ino).Ctime), "removexattr sets ctime")
	}
}

func TestXattr_GoWithTheInode(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	f := create(t, s, rootCred, root, "f", 0o644)
	g := create(t, s, rootCred, root, "g", 0o644)
	o := create(t, s, rootCred, root, "o", 0o644)
	for _, ino := range []uint64{d.Ino, f.Ino, g.Ino, o.Ino} {
		require.NoError(t, s.SetXattr(ctx, rootCred, ino, "user.a", []byte("x"), 0))
	}
	require.NoError(t, s.Rmdir(ctx, rootCred, root, "d"))
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	require.NoError(t, s.Rename(ctx, rootCred, root, "o", root, "g", 0)) // g replaced
	h, err := s.Open(ctx, rootCred, o.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "g")) // o, open
	v, err := s.GetXattr(ctx, rootCred, o.Ino, "user.a")
	require.NoError(t, err, "xattrs stay while the unlinked inode is open")
	require.Equal(t, []byte("x"), v)
	require.NoError(t, s.Close(ctx, h))
	b, e := s.Layout().Root().Sub("x").Range()
	n := countKeys(t, s, b, e)
	require.Zero(t, n, "xattr records left after their inodes went")
	require.NoError(t, s.Shutdown(ctx))
}
