package metatest

import (
	"strconv"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

var _ = register(
	testCase{name: "Link/Directory_EPERM", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		_, err := f.Link(ctx, rootCred, d.Ino, root, "d2")
		requireLinkErr(t, err, syscall.EPERM)
		_, err = f.Link(ctx, rootCred, root, d.Ino, "root")
		requireLinkErr(t, err, syscall.EPERM)
		require.EqualValues(t, 3, getattr(t, f, root).Nlink)
		_, err = f.Link(ctx, rootCred, 424242, root, "x")
		requireLinkErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Link/NlinkExactThroughLinkUnlinkAndRenameOver", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		fl := create(t, f, rootCred, root, "f", 0o644)
		nlink := func() uint32 { return getattr(t, f, fl.Ino).Nlink }
		a, err := f.Link(ctx, rootCred, fl.Ino, d.Ino, "l1")
		require.NoError(t, err)
		require.EqualValues(t, 2, a.Nlink)
		require.False(t, a.Ctime.Before(fl.Ctime), "link changes ctime")
		_, err = f.Link(ctx, rootCred, fl.Ino, root, "l2")
		require.NoError(t, err)
		require.EqualValues(t, 3, nlink())
		require.EqualValues(t, 3, getattr(t, f, root).Entries)
		require.NoError(t, f.Unlink(ctx, rootCred, root, "l2"))
		require.EqualValues(t, 2, nlink())
		rename(t, f, rootCred, root, "f", d.Ino, "l1", 0)
		require.EqualValues(t, 2, nlink(), "renaming one name of f over another is a no-op")
		create(t, f, rootCred, root, "other", 0o644)
		rename(t, f, rootCred, root, "other", d.Ino, "l1", 0)
		require.EqualValues(t, 1, nlink())
		create(t, f, rootCred, d.Ino, "third", 0o644)
		rename(t, f, rootCred, root, "f", d.Ino, "third", 0)
		require.EqualValues(t, 1, nlink())
		_, err = f.Link(ctx, rootCred, fl.Ino, root, "back")
		require.NoError(t, err)
		require.EqualValues(t, 2, nlink())
		require.NoError(t, f.Unlink(ctx, rootCred, d.Ino, "third"))
		require.NoError(t, f.Unlink(ctx, rootCred, root, "back"))
		requireGone(t, f, fl.Ino)
	}},
	testCase{name: "Link/OtherTypes", fn: func(t *testing.T, f meta.FS) {
		l := symlink(t, f, root, "l", "target")
		p, err := f.Mknod(ctx, rootCred, root, "p", syscall.S_IFIFO|0o644, 0)
		require.NoError(t, err)
		for _, ino := range []uint64{l.Ino, p.Ino} {
			a, err := f.Link(ctx, rootCred, ino, root, "link-"+strconv.FormatUint(ino, 10))
			require.NoError(t, err)
			require.EqualValues(t, 2, a.Nlink)
		}
	}},

	testCase{name: "Unlink/Errors", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		for _, n := range []string{".", ".."} {
			requirePathErr(t, f.Unlink(ctx, rootCred, d.Ino, n), syscall.EISDIR)
		}
		requirePathErr(t, f.Unlink(ctx, rootCred, root, "d"), syscall.EISDIR)
		requirePathErr(t, f.Unlink(ctx, rootCred, root, "missing"), syscall.ENOENT)
		requirePathErr(t, f.Unlink(ctx, rootCred, 424242, "x"), syscall.ENOENT)
		fl := create(t, f, rootCred, root, "f", 0o644)
		requirePathErr(t, f.Unlink(ctx, rootCred, fl.Ino, "x"), syscall.ENOTDIR)
		require.NoError(t, f.Unlink(ctx, rootCred, root, "f"))
		requirePathErr(t, f.Unlink(ctx, rootCred, root, "f"), syscall.ENOENT)
	}},
	testCase{name: "Unlink/LastLinkRemovesInode", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		_, err := f.Link(ctx, rootCred, fl.Ino, root, "g")
		require.NoError(t, err)
		require.NoError(t, f.Unlink(ctx, rootCred, root, "f"))
		require.EqualValues(t, 1, getattr(t, f, fl.Ino).Nlink)
		require.NoError(t, f.Unlink(ctx, rootCred, root, "g"))
		requireGone(t, f, fl.Ino)
		rep := RequireClean(t, f)
		require.Equal(t, 1, rep.Inodes, "only the root is left")
		require.Zero(t, getattr(t, f, root).Entries)
	}},
	testCase{name: "Unlink/WhileOpenStaysUntilClose", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h1, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.Equal(t, fl.Ino, h1.Ino)
		h2, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		require.NotEqual(t, h1.ID, h2.ID)
		require.NoError(t, f.Unlink(ctx, rootCred, root, "f"))
		_, err = f.Lookup(ctx, rootCred, root, "f")
		requirePathErr(t, err, syscall.ENOENT)
		require.Zero(t, getattr(t, f, fl.Ino).Nlink)
		RequireClean(t, f)
		_, err = f.Open(ctx, rootCred, fl.Ino, meta.ORdOnly)
		requirePathErr(t, err, syscall.ENOENT)
		_, err = f.Link(ctx, rootCred, fl.Ino, root, "back")
		requireLinkErr(t, err, syscall.ENOENT)
		require.NoError(t, f.Close(ctx, h1))
		getattr(t, f, fl.Ino) // h2 still holds it
		require.NoError(t, f.Close(ctx, h2))
		requireGone(t, f, fl.Ino)
		require.NoError(t, f.Close(ctx, h2), "closing a closed handle does nothing")
		require.Equal(t, 1, RequireClean(t, f).Inodes)
	}},
	testCase{name: "Unlink/WithoutWritePermission_EACCES", fn: func(t *testing.T, f meta.FS) {
		ro := mkdir(t, f, rootCred, root, "ro", 0o755)
		create(t, f, rootCred, ro.Ino, "f", 0o666)
		requirePathErr(t, f.Unlink(ctx, alice, ro.Ino, "f"), syscall.EACCES)
		requirePathErr(t, f.Unlink(ctx, alice, ro.Ino, "missing"), syscall.ENOENT)
		chmod(t, f, ro.Ino, 0o750)
		requirePathErr(t, f.Unlink(ctx, alice, ro.Ino, "missing"), syscall.EACCES)
	}},

	testCase{name: "Rmdir/Errors", fn: func(t *testing.T, f meta.FS) {
		create(t, f, rootCred, root, "f", 0o644)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, "f"), syscall.ENOTDIR)
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		create(t, f, rootCred, d.Ino, "f", 0o644)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, "d"), syscall.ENOTEMPTY)
		e := mkdir(t, f, rootCred, root, "e", 0o755)
		mkdir(t, f, rootCred, e.Ino, "sub", 0o755)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, "e"), syscall.ENOTEMPTY)
		requirePathErr(t, f.Rmdir(ctx, rootCred, d.Ino, "."), syscall.EINVAL)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, "."), syscall.EINVAL)
		requirePathErr(t, f.Rmdir(ctx, rootCred, d.Ino, ".."), syscall.ENOTEMPTY)
		requirePathErr(t, f.Rmdir(ctx, rootCred, root, "missing"), syscall.ENOENT)
		requirePathErr(t, f.Rmdir(ctx, rootCred, 424242, "x"), syscall.ENOENT)
	}},
	testCase{name: "Rmdir/Root_EBUSY", fn: func(t *testing.T, f meta.FS) {
		create(t, f, rootCred, root, "f", 0o644)
		for _, p := range []string{"/", "", "/.", "//"} {
			requirePathErr(t, f.RemoveAll(ctx, rootCred, p), syscall.EBUSY)
			_, _, err := f.ResolveParent(ctx, rootCred, p)
			requirePathErr(t, err, syscall.EBUSY)
		}
		require.Equal(t, []string{"f"}, names(t, f, root))
	}},
	testCase{name: "Rmdir/DropsParentNlinkByOne", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		e := mkdir(t, f, rootCred, d.Ino, "e", 0o755)
		mkdir(t, f, rootCred, d.Ino, "f", 0o755)
		require.EqualValues(t, 4, getattr(t, f, d.Ino).Nlink)
		require.NoError(t, f.Rmdir(ctx, rootCred, d.Ino, "e"))
		require.EqualValues(t, 3, getattr(t, f, d.Ino).Nlink)
		require.EqualValues(t, 1, getattr(t, f, d.Ino).Entries)
		requireGone(t, f, e.Ino)
		require.EqualValues(t, 3, getattr(t, f, root).Nlink)
	}},
	testCase{name: "Rmdir/Sticky_EPERM", fn: func(t *testing.T, f meta.FS) {
		tmp := mkdir(t, f, rootCred, root, "tmp", 0o1777)
		mkdir(t, f, alice, tmp.Ino, "a", 0o755)
		requirePathErr(t, f.Rmdir(ctx, bob, tmp.Ino, "a"), syscall.EPERM)
		require.NoError(t, f.Rmdir(ctx, alice, tmp.Ino, "a"))
	}},
	testCase{name: "Rmdir/OpenDirectory", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		h, err := f.Open(ctx, rootCred, d.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.NoError(t, f.Rmdir(ctx, rootCred, root, "d"))
		RequireClean(t, f)
		_, err = f.Mkdir(ctx, rootCred, d.Ino, "x", 0o755)
		requirePathErr(t, err, syscall.ENOENT)
		require.NoError(t, f.Close(ctx, h))
	}},
	testCase{name: "RemoveAll/Tree", fn: func(t *testing.T, f meta.FS) {
		_, err := f.MkdirAll(ctx, rootCred, "/a/b/c", 0o755)
		require.NoError(t, err)
		b := stat(t, f, "/a/b")
		fl := create(t, f, rootCred, b.Ino, "f", 0o644)
		_, err = f.Link(ctx, rootCred, fl.Ino, root, "outside")
		require.NoError(t, err)
		symlink(t, f, b.Ino, "l", "/outside")
		for i := range 300 { // more than one of RemoveAll's pages
			create(t, f, rootCred, b.Ino, "n"+strconv.Itoa(i), 0o644)
		}
		require.NoError(t, f.RemoveAll(ctx, rootCred, "/a"))
		require.Equal(t, []string{"outside"}, names(t, f, root))
		require.EqualValues(t, 1, getattr(t, f, fl.Ino).Nlink)
		require.EqualValues(t, 2, getattr(t, f, root).Nlink)
		require.Equal(t, 2, RequireClean(t, f).Inodes)
		require.NoError(t, f.RemoveAll(ctx, rootCred, "/missing"), "a missing path is no error")
		require.NoError(t, f.RemoveAll(ctx, rootCred, "/missing/deeper"))
		require.NoError(t, f.RemoveAll(ctx, rootCred, "/outside"), "a file")
		require.Empty(t, names(t, f, root))
	}},
	testCase{name: "RemoveAll/Permission_EACCES", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		create(t, f, rootCred, d.Ino, "f", 0o644)
		requirePathErr(t, f.RemoveAll(ctx, alice, "/d"), syscall.EACCES)
		require.Equal(t, []string{"f"}, names(t, f, d.Ino))
	}},
)
