package meta_test

import (
	"context"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

const root = inode.RootIno

// Credentials used where permissions matter.
var (
	rootCred = meta.RootCred()
	alice    = meta.Cred{Uid: 1000, Gid: 1000}
	bob      = meta.Cred{Uid: 1001, Gid: 1001}
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newStore returns a store on a fresh memkv engine whose cleanup fails the
// test unless Check finds the store consistent.
func newStore(tb testing.TB) *meta.Store {
	tb.Helper()
	return newStoreWith(tb, nil, meta.Options{})
}

// newStoreWith is newStore on db (nil: a fresh memkv engine) with opts.
func newStoreWith(tb testing.TB, db kv.Engine, opts meta.Options) *meta.Store {
	tb.Helper()
	s := openStore(tb, db, opts)
	tb.Cleanup(func() { requireClean(tb, s) })
	return s
}

// openStore opens a store without the cleanup check, for tests that
// corrupt it on purpose.
func openStore(tb testing.TB, db kv.Engine, opts meta.Options) *meta.Store {
	tb.Helper()
	if db == nil {
		e := memkv.New(memkv.Options{})
		tb.Cleanup(func() { _ = e.Close() })
		db = e
	}
	s, err := meta.Open(context.Background(), db, opts)
	require.NoError(tb, err)
	return s
}

// requireClean fails unless Check reports no problem.
func requireClean(tb testing.TB, s *meta.Store) *meta.Report {
	tb.Helper()
	rep, err := s.Check(context.Background())
	require.NoError(tb, err)
	require.Empty(tb, rep.Problems, "fsck problems")
	return rep
}

func mkdir(tb testing.TB, s *meta.Store, c meta.Cred, parent uint64, name string, mode uint32) meta.Attr {
	tb.Helper()
	a, err := s.Mkdir(ctx, c, parent, name, mode)
	require.NoError(tb, err)
	return a
}

func create(tb testing.TB, s *meta.Store, c meta.Cred, parent uint64, name string, mode uint32) meta.Attr {
	tb.Helper()
	a, err := s.Create(ctx, c, parent, name, mode, true)
	require.NoError(tb, err)
	return a
}

func getattr(tb testing.TB, s *meta.Store, ino uint64) meta.Attr {
	tb.Helper()
	a, err := s.GetAttr(ctx, rootCred, ino)
	require.NoError(tb, err)
	return a
}

func lookup(tb testing.TB, s *meta.Store, parent uint64, name string) meta.Attr {
	tb.Helper()
	a, err := s.Lookup(ctx, rootCred, parent, name)
	require.NoError(tb, err)
	return a
}

// names lists the entries of dir.
func names(tb testing.TB, s *meta.Store, dir uint64) []string {
	tb.Helper()
	ents, err := s.ReadDirAll(ctx, rootCred, dir)
	require.NoError(tb, err)
	out := []string{}
	for _, e := range ents {
		out = append(out, e.Name)
	}
	return out
}

// chmod sets the permission bits of ino as root.
func chmod(tb testing.TB, s *meta.Store, ino uint64, mode uint32) {
	tb.Helper()
	_, err := s.SetAttr(ctx, rootCred, ino, meta.SetAttr{Mode: &mode})
	require.NoError(tb, err)
}

// requirePathErr checks that err is a *fs.PathError wrapping want.
func requirePathErr(tb testing.TB, err error, want syscall.Errno) {
	tb.Helper()
	require.ErrorIs(tb, err, want)
	require.IsType(tb, &fs.PathError{}, err)
}

// requireLinkErr checks that err is an *os.LinkError wrapping want.
func requireLinkErr(tb testing.TB, err error, want syscall.Errno) {
	tb.Helper()
	require.ErrorIs(tb, err, want)
	require.IsType(tb, &os.LinkError{}, err)
}

// requireGone checks that ino no longer exists.
func requireGone(tb testing.TB, s *meta.Store, ino uint64) {
	tb.Helper()
	_, err := s.GetAttr(ctx, rootCred, ino)
	requirePathErr(tb, err, syscall.ENOENT)
}

func ptr[T any](v T) *T { return &v }

// home makes a directory in the root owned by c, mode 0755, for tests that
// run as a user.
func home(tb testing.TB, s *meta.Store, c meta.Cred) uint64 {
	tb.Helper()
	d := mkdir(tb, s, rootCred, root, "home-"+strconv.Itoa(int(c.Uid)), 0o755)
	_, err := s.SetAttr(ctx, rootCred, d.Ino, meta.SetAttr{Uid: &c.Uid, Gid: &c.Gid})
	require.NoError(tb, err)
	return d.Ino
}

func strconvI(i int) string { return strconv.Itoa(i) }
