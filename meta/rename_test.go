package meta_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func rename(tb testing.TB, s *meta.Store, c meta.Cred, sp uint64, sn string, dp uint64, dn string, flags meta.RenameFlags) {
	tb.Helper()
	require.NoError(tb, s.Rename(ctx, c, sp, sn, dp, dn, flags))
}

func TestRename_OntoItselfIsNoOp(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	f := create(t, s, rootCred, root, "f", 0o644)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	before := getattr(t, s, root)
	clock.Advance(time.Minute)
	for _, flags := range []meta.RenameFlags{0, meta.RenameExchange} {
		rename(t, s, rootCred, root, "f", root, "f", flags)
		rename(t, s, rootCred, root, "d", root, "d", flags)
	}
	require.Equal(t, []string{"d", "f"}, names(t, s, root))
	require.Equal(t, before, getattr(t, s, root), "nothing changes, times included")
	require.Equal(t, f.Ctime, getattr(t, s, f.Ino).Ctime)
	require.Equal(t, d.Ino, lookup(t, s, root, "d").Ino)
}

// POSIX: if old and new are links to the same file, rename does nothing
// and succeeds; both names stay.
func TestRename_OntoOtherHardLinkIsNoOp(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	_, err := s.Link(ctx, rootCred, f.Ino, d.Ino, "g")
	require.NoError(t, err)
	rename(t, s, rootCred, root, "f", d.Ino, "g", 0)
	rename(t, s, rootCred, d.Ino, "g", root, "f", meta.RenameExchange)
	require.Equal(t, []string{"d", "f"}, names(t, s, root))
	require.Equal(t, []string{"g"}, names(t, s, d.Ino))
	require.EqualValues(t, 2, getattr(t, s, f.Ino).Nlink)
}

func TestRename_FileOverFileReplacesAndUnlinksVictim(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	f := create(t, s, rootCred, root, "f", 0o644)
	victim := create(t, s, rootCred, d.Ino, "v", 0o644)
	rename(t, s, rootCred, root, "f", d.Ino, "v", 0)
	require.Equal(t, f.Ino, lookup(t, s, d.Ino, "v").Ino)
	requireGone(t, s, victim.Ino)
	require.Equal(t, []string{"d"}, names(t, s, root))
	require.EqualValues(t, 1, getattr(t, s, d.Ino).Entries)
	require.EqualValues(t, 1, getattr(t, s, root).Entries)
}

func TestRename_FileOverLinkedFileDropsOneLink(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	v := create(t, s, rootCred, root, "v", 0o644)
	_, err := s.Link(ctx, rootCred, v.Ino, root, "v2")
	require.NoError(t, err)
	rename(t, s, rootCred, root, "f", root, "v", 0)
	require.EqualValues(t, 1, getattr(t, s, v.Ino).Nlink)
	require.Equal(t, v.Ino, lookup(t, s, root, "v2").Ino)
	require.Equal(t, f.Ino, lookup(t, s, root, "v").Ino)
}

func TestRename_FileOverOpenFileKeepsVictimUntilClose(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	v := create(t, s, rootCred, root, "v", 0o644)
	h, err := s.Open(ctx, rootCred, v.Ino, meta.ORdOnly)
	require.NoError(t, err)
	rename(t, s, rootCred, root, "f", root, "v", 0)
	require.Zero(t, getattr(t, s, v.Ino).Nlink)
	requireClean(t, s)
	require.NoError(t, s.Close(ctx, h))
	requireGone(t, s, v.Ino)
}

func TestRename_DirOverEmptyDirReplaces(t *testing.T) {
	s := newStore(t)
	a := mkdir(t, s, rootCred, root, "a", 0o755)
	b := mkdir(t, s, rootCred, root, "b", 0o755)
	d := mkdir(t, s, rootCred, a.Ino, "d", 0o755)
	create(t, s, rootCred, d.Ino, "inside", 0o644)
	victim := mkdir(t, s, rootCred, b.Ino, "e", 0o755)
	rename(t, s, rootCred, a.Ino, "d", b.Ino, "e", 0)
	requireGone(t, s, victim.Ino)
	require.Equal(t, d.Ino, lookup(t, s, b.Ino, "e").Ino)
	require.Equal(t, []string{"inside"}, names(t, s, d.Ino))
	require.EqualValues(t, 2, getattr(t, s, a.Ino).Nlink)
	require.EqualValues(t, 3, getattr(t, s, b.Ino).Nlink)
	require.EqualValues(t, 1, getattr(t, s, b.Ino).Entries)
}

