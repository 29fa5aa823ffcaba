package meta_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func TestLink_Directory_EPERM(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	_, err := s.Link(ctx, rootCred, d.Ino, root, "d2")
	requireLinkErr(t, err, syscall.EPERM)
	_, err = s.Link(ctx, rootCred, root, d.Ino, "root")
	requireLinkErr(t, err, syscall.EPERM)
	require.EqualValues(t, 3, getattr(t, s, root).Nlink)
}

func TestLink_MissingSource_ENOENT(t *testing.T) {
	s := newStore(t)
	_, err := s.Link(ctx, rootCred, 424242, root, "x")
	requireLinkErr(t, err, syscall.ENOENT)
}

func TestLink_NlinkExactThroughLinkUnlinkAndRenameOver(t *testing.T) {
	clock := newClock()
	s := newStoreWith(t, nil, meta.Options{Clock: clock.Now})
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	f := create(t, s, rootCred, root, "f", 0o644)
	nlink := func() uint32 { return getattr(t, s, f.Ino).Nlink }

	clock.Advance(time.Second)
	a, err := s.Link(ctx, rootCred, f.Ino, d.Ino, "l1")
	require.NoError(t, err)
	require.EqualValues(t, 2, a.Nlink)
	require.Equal(t, clock.Now(), a.Ctime, "link changes ctime")
	_, err = s.Link(ctx, rootCred, f.Ino, root, "l2")
	require.NoError(t, err)
	require.EqualValues(t, 3, nlink())
	require.EqualValues(t, 3, getattr(t, s, root).Entries) // d, f, l2

	require.NoError(t, s.Unlink(ctx, rootCred, root, "l2"))
	require.EqualValues(t, 2, nlink())

	// Renaming one name of f over another is a no-op.
	rename(t, s, rootCred, root, "f", d.Ino, "l1", 0)
	require.EqualValues(t, 2, nlink())

	// Another file renamed over one of f's names takes one link.
	create(t, s, rootCred, root, "other", 0o644)
	rename(t, s, rootCred, root, "other", d.Ino, "l1", 0)
	require.EqualValues(t, 1, nlink())

	// f renamed over a third file keeps its count.
	create(t, s, rootCred, d.Ino, "third", 0o644)
	rename(t, s, rootCred, root, "f", d.Ino, "third", 0)
	require.EqualValues(t, 1, nlink())

	_, err = s.Link(ctx, rootCred, f.Ino, root, "back")
	require.NoError(t, err)
	require.EqualValues(t, 2, nlink())
	require.NoError(t, s.Unlink(ctx, rootCred, d.Ino, "third"))
	require.NoError(t, s.Unlink(ctx, rootCred, root, "back"))
	requireGone(t, s, f.Ino)
}

func TestLink_OtherTypes(t *testing.T) {
	s := newStore(t)
	l, err := s.Symlink(ctx, rootCred, root, "l", "target")
	require.NoError(t, err)
	p, err := s.Mknod(ctx, rootCred, root, "p", syscall.S_IFIFO|0o644, 0)
	require.NoError(t, err)
	for _, ino := range []uint64{l.Ino, p.Ino} {
		a, err := s.Link(ctx, rootCred, ino, root, "link-"+strconvI(int(ino)))
		require.NoError(t, err)
		require.EqualValues(t, 2, a.Nlink)
	}
}
