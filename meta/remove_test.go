package meta_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestUnlink_Directory_EISDIR(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	requirePathErr(t, s.Unlink(ctx, rootCred, root, "d"), syscall.EISDIR)
	require.Equal(t, d.Ino, lookup(t, s, root, "d").Ino)
}

// unlink(2) of "." or ".." is EISDIR on Linux.
func TestUnlink_DotNames_EISDIR(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	for _, n := range []string{".", ".."} {
		requirePathErr(t, s.Unlink(ctx, rootCred, d.Ino, n), syscall.EISDIR)
	}
}

func TestUnlink_Missing_ENOENT(t *testing.T) {
	s := newStore(t)
	requirePathErr(t, s.Unlink(ctx, rootCred, root, "missing"), syscall.ENOENT)
	requirePathErr(t, s.Unlink(ctx, rootCred, 424242, "x"), syscall.ENOENT)
	create(t, s, rootCred, root, "f", 0o644)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	requirePathErr(t, s.Unlink(ctx, rootCred, root, "f"), syscall.ENOENT)
}

func TestUnlink_UnderFile_ENOTDIR(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	requirePathErr(t, s.Unlink(ctx, rootCred, f.Ino, "x"), syscall.ENOTDIR)
}

func TestUnlink_LastLinkRemovesInode(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	_, err := s.Link(ctx, rootCred, f.Ino, root, "g")
	require.NoError(t, err)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	require.EqualValues(t, 1, getattr(t, s, f.Ino).Nlink)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "g"))
	requireGone(t, s, f.Ino)
	rep := requireClean(t, s)
	require.Equal(t, 1, rep.Inodes, "only the root is left")
	require.Zero(t, getattr(t, s, root).Entries)
}

func TestUnlink_WhileOpenStaysReadableUntilClose(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	h1, err := s.Open(ctx, rootCred, f.Ino, meta.ORdOnly)
	require.NoError(t, err)
	h2, err := s.Open(ctx, rootCred, f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))

	_, err = s.Lookup(ctx, rootCred, root, "f")
	requirePathErr(t, err, syscall.ENOENT)
	a := getattr(t, s, f.Ino)
	require.Zero(t, a.Nlink)
	requireClean(t, s) // a queued delete is no orphan
	_, err = s.Open(ctx, rootCred, f.Ino, meta.ORdOnly)
	requirePathErr(t, err, syscall.ENOENT)
	_, err = s.Link(ctx, rootCred, f.Ino, root, "back")
	requireLinkErr(t, err, syscall.ENOENT)

	require.NoError(t, s.Close(ctx, h1))
	getattr(t, s, f.Ino) // h2 still holds it
	require.NoError(t, s.Close(ctx, h2))
	requireGone(t, s, f.Ino)
	require.Equal(t, 1, requireClean(t, s).Inodes)
}

func TestUnlink_UpdatesParentTimesAndVictimCtime(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	f := create(t, s, rootCred, root, "f", 0o644)
	_, err := s.Link(ctx, rootCred, f.Ino, root, "g")
	require.NoError(t, err)
	clock.Advance(time.Minute)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "g"))
	require.Equal(t, clock.Now(), getattr(t, s, root).Mtime)
	require.Equal(t, clock.Now(), getattr(t, s, f.Ino).Ctime)
}

func TestUnlink_WithoutWritePermission_EACCES(t *testing.T) {
	s := newStore(t)
	ro := mkdir(t, s, rootCred, root, "ro", 0o755)
	create(t, s, rootCred, ro.Ino, "f", 0o666)
	requirePathErr(t, s.Unlink(ctx, alice, ro.Ino, "f"), syscall.EACCES)
	// The name is looked up before write permission is checked.
	requirePathErr(t, s.Unlink(ctx, alice, ro.Ino, "missing"), syscall.ENOENT)
	chmod(t, s, ro.Ino, 0o750)
	requirePathErr(t, s.Unlink(ctx, alice, ro.Ino, "missing"), syscall.EACCES)
}

func TestRmdir_File_ENOTDIR(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	requirePathErr(t, s.Rmdir(ctx, rootCred, root, "f"), syscall.ENOTDIR)
	lookup(t, s, root, "f")
}

func TestRmdir_NonEmpty_ENOTEMPTY(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	create(t, s, rootCred, d.Ino, "f", 0o644)
	requirePathErr(t, s.Rmdir(ctx, rootCred, root, "d"), syscall.ENOTEMPTY)
	e := mkdir(t, s, rootCred, root, "e", 0o755)
	mkdir(t, s, rootCred, e.Ino, "sub", 0o755)
	requirePathErr(t, s.Rmdir(ctx, rootCred, root, "e"), syscall.ENOTEMPTY)
}

