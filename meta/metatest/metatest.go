// Package metatest is the conformance suite of meta.FS: one function, Run,
// that puts an implementation through every operation and its POSIX
// errors, by inode and by path. *meta.Store runs it in process
// (store_test.go, over memkv, or over the custom KV server with
// FSMETA_ENGINE=custom) and the meta server's client runs it over gRPC
// (package metarpc/client), so both meet one contract.
//
// Each subtest gets a fresh, empty filesystem from open and, in a cleanup,
// requires Check to find it consistent. Errors are checked with errors.Is
// and meta.Errno, and by type (*fs.PathError, *os.LinkError). Times are
// checked by relation (a create sets the parent's mtime to the child's),
// never against a clock, so the suite runs unchanged over a remote store.
package metatest

import (
	"context"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// Opener returns a fresh, empty filesystem for one test and registers its
// own cleanup (closing it) on t.
type Opener func(t testing.TB) meta.FS

type testCase struct {
	name string
	fn   func(t *testing.T, f meta.FS)
	// noCheck skips the final Check (the case shuts the FS down).
	noCheck bool
}

var cases []testCase

func register(cs ...testCase) bool {
	cases = append(cases, cs...)
	return true
}

// Run runs the suite against the filesystems open returns, one per
// subtest.
func Run(t *testing.T, open Opener) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t)
			if !tc.noCheck {
				t.Cleanup(func() { RequireClean(t, f) })
			}
			tc.fn(t, f)
		})
	}
}

var ctx = context.Background()

const root = inode.RootIno

// Credentials used where permissions matter.
var (
	rootCred = meta.RootCred()
	alice    = meta.Cred{Uid: 1000, Gid: 1000}
	bob      = meta.Cred{Uid: 1001, Gid: 1001}
	carol    = meta.Cred{Uid: 1002, Gid: 1002}
)

// RequireClean fails tb unless f.Check reports no problem.
func RequireClean(tb testing.TB, f meta.FS) *meta.Report {
	tb.Helper()
	rep, err := f.Check(context.Background())
	require.NoError(tb, err)
	require.Empty(tb, rep.Problems, "fsck problems")
	return rep
}

func mkdir(tb testing.TB, f meta.FS, c meta.Cred, parent uint64, name string, mode uint32) meta.Attr {
	tb.Helper()
	a, err := f.Mkdir(ctx, c, parent, name, mode)
	require.NoError(tb, err)
	return a
}

func create(tb testing.TB, f meta.FS, c meta.Cred, parent uint64, name string, mode uint32) meta.Attr {
	tb.Helper()
	a, err := f.Create(ctx, c, parent, name, mode, true)
	require.NoError(tb, err)
	return a
}

func symlink(tb testing.TB, f meta.FS, parent uint64, name, target string) meta.Attr {
	tb.Helper()
	a, err := f.Symlink(ctx, rootCred, parent, name, target)
	require.NoError(tb, err)
	return a
}

func getattr(tb testing.TB, f meta.FS, ino uint64) meta.Attr {
	tb.Helper()
	a, err := f.GetAttr(ctx, rootCred, ino)
	require.NoError(tb, err)
	return a
}

func lookup(tb testing.TB, f meta.FS, parent uint64, name string) meta.Attr {
	tb.Helper()
	a, err := f.Lookup(ctx, rootCred, parent, name)
	require.NoError(tb, err)
	return a
}

func stat(tb testing.TB, f meta.FS, p string) meta.Attr {
	tb.Helper()
	a, err := f.Stat(ctx, rootCred, p)
	require.NoError(tb, err, p)
	return a
}

func rename(tb testing.TB, f meta.FS, c meta.Cred, sp uint64, sn string, dp uint64, dn string, flags meta.RenameFlags) {
	tb.Helper()
	require.NoError(tb, f.Rename(ctx, c, sp, sn, dp, dn, flags))
}

// names lists the entries of dir.
func names(tb testing.TB, f meta.FS, dir uint64) []string {
	tb.Helper()
	ents, err := f.ReadDirAll(ctx, rootCred, dir)
	require.NoError(tb, err)
	out := []string{}
	for _, e := range ents {
		out = append(out, e.Name)
	}
	return out
}

// chmod sets the permission bits of ino as root.
func chmod(tb testing.TB, f meta.FS, ino uint64, mode uint32) {
	tb.Helper()
	_, err := f.SetAttr(ctx, rootCred, ino, meta.SetAttr{Mode: &mode})
	require.NoError(tb, err)
}

// home makes a directory in the root owned by c, mode 0755.
func home(tb testing.TB, f meta.FS, c meta.Cred) uint64 {
	tb.Helper()
	d := mkdir(tb, f, rootCred, root, "home-"+strconv.Itoa(int(c.Uid)), 0o755)
	_, err := f.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Uid: &c.Uid, Gid: &c.Gid})
	require.NoError(tb, err)
	return d.Ino
}

// requirePathErr checks that err is a *fs.PathError wrapping want.
func requirePathErr(tb testing.TB, err error, want syscall.Errno) {
	tb.Helper()
	require.ErrorIs(tb, err, want)
	require.Equal(tb, want, meta.Errno(err), "errno of %v", err)
	require.IsType(tb, &fs.PathError{}, err)
}

// requireLinkErr checks that err is an *os.LinkError wrapping want.
func requireLinkErr(tb testing.TB, err error, want syscall.Errno) {
	tb.Helper()
	require.ErrorIs(tb, err, want)
	require.Equal(tb, want, meta.Errno(err), "errno of %v", err)
	require.IsType(tb, &os.LinkError{}, err)
}

func requireOpErr(tb testing.TB, err error, link bool, want syscall.Errno) {
	tb.Helper()
	if link {
		requireLinkErr(tb, err, want)
	} else {
		requirePathErr(tb, err, want)
	}
}

// requireGone checks that ino no longer exists.
func requireGone(tb testing.TB, f meta.FS, ino uint64) {
	tb.Helper()
	_, err := f.GetAttr(ctx, rootCred, ino)
	requirePathErr(tb, err, syscall.ENOENT)
}

func ptr[T any](v T) *T { return &v }

// makeOps make the entry name in parent as c, each in its own way; link
// links to target. The bool reports an *os.LinkError.
func makeOps(f meta.FS, target uint64) map[string]func(c meta.Cred, parent uint64, name string) (error, bool) {
	return map[string]func(meta.Cred, uint64, string) (error, bool){
		"create": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := f.Create(ctx, c, p, n, 0o644, true)
			return err, false
		},
		"mkdir": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := f.Mkdir(ctx, c, p, n, 0o755)
			return err, false
		},
		"mknod": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := f.Mknod(ctx, c, p, n, syscall.S_IFIFO|0o644, 0)
			return err, false
		},
		"symlink": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := f.Symlink(ctx, c, p, n, "t")
			return err, false
		},
		"link": func(c meta.Cred, p uint64, n string) (error, bool) {
			_, err := f.Link(ctx, c, target, p, n)
			return err, true
		},
	}
}
