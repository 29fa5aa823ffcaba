package metatest

import (
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

var _ = register(
	testCase{name: "Rename/OntoItselfIsNoOp", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		before := getattr(t, f, root)
		for _, flags := range []meta.RenameFlags{0, meta.RenameExchange} {
			rename(t, f, rootCred, root, "f", root, "f", flags)
			rename(t, f, rootCred, root, "d", root, "d", flags)
		}
		require.Equal(t, []string{"d", "f"}, names(t, f, root))
		require.Equal(t, before, getattr(t, f, root), "nothing changes, times included")
		require.Equal(t, fl.Ctime, getattr(t, f, fl.Ino).Ctime)
		require.Equal(t, d.Ino, lookup(t, f, root, "d").Ino)
	}},
	testCase{name: "Rename/OntoOtherHardLinkIsNoOp", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		_, err := f.Link(ctx, rootCred, fl.Ino, d.Ino, "g")
		require.NoError(t, err)
		rename(t, f, rootCred, root, "f", d.Ino, "g", 0)
		rename(t, f, rootCred, d.Ino, "g", root, "f", meta.RenameExchange)
		require.Equal(t, []string{"d", "f"}, names(t, f, root))
		require.Equal(t, []string{"g"}, names(t, f, d.Ino))
		require.EqualValues(t, 2, getattr(t, f, fl.Ino).Nlink)
	}},
	testCase{name: "Rename/FileOverFileReplaces", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		fl := create(t, f, rootCred, root, "f", 0o644)
		victim := create(t, f, rootCred, d.Ino, "v", 0o644)
		rename(t, f, rootCred, root, "f", d.Ino, "v", 0)
		require.Equal(t, fl.Ino, lookup(t, f, d.Ino, "v").Ino)
		requireGone(t, f, victim.Ino)
		require.Equal(t, []string{"d"}, names(t, f, root))
		require.EqualValues(t, 1, getattr(t, f, d.Ino).Entries)
		require.EqualValues(t, 1, getattr(t, f, root).Entries)
	}},
	testCase{name: "Rename/FileOverOpenFileKeepsVictimUntilClose", fn: func(t *testing.T, f meta.FS) {
		create(t, f, rootCred, root, "f", 0o644)
		v := create(t, f, rootCred, root, "v", 0o644)
		h, err := f.Open(ctx, rootCred, v.Ino, meta.ORdOnly)
		require.NoError(t, err)
		rename(t, f, rootCred, root, "f", root, "v", 0)
		require.Zero(t, getattr(t, f, v.Ino).Nlink)
		RequireClean(t, f)
		require.NoError(t, f.Close(ctx, h))
		requireGone(t, f, v.Ino)
	}},
	testCase{name: "Rename/DirOverEmptyDirReplaces", fn: func(t *testing.T, f meta.FS) {
		a := mkdir(t, f, rootCred, root, "a", 0o755)
		b := mkdir(t, f, rootCred, root, "b", 0o755)
		d := mkdir(t, f, rootCred, a.Ino, "d", 0o755)
		create(t, f, rootCred, d.Ino, "inside", 0o644)
		victim := mkdir(t, f, rootCred, b.Ino, "e", 0o755)
		rename(t, f, rootCred, a.Ino, "d", b.Ino, "e", 0)
		requireGone(t, f, victim.Ino)
		require.Equal(t, d.Ino, lookup(t, f, b.Ino, "e").Ino)
		require.Equal(t, b.Ino, lookup(t, f, d.Ino, "..").Ino)
		require.Equal(t, []string{"inside"}, names(t, f, d.Ino))
		require.EqualValues(t, 2, getattr(t, f, a.Ino).Nlink)
		require.EqualValues(t, 3, getattr(t, f, b.Ino).Nlink)
	}},
	testCase{name: "Rename/TypeAndEmptinessErrors", fn: func(t *testing.T, f meta.FS) {
		mkdir(t, f, rootCred, root, "d", 0o755)
		e := mkdir(t, f, rootCred, root, "e", 0o755)
		create(t, f, rootCred, e.Ino, "x", 0o644)
		create(t, f, rootCred, root, "f", 0o644)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", root, "e", 0), syscall.ENOTEMPTY)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", root, "f", 0), syscall.ENOTDIR)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "d", 0), syscall.EISDIR)
		require.Equal(t, []string{"d", "e", "f"}, names(t, f, root))
	}},
	testCase{name: "Rename/DirOverItsOwnAncestor_ENOTEMPTY", fn: func(t *testing.T, f meta.FS) {
		a := mkdir(t, f, rootCred, root, "a", 0o755)
		b := mkdir(t, f, rootCred, a.Ino, "b", 0o755)
		requireLinkErr(t, f.Rename(ctx, rootCred, a.Ino, "b", root, "a", 0), syscall.ENOTEMPTY)
		require.Equal(t, b.Ino, lookup(t, f, a.Ino, "b").Ino)
	}},
	testCase{name: "Rename/DirIntoItselfOrDescendant_EINVAL", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		for _, flags := range []meta.RenameFlags{0, meta.RenameNoReplace} {
			requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", d.Ino, "x", flags), syscall.EINVAL)
		}
		deep, err := f.MkdirAll(ctx, rootCred, "/d/e/f/g", 0o755)
		require.NoError(t, err)
		e := stat(t, f, "/d/e")
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", deep.Ino, "x", 0), syscall.EINVAL)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", e.Ino, "x", 0), syscall.EINVAL)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "d", e.Ino, "f", meta.RenameExchange), syscall.EINVAL)
		stat(t, f, "/d/e/f/g")
	}},
	testCase{name: "Rename/NoReplaceOverExisting_EEXIST", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		g := create(t, f, rootCred, root, "g", 0o644)
		mkdir(t, f, rootCred, root, "d", 0o755)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "g", meta.RenameNoReplace), syscall.EEXIST)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "d", meta.RenameNoReplace), syscall.EEXIST)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "f", meta.RenameNoReplace), syscall.EEXIST)
		_, err := f.Link(ctx, rootCred, fl.Ino, root, "f2")
		require.NoError(t, err)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "f2", meta.RenameNoReplace), syscall.EEXIST)
		rename(t, f, rootCred, root, "g", root, "h", meta.RenameNoReplace)
		require.Equal(t, g.Ino, lookup(t, f, root, "h").Ino)
	}},
	testCase{name: "Rename/ExchangeFileAndDirAcrossParents", fn: func(t *testing.T, f meta.FS) {
		p1 := mkdir(t, f, rootCred, root, "p1", 0o755)
		p2 := mkdir(t, f, rootCred, root, "p2", 0o755)
		fl := create(t, f, rootCred, p1.Ino, "f", 0o644)
		d := mkdir(t, f, rootCred, p2.Ino, "d", 0o755)
		create(t, f, rootCred, d.Ino, "child", 0o644)
		requireLinkErr(t, f.Rename(ctx, rootCred, p1.Ino, "f", p2.Ino, "missing", meta.RenameExchange), syscall.ENOENT)
		rename(t, f, rootCred, p1.Ino, "f", p2.Ino, "d", meta.RenameExchange)
		require.Equal(t, d.Ino, lookup(t, f, p1.Ino, "f").Ino)
		require.Equal(t, fl.Ino, lookup(t, f, p2.Ino, "d").Ino)
		require.Equal(t, p1.Ino, lookup(t, f, d.Ino, "..").Ino)
		require.Equal(t, inode.TypeFile, stat(t, f, "/p1/f/child").Type)
		require.EqualValues(t, 3, getattr(t, f, p1.Ino).Nlink)
		require.EqualValues(t, 2, getattr(t, f, p2.Ino).Nlink)
		require.EqualValues(t, 1, getattr(t, f, fl.Ino).Nlink)
	}},
	testCase{name: "Rename/BadFlags_EINVAL", fn: func(t *testing.T, f meta.FS) {
		create(t, f, rootCred, root, "f", 0o644)
		create(t, f, rootCred, root, "g", 0o644)
		for _, flags := range []meta.RenameFlags{meta.RenameNoReplace | meta.RenameExchange, 1 << 5} {
			requireLinkErr(t, f.Rename(ctx, rootCred, root, "f", root, "g", flags), syscall.EINVAL)
		}
	}},
	testCase{name: "Rename/MissingAndNotDir", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "g", 0o644)
		for _, flags := range []meta.RenameFlags{0, meta.RenameNoReplace, meta.RenameExchange} {
			requireLinkErr(t, f.Rename(ctx, rootCred, root, "missing", root, "g", flags), syscall.ENOENT)
		}
		requireLinkErr(t, f.Rename(ctx, rootCred, 424242, "x", root, "y", 0), syscall.ENOENT)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "g", 424242, "y", 0), syscall.ENOENT)
		requireLinkErr(t, f.Rename(ctx, rootCred, root, "g", fl.Ino, "x", 0), syscall.ENOTDIR)
		requireLinkErr(t, f.Rename(ctx, rootCred, fl.Ino, "x", root, "y", 0), syscall.ENOTDIR)
	}},
	testCase{name: "Rename/StickyDirectory", fn: func(t *testing.T, f meta.FS) {
		tmp := mkdir(t, f, rootCred, root, "tmp", 0o1777)
		_, err := f.SetAttr(ctx, rootCred, tmp.Ino, meta.SetAttr{Uid: &carol.Uid})
		require.NoError(t, err)
		create(t, f, alice, tmp.Ino, "a", 0o666)
		create(t, f, bob, tmp.Ino, "b", 0o666)
		requireLinkErr(t, f.Rename(ctx, bob, tmp.Ino, "a", tmp.Ino, "a2", 0), syscall.EPERM)
		requireLinkErr(t, f.Rename(ctx, bob, tmp.Ino, "b", tmp.Ino, "a", 0), syscall.EPERM)
		requireLinkErr(t, f.Rename(ctx, bob, tmp.Ino, "b", tmp.Ino, "a", meta.RenameExchange), syscall.EPERM)
		requirePathErr(t, f.Unlink(ctx, bob, tmp.Ino, "a"), syscall.EPERM)
		require.Equal(t, []string{"a", "b"}, names(t, f, tmp.Ino))
		rename(t, f, bob, tmp.Ino, "b", tmp.Ino, "b2", 0)
		rename(t, f, alice, tmp.Ino, "a", tmp.Ino, "a2", 0)
		rename(t, f, carol, tmp.Ino, "a2", tmp.Ino, "b2", 0)
		require.Equal(t, []string{"b2"}, names(t, f, tmp.Ino))
		require.EqualValues(t, 1000, lookup(t, f, tmp.Ino, "b2").Uid)
		chmod(t, f, tmp.Ino, 0o1755)
		requireLinkErr(t, f.Rename(ctx, alice, tmp.Ino, "b2", tmp.Ino, "c", 0), syscall.EACCES)
	}},
	testCase{name: "Rename/WithoutWriteOnEitherParent_EACCES", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		ro := mkdir(t, f, rootCred, root, "ro", 0o755)
		create(t, f, alice, h, "mine", 0o644)
		create(t, f, rootCred, ro.Ino, "theirs", 0o666)
		requireLinkErr(t, f.Rename(ctx, alice, h, "mine", ro.Ino, "x", 0), syscall.EACCES)
		requireLinkErr(t, f.Rename(ctx, alice, ro.Ino, "theirs", h, "x", 0), syscall.EACCES)
		requireLinkErr(t, f.Rename(ctx, alice, ro.Ino, "missing", h, "x", 0), syscall.ENOENT)
		rename(t, f, alice, h, "mine", h, "mine2", 0)
	}},

	testCase{name: "SetAttr/Chmod", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "f", 0o644)
		_, err := f.SetAttr(ctx, bob, fl.Ino, meta.SetAttr{Mode: ptr[uint32](0o777)})
		requirePathErr(t, err, syscall.EPERM)
		a, err := f.SetAttr(ctx, alice, fl.Ino, meta.SetAttr{Mode: ptr[uint32](0o4750)})
		require.NoError(t, err)
		require.EqualValues(t, 0o4750, a.Mode)
		got := getattr(t, f, fl.Ino)
		require.Equal(t, a, got)
		require.Equal(t, fl.Mtime, got.Mtime, "chmod leaves mtime")
		require.False(t, got.Ctime.Before(fl.Ctime))
		// An owner outside the file's group loses setgid.
		_, err = f.SetAttr(ctx, rootCred, fl.Ino, meta.SetAttr{Gid: ptr[uint32](50)})
		require.NoError(t, err)
		a, err = f.SetAttr(ctx, alice, fl.Ino, meta.SetAttr{Mode: ptr[uint32](0o2755)})
		require.NoError(t, err)
		require.EqualValues(t, 0o755, a.Mode)
		_, err = f.SetAttr(ctx, rootCred, 424242, meta.SetAttr{Mode: ptr[uint32](0o644)})
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "SetAttr/Chown", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "f", 0o6755)
		for _, tc := range []struct {
			c   meta.Cred
			uid uint32
		}{{alice, bob.Uid}, {bob, bob.Uid}, {bob, alice.Uid}} {
			_, err := f.SetAttr(ctx, tc.c, fl.Ino, meta.SetAttr{Uid: ptr(tc.uid)})
			requirePathErr(t, err, syscall.EPERM)
		}
		member := meta.Cred{Uid: 1000, Gid: 1000, Groups: []uint32{2000}}
		_, err := f.SetAttr(ctx, member, fl.Ino, meta.SetAttr{Gid: ptr[uint32](2000)})
		require.NoError(t, err, "the owner may chgrp to one of its groups")
		_, err = f.SetAttr(ctx, member, fl.Ino, meta.SetAttr{Gid: ptr[uint32](3000)})
		requirePathErr(t, err, syscall.EPERM)
		a, err := f.SetAttr(ctx, rootCred, fl.Ino, meta.SetAttr{Uid: ptr(bob.Uid), Gid: ptr(bob.Gid)})
		require.NoError(t, err)
		require.EqualValues(t, bob.Uid, a.Uid)
		require.EqualValues(t, bob.Gid, a.Gid)
		require.EqualValues(t, 0o755, a.Mode, "chown clears setuid and setgid")
	}},
	testCase{name: "SetAttr/Truncate", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "f", 0o644)
		a, err := f.SetAttr(ctx, alice, fl.Ino, meta.SetAttr{Size: ptr[uint64](12345)})
		require.NoError(t, err)
		require.EqualValues(t, 12345, a.Size)
		got := getattr(t, f, fl.Ino)
		require.EqualValues(t, 12345, got.Size)
		require.Equal(t, fl.Atime, got.Atime, "truncate leaves atime")
		require.False(t, got.Mtime.Before(fl.Mtime))
		ro := create(t, f, alice, h, "ro", 0o444)
		_, err = f.SetAttr(ctx, alice, ro.Ino, meta.SetAttr{Size: ptr[uint64](1)})
		requirePathErr(t, err, syscall.EACCES)
		_, err = f.SetAttr(ctx, alice, h, meta.SetAttr{Size: ptr[uint64](1)})
		requirePathErr(t, err, syscall.EISDIR)
		l, err := f.Symlink(ctx, alice, h, "l", "f")
		require.NoError(t, err)
		_, err = f.SetAttr(ctx, alice, l.Ino, meta.SetAttr{Size: ptr[uint64](1)})
		requirePathErr(t, err, syscall.EINVAL)
	}},
	testCase{name: "SetAttr/Times", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, alice, home(t, f, alice), "f", 0o666)
		past := getattr(t, f, fl.Ino).Mtime.Add(-1000 * 3600 * 1e9)
		_, err := f.SetAttr(ctx, bob, fl.Ino, meta.SetAttr{Mtime: &past})
		requirePathErr(t, err, syscall.EPERM)
		_, err = f.SetAttr(ctx, bob, fl.Ino, meta.SetAttr{MtimeNow: true, AtimeNow: true})
		require.NoError(t, err, "write permission allows setting the current time")
		_, err = f.SetAttr(ctx, alice, fl.Ino, meta.SetAttr{Mtime: &past, Atime: &past})
		require.NoError(t, err)
		got := getattr(t, f, fl.Ino)
		require.True(t, past.Equal(got.Mtime))
		require.True(t, past.Equal(got.Atime))
		require.True(t, got.Ctime.After(past))
		chmod(t, f, fl.Ino, 0o644)
		_, err = f.SetAttr(ctx, bob, fl.Ino, meta.SetAttr{MtimeNow: true})
		requirePathErr(t, err, syscall.EACCES)
		// A directory's mtime may go into the past; the next entry change
		// raises it again.
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		a, err := f.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Mtime: &past})
		require.NoError(t, err)
		require.True(t, past.Equal(a.Mtime))
		require.True(t, past.Equal(getattr(t, f, d.Ino).Mtime))
		c := create(t, f, rootCred, d.Ino, "c", 0o644)
		require.True(t, c.Mtime.Equal(getattr(t, f, d.Ino).Mtime))
	}},
)
