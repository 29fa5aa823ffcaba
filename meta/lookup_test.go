package meta_test

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLookup_DotIsTheDirectory(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	require.Equal(t, d.Ino, lookup(t, s, d.Ino, ".").Ino)
	require.Equal(t, uint64(root), lookup(t, s, root, ".").Ino)
}

func TestLookup_DotDotIsTheParent(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	e := mkdir(t, s, rootCred, d.Ino, "e", 0o755)
	require.Equal(t, d.Ino, lookup(t, s, e.Ino, "..").Ino)
	require.Equal(t, uint64(root), lookup(t, s, d.Ino, "..").Ino)
}

func TestLookup_DotDotOfRootIsRoot(t *testing.T) {
	s := newStore(t)
	a := lookup(t, s, root, "..")
	require.Equal(t, uint64(root), a.Ino)
	require.True(t, a.IsDir())
}

func TestLookup_UnderFile_ENOTDIR(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	for _, name := range []string{"x", ".", ".."} {
		_, err := s.Lookup(ctx, rootCred, f.Ino, name)
		requirePathErr(t, err, syscall.ENOTDIR)
	}
}

func TestLookup_Missing_ENOENT(t *testing.T) {
	s := newStore(t)
	_, err := s.Lookup(ctx, rootCred, root, "missing")
	requirePathErr(t, err, syscall.ENOENT)
	require.True(t, errors.Is(err, fs.ErrNotExist))
	_, err = s.Lookup(ctx, rootCred, 424242, "x") // a missing directory
	requirePathErr(t, err, syscall.ENOENT)
}

func TestLookup_WithoutSearchPermission_EACCES(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	d := mkdir(t, s, alice, h, "d", 0o755)
	create(t, s, alice, d.Ino, "f", 0o644)
	chmod(t, s, d.Ino, 0o644) // rw, no x
	_, err := s.Lookup(ctx, alice, d.Ino, "f")
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.Stat(ctx, alice, "/home-1000/d/f")
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.Lookup(ctx, rootCred, d.Ino, "f") // root bypasses
	require.NoError(t, err)
}