func TestRename_DirOverNonEmptyDir_ENOTEMPTY(t *testing.T) {
	s := newStore(t)
	mkdir(t, s, rootCred, root, "d", 0o755)
	e := mkdir(t, s, rootCred, root, "e", 0o755)
	create(t, s, rootCred, e.Ino, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", root, "e", 0), syscall.ENOTEMPTY)
	require.Equal(t, []string{"d", "e"}, names(t, s, root))
}

// Linux: a target that is an ancestor of the source is ENOTEMPTY.
func TestRename_DirOverItsOwnAncestor_ENOTEMPTY(t *testing.T) {
	s := newStore(t)
	a := mkdir(t, s, rootCred, root, "a", 0o755)
	b := mkdir(t, s, rootCred, a.Ino, "b", 0o755)
	requireLinkErr(t, s.Rename(ctx, rootCred, a.Ino, "b", root, "a", 0), syscall.ENOTEMPTY)
	require.Equal(t, b.Ino, lookup(t, s, a.Ino, "b").Ino)
	// A file too: the ancestor check comes before the type check (EISDIR).
	f := create(t, s, rootCred, b.Ino, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, b.Ino, "f", root, "a", 0), syscall.ENOTEMPTY)
	requireLinkErr(t, s.Rename(ctx, rootCred, b.Ino, "f", a.Ino, "b", 0), syscall.ENOTEMPTY)
	require.Equal(t, f.Ino, lookup(t, s, b.Ino, "f").Ino)
}

func TestRename_DirOverFile_ENOTDIR(t *testing.T) {
	s := newStore(t)
	mkdir(t, s, rootCred, root, "d", 0o755)
	create(t, s, rootCred, root, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", root, "f", 0), syscall.ENOTDIR)
}

func TestRename_FileOverDir_EISDIR(t *testing.T) {
	s := newStore(t)
	mkdir(t, s, rootCred, root, "d", 0o755)
	create(t, s, rootCred, root, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "d", 0), syscall.EISDIR)
}

func TestRename_DirIntoItself_EINVAL(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	for _, flags := range []meta.RenameFlags{0, meta.RenameNoReplace} {
		requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", d.Ino, "x", flags), syscall.EINVAL)
	}
	require.Empty(t, names(t, s, d.Ino))
}

func TestRename_DirIntoDescendant_EINVAL(t *testing.T) {
	s := newStore(t)
	deep, err := s.MkdirAll(ctx, rootCred, "/d/e/f/g", 0o755)
	require.NoError(t, err)
	e, err := s.Stat(ctx, rootCred, "/d/e")
	require.NoError(t, err)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", deep.Ino, "x", 0), syscall.EINVAL)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", e.Ino, "x", 0), syscall.EINVAL)
	create(t, s, rootCred, deep.Ino, "victim", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", deep.Ino, "victim", 0), syscall.EINVAL)
	_, err = s.Stat(ctx, rootCred, "/d/e/f/g/victim")
	require.NoError(t, err)
}

func TestRename_NoReplaceOverExisting_EEXIST(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	g := create(t, s, rootCred, root, "g", 0o644)
	mkdir(t, s, rootCred, root, "d", 0o755)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "g", meta.RenameNoReplace), syscall.EEXIST)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "d", meta.RenameNoReplace), syscall.EEXIST)
	// As renameat2: NOREPLACE onto itself or another link of itself too.
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "f", meta.RenameNoReplace), syscall.EEXIST)
	_, err := s.Link(ctx, rootCred, f.Ino, root, "f2")
	require.NoError(t, err)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "f2", meta.RenameNoReplace), syscall.EEXIST)
	require.Equal(t, g.Ino, lookup(t, s, root, "g").Ino)

	rename(t, s, rootCred, root, "g", root, "h", meta.RenameNoReplace)
	require.Equal(t, g.Ino, lookup(t, s, root, "h").Ino)
}

