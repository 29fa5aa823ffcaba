package meta_test

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

func symlink(tb testing.TB, s *meta.Store, parent uint64, name, target string) meta.Attr {
	tb.Helper()
	a, err := s.Symlink(ctx, rootCred, parent, name, target)
	require.NoError(tb, err)
	return a
}

func stat(tb testing.TB, s *meta.Store, p string) meta.Attr {
	tb.Helper()
	a, err := s.Stat(ctx, rootCred, p)
	require.NoError(tb, err, p)
	return a
}

func TestStat_FollowsSymlinks(t *testing.T) {
	s := newStore(t)
	a, err := s.MkdirAll(ctx, rootCred, "/a/b", 0o755)
	require.NoError(t, err)
	f := create(t, s, rootCred, a.Ino, "f", 0o644)
	symlink(t, s, root, "abs", "/a/b")
	symlink(t, s, root, "rel", "a/b/f")
	up := lookup(t, s, root, "a")
	symlink(t, s, up.Ino, "up", "../a/./b/")
	symlink(t, s, root, "chain", "abs")

	require.Equal(t, f.Ino, stat(t, s, "/abs/f").Ino)
	require.Equal(t, f.Ino, stat(t, s, "/rel").Ino)
	require.Equal(t, f.Ino, stat(t, s, "/a/up/f").Ino)
	require.Equal(t, f.Ino, stat(t, s, "chain/f").Ino, "relative paths start at the root")
	require.Equal(t, a.Ino, stat(t, s, "/chain").Ino)
}

func TestLstat_DoesNotFollowLastComponent(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	l := symlink(t, s, root, "l", "/d")
	a, err := s.Lstat(ctx, rootCred, "/l")
	require.NoError(t, err)
	require.Equal(t, l.Ino, a.Ino)
	require.Equal(t, inode.TypeSymlink, a.Type)
	create(t, s, rootCred, d.Ino, "f", 0o644)
	a, err = s.Lstat(ctx, rootCred, "/l/f")
	require.NoError(t, err, "inner components are followed")
	require.Equal(t, inode.TypeFile, a.Type)
	// A trailing slash makes the last component a directory: it is followed.
	a, err = s.Lstat(ctx, rootCred, "/l/")
	require.NoError(t, err)
	require.Equal(t, d.Ino, a.Ino)
}

func TestStat_SymlinkLoop_ELOOP(t *testing.T) {
	s := newStore(t)
	symlink(t, s, root, "a", "b")
	symlink(t, s, root, "b", "a")
	_, err := s.Stat(ctx, rootCred, "/a")
	requirePathErr(t, err, syscall.ELOOP)
	_, err = s.Stat(ctx, rootCred, "/a/x")
	requirePathErr(t, err, syscall.ELOOP)
	_, err = s.Lstat(ctx, rootCred, "/a")
	require.NoError(t, err)

	// 40 hops resolve, 41 do not.
	create(t, s, rootCred, root, "end", 0o644)
	symlink(t, s, root, "l0", "end")
	for i := 1; i <= meta.MaxSymlinks; i++ {
		symlink(t, s, root, fmt.Sprintf("l%d", i), fmt.Sprintf("l%d", i-1))
	}
	_, err = s.Stat(ctx, rootCred, fmt.Sprintf("/l%d", meta.MaxSymlinks-1))
	require.NoError(t, err)
	_, err = s.Stat(ctx, rootCred, fmt.Sprintf("/l%d", meta.MaxSymlinks))
	requirePathErr(t, err, syscall.ELOOP)
}

func TestStat_DotAndDotDot(t *testing.T) {
	s := newStore(t)
	b, err := s.MkdirAll(ctx, rootCred, "/a/b", 0o755)
	require.NoError(t, err)
	require.Equal(t, b.Ino, stat(t, s, "/a/./b/../b/.").Ino)
	require.Equal(t, uint64(root), stat(t, s, "/../../a/..").Ino)
	require.Equal(t, uint64(root), stat(t, s, "").Ino)
}

func TestStat_Errors(t *testing.T) {
	s := newStore(t)
	create(t, s, rootCred, root, "f", 0o644)
	symlink(t, s, root, "lf", "/f")
	for p, want := range map[string]syscall.Errno{
		"/missing":   syscall.ENOENT,
		"/missing/x": syscall.ENOENT,
		"/f/x":       syscall.ENOTDIR,
		"/f/..":      syscall.ENOTDIR,
		"/f/.":       syscall.ENOTDIR,
		"/f/":        syscall.ENOTDIR,
		"/lf/":       syscall.ENOTDIR,
	} {
		_, err := s.Stat(ctx, rootCred, p)
		requirePathErr(t, err, want)
		var pe *fs.PathError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, p, pe.Path)
	}
}