func TestRmdir_Dot_EINVAL(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	requirePathErr(t, s.Rmdir(ctx, rootCred, d.Ino, "."), syscall.EINVAL)
	requirePathErr(t, s.Rmdir(ctx, rootCred, root, "."), syscall.EINVAL)
	// As Linux: ".." is never empty.
	requirePathErr(t, s.Rmdir(ctx, rootCred, d.Ino, ".."), syscall.ENOTEMPTY)
}

// The root cannot be named by an entry; removing it by path is EBUSY.
func TestRmdir_Root_EBUSY(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	for _, p := range []string{"/", "", "/.", "//"} {
		requirePathErr(t, s.RemoveAll(ctx, rootCred, p), syscall.EBUSY)
		_, _, err := s.ResolveParent(ctx, rootCred, p)
		requirePathErr(t, err, syscall.EBUSY)
	}
	require.Equal(t, []string{"f"}, names(t, s, root))
}

func TestRmdir_DropsParentNlinkByOne(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	e := mkdir(t, s, rootCred, d.Ino, "e", 0o755)
	mkdir(t, s, rootCred, d.Ino, "f", 0o755)
	require.EqualValues(t, 4, getattr(t, s, d.Ino).Nlink)
	require.NoError(t, s.Rmdir(ctx, rootCred, d.Ino, "e"))
	require.EqualValues(t, 3, getattr(t, s, d.Ino).Nlink)
	require.EqualValues(t, 1, getattr(t, s, d.Ino).Entries)
	requireGone(t, s, e.Ino)
	require.EqualValues(t, 3, getattr(t, s, root).Nlink)
}

func TestRmdir_Sticky_EPERM(t *testing.T) {
	s := newStore(t)
	tmp := mkdir(t, s, rootCred, root, "tmp", 0o1777)
	mkdir(t, s, alice, tmp.Ino, "a", 0o755)
	requirePathErr(t, s.Rmdir(ctx, bob, tmp.Ino, "a"), syscall.EPERM)
	require.NoError(t, s.Rmdir(ctx, alice, tmp.Ino, "a"))
}

// rmdir(2) of an open directory succeeds; the handle no longer names a
// live inode, and fsck must stay clean.
func TestRmdir_OpenDirectory(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	h, err := s.Open(ctx, rootCred, d.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.NoError(t, s.Rmdir(ctx, rootCred, root, "d"))
	requireClean(t, s)
	_, err = s.Mkdir(ctx, rootCred, d.Ino, "x", 0o755)
	requirePathErr(t, err, syscall.ENOENT)
	require.NoError(t, s.Close(ctx, h))
}

func TestRemoveAll_Tree(t *testing.T) {
	s := newStore(t)
	_, err := s.MkdirAll(ctx, rootCred, "/a/b/c", 0o755)
	require.NoError(t, err)
	b, err := s.Stat(ctx, rootCred, "/a/b")
	require.NoError(t, err)
	f := create(t, s, rootCred, b.Ino, "f", 0o644)
	_, err = s.Link(ctx, rootCred, f.Ino, root, "outside")
	require.NoError(t, err)
	_, err = s.Symlink(ctx, rootCred, b.Ino, "l", "/outside")
	require.NoError(t, err)
	for i := range 300 { // more than one ReadDir page
		create(t, s, rootCred, b.Ino, "n"+strconvI(i), 0o644)
	}
	require.NoError(t, s.RemoveAll(ctx, rootCred, "/a"))
	require.Equal(t, []string{"outside"}, names(t, s, root))
	require.EqualValues(t, 1, getattr(t, s, f.Ino).Nlink)
	require.EqualValues(t, 2, getattr(t, s, root).Nlink)
	require.Equal(t, 2, requireClean(t, s).Inodes)
}

func TestRemoveAll_MissingIsNoError(t *testing.T) {
	s := newStore(t)
	require.NoError(t, s.RemoveAll(ctx, rootCred, "/missing"))
	require.NoError(t, s.RemoveAll(ctx, rootCred, "/missing/deeper"))
}

func TestRemoveAll_Permission_EACCES(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	create(t, s, rootCred, d.Ino, "f", 0o644)
	requirePathErr(t, s.RemoveAll(ctx, alice, "/d"), syscall.EACCES)
	require.Equal(t, []string{"f"}, names(t, s, d.Ino))
}