func TestRename_ExchangeMissingTarget_ENOENT(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "missing", meta.RenameExchange), syscall.ENOENT)
	require.Equal(t, []string{"f"}, names(t, s, root))
}

func TestRename_ExchangeFileAndDirAcrossParents(t *testing.T) {
	for _, dirFirst := range []bool{false, true} {
		name := "file-source"
		if dirFirst {
			name = "dir-source"
		}
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
			p1 := mkdir(t, s, rootCred, root, "p1", 0o755)
			p2 := mkdir(t, s, rootCred, root, "p2", 0o755)
			f := create(t, s, rootCred, p1.Ino, "f", 0o644)
			d := mkdir(t, s, rootCred, p2.Ino, "d", 0o755)
			create(t, s, rootCred, d.Ino, "child", 0o644)
			require.EqualValues(t, 2, getattr(t, s, p1.Ino).Nlink)
			require.EqualValues(t, 3, getattr(t, s, p2.Ino).Nlink)
			clock.Advance(time.Second)
			if dirFirst {
				rename(t, s, rootCred, p2.Ino, "d", p1.Ino, "f", meta.RenameExchange)
			} else {
				rename(t, s, rootCred, p1.Ino, "f", p2.Ino, "d", meta.RenameExchange)
			}
			// p1/f is now the directory, p2/d the file.
			require.Equal(t, d.Ino, lookup(t, s, p1.Ino, "f").Ino)
			require.Equal(t, f.Ino, lookup(t, s, p2.Ino, "d").Ino)
			require.Equal(t, p1.Ino, lookup(t, s, d.Ino, "..").Ino, "the moved directory's ..")
			st, err := s.Stat(ctx, rootCred, "/p1/f/child")
			require.NoError(t, err)
			require.Equal(t, inode.TypeFile, st.Type)
			require.EqualValues(t, 3, getattr(t, s, p1.Ino).Nlink)
			require.EqualValues(t, 2, getattr(t, s, p2.Ino).Nlink)
			require.EqualValues(t, 1, getattr(t, s, p1.Ino).Entries)
			require.EqualValues(t, 1, getattr(t, s, p2.Ino).Entries)
			require.EqualValues(t, 1, getattr(t, s, f.Ino).Nlink)
			require.Equal(t, clock.Now(), getattr(t, s, f.Ino).Ctime)
			require.Equal(t, clock.Now(), getattr(t, s, d.Ino).Ctime)
			require.Equal(t, clock.Now(), getattr(t, s, p1.Ino).Mtime)
			require.Equal(t, clock.Now(), getattr(t, s, p2.Ino).Mtime)
		})
	}
}

func TestRename_ExchangeTwoDirs(t *testing.T) {
	s := newStore(t)
	a := mkdir(t, s, rootCred, root, "a", 0o755)
	b := mkdir(t, s, rootCred, a.Ino, "b", 0o755)
	c := mkdir(t, s, rootCred, root, "c", 0o755)
	mkdir(t, s, rootCred, c.Ino, "c1", 0o755)
	rename(t, s, rootCred, a.Ino, "b", root, "c", meta.RenameExchange)
	require.Equal(t, c.Ino, lookup(t, s, a.Ino, "b").Ino)
	require.Equal(t, b.Ino, lookup(t, s, root, "c").Ino)
	require.Equal(t, a.Ino, lookup(t, s, c.Ino, "..").Ino)
	require.Equal(t, uint64(root), lookup(t, s, b.Ino, "..").Ino)
	require.EqualValues(t, 4, getattr(t, s, root).Nlink)
	require.EqualValues(t, 3, getattr(t, s, a.Ino).Nlink)
	// Same parent: just the names swap.
	rename(t, s, rootCred, root, "a", root, "c", meta.RenameExchange)
	require.Equal(t, a.Ino, lookup(t, s, root, "c").Ino)
	st, err := s.Stat(ctx, rootCred, "/c/b/c1")
	require.NoError(t, err)
	require.True(t, st.IsDir())
}