func TestMkdirAll(t *testing.T) {
	s := newStore(t)
	c, err := s.MkdirAll(ctx, rootCred, "/a/b/c", 0o750)
	require.NoError(t, err)
	require.True(t, c.IsDir())
	require.EqualValues(t, 0o750, c.Mode)
	again, err := s.MkdirAll(ctx, rootCred, "a//b/./c/", 0o755)
	require.NoError(t, err)
	require.Equal(t, c.Ino, again.Ino)
	symlink(t, s, root, "l", "/a/b")
	d, err := s.MkdirAll(ctx, rootCred, "/l/c/d", 0o755)
	require.NoError(t, err)
	require.Equal(t, d.Ino, stat(t, s, "/a/b/c/d").Ino)

	create(t, s, rootCred, root, "f", 0o644)
	_, err = s.MkdirAll(ctx, rootCred, "/f/x", 0o755)
	requirePathErr(t, err, syscall.ENOTDIR)
	_, err = s.MkdirAll(ctx, alice, "/a/new", 0o755)
	requirePathErr(t, err, syscall.EACCES)
}

func TestWalk_LexicalOrderAndSkipDir(t *testing.T) {
	s := newStore(t)
	for _, p := range []string{"/w/b/x", "/w/a/y", "/w/c"} {
		_, err := s.MkdirAll(ctx, rootCred, p, 0o755)
		require.NoError(t, err)
	}
	b := stat(t, s, "/w/b")
	create(t, s, rootCred, b.Ino, "file", 0o644)
	symlink(t, s, b.Ino, "loop", "/w")

	var seen []string
	err := s.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
		require.NoError(t, err)
		seen = append(seen, p)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"/w", "/w/a", "/w/a/y", "/w/b", "/w/b/file", "/w/b/loop", "/w/b/x", "/w/c"}, seen)

	for _, skip := range []error{meta.SkipDir, fs.SkipDir} {
		seen = nil
		err = s.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
			seen = append(seen, p)
			if p == "/w/b" || p == "/w/a/y" {
				return skip
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"/w", "/w/a", "/w/a/y", "/w/b", "/w/c"}, seen)
	}

	stop := errors.New("stop")
	seen = nil
	err = s.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
		seen = append(seen, p)
		if p == "/w/a" {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, []string{"/w", "/w/a"}, seen)
}

func TestWalk_MissingRootReportsError(t *testing.T) {
	s := newStore(t)
	called := 0
	err := s.Walk(ctx, rootCred, "/missing", func(p string, a meta.Attr, err error) error {
		called++
		requirePathErr(t, err, syscall.ENOENT)
		return err
	})
	requirePathErr(t, err, syscall.ENOENT)
	require.Equal(t, 1, called)
}

func TestReadDir_CursorPages(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	var want []string
	for i := range 10 {
		n := fmt.Sprintf("e%02d", i)
		want = append(want, n)
		create(t, s, rootCred, d.Ino, n, 0o644)
	}
	var got []string
	cursor, pages := "", 0
	for {
		ents, next, err := s.ReadDir(ctx, rootCred, d.Ino, cursor, 3)
		require.NoError(t, err)
		require.LessOrEqual(t, len(ents), 3)
		for _, e := range ents {
			got = append(got, e.Name)
			require.Equal(t, inode.TypeFile, e.Type)
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got, "no . or .., in name order, each once")
	require.GreaterOrEqual(t, pages, 4)
	ents, next, err := s.ReadDir(ctx, rootCred, d.Ino, "e08", 0)
	require.NoError(t, err)
	require.Equal(t, "", next)
	require.Len(t, ents, 1)
	require.Equal(t, "e09", ents[0].Name)
}

func TestReadDir_Errors(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o711)
	f := create(t, s, rootCred, root, "f", 0o644)
	_, _, err := s.ReadDir(ctx, alice, d.Ino, "", 0)
	requirePathErr(t, err, syscall.EACCES)
	_, _, err = s.ReadDir(ctx, rootCred, f.Ino, "", 0)
	requirePathErr(t, err, syscall.ENOTDIR)
	_, _, err = s.ReadDir(ctx, rootCred, 424242, "", 0)
	requirePathErr(t, err, syscall.ENOENT)
}

func TestOpen_Permissions(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	_, err := s.Open(ctx, alice, f.Ino, meta.OWrOnly)
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.Open(ctx, alice, f.Ino, meta.ORdWr)
	requirePathErr(t, err, syscall.EACCES)
	h, err := s.Open(ctx, alice, f.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx, h))
	_, err = s.Open(ctx, rootCred, root, meta.OWrOnly)
	requirePathErr(t, err, syscall.EISDIR)
	_, err = s.Open(ctx, rootCred, 424242, meta.ORdOnly)
	requirePathErr(t, err, syscall.ENOENT)
}
