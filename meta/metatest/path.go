package metatest

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

var _ = register(
	testCase{name: "Stat/FollowsSymlinks", fn: func(t *testing.T, f meta.FS) {
		a, err := f.MkdirAll(ctx, rootCred, "/a/b", 0o755)
		require.NoError(t, err)
		fl := create(t, f, rootCred, a.Ino, "f", 0o644)
		symlink(t, f, root, "abs", "/a/b")
		symlink(t, f, root, "rel", "a/b/f")
		up := lookup(t, f, root, "a")
		symlink(t, f, up.Ino, "up", "../a/./b/")
		symlink(t, f, root, "chain", "abs")
		require.Equal(t, fl.Ino, stat(t, f, "/abs/f").Ino)
		require.Equal(t, fl.Ino, stat(t, f, "/rel").Ino)
		require.Equal(t, fl.Ino, stat(t, f, "/a/up/f").Ino)
		require.Equal(t, fl.Ino, stat(t, f, "chain/f").Ino, "relative paths start at the root")
		require.Equal(t, a.Ino, stat(t, f, "/chain").Ino)
		ino, err := f.Resolve(ctx, rootCred, "/chain/f")
		require.NoError(t, err)
		require.Equal(t, fl.Ino, ino)
		require.Equal(t, fl, stat(t, f, "/a/b/f"), "Stat returns what GetAttr reports")
	}},
	testCase{name: "Lstat/DoesNotFollowLastComponent", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		l := symlink(t, f, root, "l", "/d")
		a, err := f.Lstat(ctx, rootCred, "/l")
		require.NoError(t, err)
		require.Equal(t, l.Ino, a.Ino)
		require.Equal(t, inode.TypeSymlink, a.Type)
		create(t, f, rootCred, d.Ino, "f", 0o644)
		a, err = f.Lstat(ctx, rootCred, "/l/f")
		require.NoError(t, err, "inner components are followed")
		require.Equal(t, inode.TypeFile, a.Type)
		a, err = f.Lstat(ctx, rootCred, "/l/")
		require.NoError(t, err)
		require.Equal(t, d.Ino, a.Ino, "a trailing slash follows the symlink")
	}},
	testCase{name: "Stat/SymlinkLoop_ELOOP", fn: func(t *testing.T, f meta.FS) {
		symlink(t, f, root, "a", "b")
		symlink(t, f, root, "b", "a")
		_, err := f.Stat(ctx, rootCred, "/a")
		requirePathErr(t, err, syscall.ELOOP)
		_, err = f.Stat(ctx, rootCred, "/a/x")
		requirePathErr(t, err, syscall.ELOOP)
		_, err = f.Lstat(ctx, rootCred, "/a")
		require.NoError(t, err)
		create(t, f, rootCred, root, "end", 0o644)
		symlink(t, f, root, "l0", "end")
		for i := 1; i <= meta.MaxSymlinks; i++ {
			symlink(t, f, root, fmt.Sprintf("l%d", i), fmt.Sprintf("l%d", i-1))
		}
		_, err = f.Stat(ctx, rootCred, fmt.Sprintf("/l%d", meta.MaxSymlinks-1))
		require.NoError(t, err, "40 hops resolve")
		_, err = f.Stat(ctx, rootCred, fmt.Sprintf("/l%d", meta.MaxSymlinks))
		requirePathErr(t, err, syscall.ELOOP)
	}},
	testCase{name: "Stat/DotAndDotDot", fn: func(t *testing.T, f meta.FS) {
		b, err := f.MkdirAll(ctx, rootCred, "/a/b", 0o755)
		require.NoError(t, err)
		require.Equal(t, b.Ino, stat(t, f, "/a/./b/../b/.").Ino)
		require.Equal(t, uint64(root), stat(t, f, "/../../a/..").Ino)
		require.Equal(t, uint64(root), stat(t, f, "").Ino)
	}},
	testCase{name: "Stat/Errors", fn: func(t *testing.T, f meta.FS) {
		create(t, f, rootCred, root, "f", 0o644)
		symlink(t, f, root, "lf", "/f")
		for p, want := range map[string]syscall.Errno{
			"/missing": syscall.ENOENT, "/missing/x": syscall.ENOENT, "/f/x": syscall.ENOTDIR,
			"/f/..": syscall.ENOTDIR, "/f/.": syscall.ENOTDIR, "/f/": syscall.ENOTDIR, "/lf/": syscall.ENOTDIR,
		} {
			_, err := f.Stat(ctx, rootCred, p)
			requirePathErr(t, err, want)
			var pe *fs.PathError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, "stat", pe.Op)
			require.Equal(t, p, pe.Path)
		}
	}},
	testCase{name: "ResolveParent", fn: func(t *testing.T, f meta.FS) {
		b, err := f.MkdirAll(ctx, rootCred, "/a/b", 0o755)
		require.NoError(t, err)
		p, name, err := f.ResolveParent(ctx, rootCred, "/a/b/new")
		require.NoError(t, err)
		require.Equal(t, b.Ino, p)
		require.Equal(t, "new", name)
		create(t, f, rootCred, b.Ino, "f", 0o644)
		_, _, err = f.ResolveParent(ctx, rootCred, "/a/b/f/x")
		requirePathErr(t, err, syscall.ENOTDIR)
		_, _, err = f.ResolveParent(ctx, rootCred, "/missing/x")
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "MkdirAll", fn: func(t *testing.T, f meta.FS) {
		c, err := f.MkdirAll(ctx, rootCred, "/a/b/c", 0o750)
		require.NoError(t, err)
		require.True(t, c.IsDir())
		require.EqualValues(t, 0o750, c.Mode)
		again, err := f.MkdirAll(ctx, rootCred, "a//b/./c/", 0o755)
		require.NoError(t, err)
		require.Equal(t, c.Ino, again.Ino)
		symlink(t, f, root, "l", "/a/b")
		d, err := f.MkdirAll(ctx, rootCred, "/l/c/d", 0o755)
		require.NoError(t, err)
		require.Equal(t, d.Ino, stat(t, f, "/a/b/c/d").Ino)
		create(t, f, rootCred, root, "f", 0o644)
		_, err = f.MkdirAll(ctx, rootCred, "/f/x", 0o755)
		requirePathErr(t, err, syscall.ENOTDIR)
		_, err = f.MkdirAll(ctx, alice, "/a/new", 0o755)
		requirePathErr(t, err, syscall.EACCES)
	}},
	testCase{name: "Walk/LexicalOrderAndSkipDir", fn: func(t *testing.T, f meta.FS) {
		for _, p := range []string{"/w/b/x", "/w/a/y", "/w/c"} {
			_, err := f.MkdirAll(ctx, rootCred, p, 0o755)
			require.NoError(t, err)
		}
		b := stat(t, f, "/w/b")
		fl := create(t, f, rootCred, b.Ino, "file", 0o644)
		symlink(t, f, b.Ino, "loop", "/w")
		var seen []string
		attrs := map[string]meta.Attr{}
		err := f.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
			require.NoError(t, err)
			seen = append(seen, p)
			attrs[p] = a
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"/w", "/w/a", "/w/a/y", "/w/b", "/w/b/file", "/w/b/loop", "/w/b/x", "/w/c"}, seen)
		require.Equal(t, fl, attrs["/w/b/file"])
		require.Equal(t, inode.TypeSymlink, attrs["/w/b/loop"].Type, "symlinks are not followed")
		for _, skip := range []error{meta.SkipDir, fs.SkipDir} {
			seen = nil
			err = f.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
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
		err = f.Walk(ctx, rootCred, "/w", func(p string, a meta.Attr, err error) error {
			seen = append(seen, p)
			if p == "/w/a" {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, []string{"/w", "/w/a"}, seen)
	}},
	testCase{name: "Walk/Errors", fn: func(t *testing.T, f meta.FS) {
		called := 0
		err := f.Walk(ctx, rootCred, "/missing", func(p string, a meta.Attr, err error) error {
			called++
			requirePathErr(t, err, syscall.ENOENT)
			return err
		})
		requirePathErr(t, err, syscall.ENOENT)
		require.Equal(t, 1, called)
		d := mkdir(t, f, rootCred, root, "d", 0o711) // alice may search, not list
		create(t, f, rootCred, d.Ino, "f", 0o644)
		var failed []string
		err = f.Walk(ctx, alice, "/d", func(p string, a meta.Attr, err error) error {
			if err != nil {
				requirePathErr(t, err, syscall.EACCES)
				failed = append(failed, p)
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"/d"}, failed)
	}},
	testCase{name: "ReadDir/CursorPages", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		var want []string
		for i := range 10 {
			n := fmt.Sprintf("e%02d", i)
			want = append(want, n)
			create(t, f, rootCred, d.Ino, n, 0o644)
		}
		mkdir(t, f, rootCred, d.Ino, "sub", 0o755)
		want = append(want, "sub")
		var got []string
		cursor, pages := "", 0
		for {
			ents, next, err := f.ReadDir(ctx, rootCred, d.Ino, cursor, 3)
			require.NoError(t, err)
			require.LessOrEqual(t, len(ents), 3)
			for _, e := range ents {
				got = append(got, e.Name)
				wantType := inode.TypeFile
				if e.Name == "sub" {
					wantType = inode.TypeDir
				}
				require.Equal(t, wantType, e.Type)
				require.Equal(t, lookup(t, f, d.Ino, e.Name).Ino, e.Ino)
			}
			pages++
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, want, got, "no . or .., in name order, each once")
		require.GreaterOrEqual(t, pages, 4)
		ents, next, err := f.ReadDir(ctx, rootCred, d.Ino, "e08", 0)
		require.NoError(t, err)
		require.Equal(t, "", next)
		require.Equal(t, []string{"e09", "sub"}, []string{ents[0].Name, ents[1].Name})
		ents, next, err = f.ReadDir(ctx, rootCred, d.Ino, "zzz", 0)
		require.NoError(t, err)
		require.Empty(t, ents)
		require.Equal(t, "", next)
	}},
	testCase{name: "ReadDir/AllAcrossDefaultPages", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		const n = 1030 // more than the default page of 1024
		for i := range n {
			create(t, f, rootCred, d.Ino, fmt.Sprintf("f%04d", i), 0o644)
		}
		got := names(t, f, d.Ino)
		require.Len(t, got, n)
		require.Equal(t, "f0000", got[0])
		require.Equal(t, fmt.Sprintf("f%04d", n-1), got[n-1])
		require.EqualValues(t, n, getattr(t, f, d.Ino).Entries)
		ents, next, err := f.ReadDir(ctx, rootCred, d.Ino, "", 1<<20)
		require.NoError(t, err)
		require.NotEmpty(t, ents, "a huge limit still gets a page")
		if len(ents) < n {
			require.Equal(t, ents[len(ents)-1].Name, next)
		} else {
			require.Equal(t, "", next)
		}
	}},
	testCase{name: "ReadDir/Errors", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o711)
		fl := create(t, f, rootCred, root, "f", 0o644)
		_, _, err := f.ReadDir(ctx, alice, d.Ino, "", 0)
		requirePathErr(t, err, syscall.EACCES)
		_, _, err = f.ReadDir(ctx, rootCred, fl.Ino, "", 0)
		requirePathErr(t, err, syscall.ENOTDIR)
		_, _, err = f.ReadDir(ctx, rootCred, 424242, "", 0)
		requirePathErr(t, err, syscall.ENOENT)
		_, err = f.ReadDirAll(ctx, rootCred, 424242)
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Open/Permissions", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		_, err := f.Open(ctx, alice, fl.Ino, meta.OWrOnly)
		requirePathErr(t, err, syscall.EACCES)
		_, err = f.Open(ctx, alice, fl.Ino, meta.ORdWr)
		requirePathErr(t, err, syscall.EACCES)
		h, err := f.Open(ctx, alice, fl.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.NotZero(t, h.Session, "handles belong to a session")
		require.NoError(t, f.Close(ctx, h))
		_, err = f.Open(ctx, rootCred, root, meta.OWrOnly)
		requirePathErr(t, err, syscall.EISDIR)
		_, err = f.Open(ctx, rootCred, 424242, meta.ORdOnly)
		requirePathErr(t, err, syscall.ENOENT)
	}},
	testCase{name: "Check/CountsWhatExists", fn: func(t *testing.T, f meta.FS) {
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		fl := create(t, f, rootCred, d.Ino, "f", 0o644)
		_, err := f.Link(ctx, rootCred, fl.Ino, root, "g")
		require.NoError(t, err)
		rep := RequireClean(t, f)
		require.True(t, rep.OK())
		require.Equal(t, 3, rep.Inodes)
		require.Equal(t, 2, rep.Dirs)
		require.Equal(t, 3, rep.Entries)
	}},
)