func TestRename_ExchangeWithOwnDescendant_EINVAL(t *testing.T) {
	s := newStore(t)
	_, err := s.MkdirAll(ctx, rootCred, "/a/b/c", 0o755)
	require.NoError(t, err)
	b, err := s.Stat(ctx, rootCred, "/a/b")
	require.NoError(t, err)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "a", b.Ino, "c", meta.RenameExchange), syscall.EINVAL)
	requireLinkErr(t, s.Rename(ctx, rootCred, b.Ino, "c", root, "a", meta.RenameExchange), syscall.EINVAL)
	a := lookup(t, s, root, "a")
	f := create(t, s, rootCred, a.Ino, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, a.Ino, "f", root, "a", meta.RenameExchange), syscall.EINVAL)
	require.EqualValues(t, 1, getattr(t, s, f.Ino).Nlink)
}

func TestRename_MovedDirDotDotIsNewParent(t *testing.T) {
	s := newStore(t)
	src := mkdir(t, s, rootCred, root, "src", 0o755)
	dst := mkdir(t, s, rootCred, root, "dst", 0o755)
	d := mkdir(t, s, rootCred, src.Ino, "d", 0o755)
	rename(t, s, rootCred, src.Ino, "d", dst.Ino, "moved", 0)
	require.Equal(t, dst.Ino, lookup(t, s, d.Ino, "..").Ino)
	up, err := s.Stat(ctx, rootCred, "/dst/moved/..")
	require.NoError(t, err)
	require.Equal(t, dst.Ino, up.Ino)
	require.EqualValues(t, 2, getattr(t, s, src.Ino).Nlink, "old parent loses the subdirectory")
	require.EqualValues(t, 3, getattr(t, s, dst.Ino).Nlink, "new parent gains it")
	require.EqualValues(t, 0, getattr(t, s, src.Ino).Entries)
	require.EqualValues(t, 1, getattr(t, s, dst.Ino).Entries)
}

func TestRename_SourceMissing_ENOENT(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "g", 0o644)
	for _, flags := range []meta.RenameFlags{0, meta.RenameNoReplace, meta.RenameExchange} {
		requireLinkErr(t, s.Rename(ctx, rootCred, root, "missing", root, "g", flags), syscall.ENOENT)
	}
	requireLinkErr(t, s.Rename(ctx, rootCred, 424242, "x", root, "y", 0), syscall.ENOENT)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "g", 424242, "y", 0), syscall.ENOENT)
}

func TestRename_ParentIsFile_ENOTDIR(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", f.Ino, "x", 0), syscall.ENOTDIR)
	requireLinkErr(t, s.Rename(ctx, rootCred, f.Ino, "x", root, "y", 0), syscall.ENOTDIR)
}

func TestRename_BadFlags_EINVAL(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	create(t, s, rootCred, root, "g", 0o644)
	for _, flags := range []meta.RenameFlags{meta.RenameNoReplace | meta.RenameExchange, 1 << 5} {
		requireLinkErr(t, s.Rename(ctx, rootCred, root, "f", root, "g", flags), syscall.EINVAL)
	}
}

func TestRename_StickyDirectory(t *testing.T) {
	carol := meta.Cred{Uid: 1002, Gid: 1002}
	s := newStore(t)
	tmp := mkdir(t, s, rootCred, root, "tmp", 0o1777)
	_, err := s.SetAttr(ctx, rootCred, tmp.Ino, meta.SetAttr{Uid: &carol.Uid})
	require.NoError(t, err)
	create(t, s, alice, tmp.Ino, "a", 0o666)
	create(t, s, bob, tmp.Ino, "b", 0o666)

	// Bob may neither move Alice's file nor replace it.
	requireLinkErr(t, s.Rename(ctx, bob, tmp.Ino, "a", tmp.Ino, "a2", 0), syscall.EPERM)
	requireLinkErr(t, s.Rename(ctx, bob, tmp.Ino, "b", tmp.Ino, "a", 0), syscall.EPERM)
	requireLinkErr(t, s.Rename(ctx, bob, tmp.Ino, "b", tmp.Ino, "a", meta.RenameExchange), syscall.EPERM)
	requirePathErr(t, s.Unlink(ctx, bob, tmp.Ino, "a"), syscall.EPERM)
	require.Equal(t, []string{"a", "b"}, names(t, s, tmp.Ino))

	// The file's owner and the directory's owner may.
	rename(t, s, bob, tmp.Ino, "b", tmp.Ino, "b2", 0)
	rename(t, s, alice, tmp.Ino, "a", tmp.Ino, "a2", 0)
	rename(t, s, carol, tmp.Ino, "a2", tmp.Ino, "b2", 0)
	require.Equal(t, []string{"b2"}, names(t, s, tmp.Ino))
	require.EqualValues(t, 1000, lookup(t, s, tmp.Ino, "b2").Uid)
}

func TestRename_StickyDirectoryWithoutWrite_EACCES(t *testing.T) {
	s := newStore(t)
	tmp := mkdir(t, s, rootCred, root, "tmp", 0o1777)
	create(t, s, alice, tmp.Ino, "a", 0o666)
	chmod(t, s, tmp.Ino, 0o1755)
	requireLinkErr(t, s.Rename(ctx, alice, tmp.Ino, "a", tmp.Ino, "b", 0), syscall.EACCES)
	requirePathErr(t, s.Unlink(ctx, alice, tmp.Ino, "a"), syscall.EACCES)
}

func TestRename_WithoutWriteOnEitherParent_EACCES(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	ro := mkdir(t, s, rootCred, root, "ro", 0o755)
	create(t, s, alice, h, "mine", 0o644)
	create(t, s, rootCred, ro.Ino, "theirs", 0o666)
	requireLinkErr(t, s.Rename(ctx, alice, h, "mine", ro.Ino, "x", 0), syscall.EACCES)
	requireLinkErr(t, s.Rename(ctx, alice, ro.Ino, "theirs", h, "x", 0), syscall.EACCES)
	requireLinkErr(t, s.Rename(ctx, alice, ro.Ino, "theirs", ro.Ino, "x", 0), syscall.EACCES)
	// Names are looked up before write permission is checked.
	requireLinkErr(t, s.Rename(ctx, alice, ro.Ino, "missing", h, "x", 0), syscall.ENOENT)
}

// Moving a directory to a new parent rewrites its "..", which needs write
// permission on the directory itself.
func TestRename_DirToNewParentNeedsWriteOnIt_EACCES(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	d := mkdir(t, s, alice, h, "d", 0o555)
	other := mkdir(t, s, alice, h, "other", 0o755)
	requireLinkErr(t, s.Rename(ctx, alice, h, "d", other.Ino, "d", 0), syscall.EACCES)
	rename(t, s, alice, h, "d", h, "renamed", 0) // same parent: ".." stays
	rename(t, s, rootCred, h, "renamed", other.Ino, "d", 0)
	require.Equal(t, other.Ino, lookup(t, s, d.Ino, "..").Ino)
}

func TestRename_DotNames_EBUSY(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	for _, n := range []string{".", ".."} {
		requireLinkErr(t, s.Rename(ctx, rootCred, d.Ino, n, root, "x", 0), syscall.EBUSY)
		requireLinkErr(t, s.Rename(ctx, rootCred, root, "d", d.Ino, n, 0), syscall.EBUSY)
	}
}

func TestRename_UpdatesTimes(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	a := mkdir(t, s, rootCred, root, "a", 0o755)
	b := mkdir(t, s, rootCred, root, "b", 0o755)
	f := create(t, s, rootCred, a.Ino, "f", 0o644)
	clock.Advance(time.Hour)
	rename(t, s, rootCred, a.Ino, "f", b.Ino, "g", 0)
	now := clock.Now()
	require.Equal(t, now, getattr(t, s, f.Ino).Ctime)
	require.Equal(t, f.Mtime, getattr(t, s, f.Ino).Mtime, "mtime of the moved file stays")
	for _, d := range []uint64{a.Ino, b.Ino} {
		require.Equal(t, now, getattr(t, s, d).Mtime)
		require.Equal(t, now, getattr(t, s, d).Ctime)
	}
}
