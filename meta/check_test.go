package meta_test

import (
	"context"
	"encoding/binary"
	"slices"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/dirent"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// Names of the directory counters under ("s", dir, field).
const (
	statEntries = "n"
	statSubdirs = "d"
)

// lockValue is a lock record: a write lock of bytes 0-5.
func lockValue(t *testing.T) []byte {
	b, err := msgpack.Marshal(map[string]any{"t": 2, "e": 5})
	require.NoError(t, err)
	return b
}

func le64(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// fixture is a small tree: /d (dir) holding /d/e (dir) and /d/f (file),
// /g a second name of /d/f, and /s a symlink.
type fixture struct {
	s       *meta.Store
	l       keys.Layout
	d, e, f uint64
}

func newFixture(t *testing.T) *fixture {
	s := openStore(t, nil, meta.Options{})
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	e := mkdir(t, s, rootCred, d.Ino, "e", 0o755)
	f := create(t, s, rootCred, d.Ino, "f", 0o644)
	_, err := s.Link(ctx, rootCred, f.Ino, root, "g")
	require.NoError(t, err)
	symlink(t, s, root, "s", "/d/f")
	requireClean(t, s)
	return &fixture{s: s, l: s.Layout(), d: d.Ino, e: e.Ino, f: f.Ino}
}

// write applies fn to the store's engine in one transaction, bypassing meta.
func (fx *fixture) write(t *testing.T, fn func(tx kv.ReadWriteTxn)) {
	t.Helper()
	require.NoError(t, kv.Update(ctx, fx.s.Engine(), func(_ context.Context, tx kv.ReadWriteTxn) error {
		fn(tx)
		return nil
	}))
}

func (fx *fixture) inode(t *testing.T, ino uint64) *inode.Inode {
	t.Helper()
	n, err := kv.ReadTransact(ctx, fx.s.Engine(), func(ctx context.Context, tx kv.ReadOnlyTxn) (*inode.Inode, error) {
		n, ok, err := inode.Load(ctx, tx, fx.l, ino, true)
		require.True(t, ok)
		return n, err
	})
	require.NoError(t, err)
	return n
}

// kinds returns the distinct problem kinds Check reports, and the inodes
// each names.
func kinds(t *testing.T, s *meta.Store) ([]string, map[string][]uint64) {
	t.Helper()
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	inos := map[string][]uint64{}
	var ks []string
	for _, p := range rep.Problems {
		if !slices.Contains(ks, p.Kind) {
			ks = append(ks, p.Kind)
		}
		inos[p.Kind] = append(inos[p.Kind], p.Ino)
	}
	slices.Sort(ks)
	return ks, inos
}

func TestCheck_CleanStoreReportsNothing(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	f := create(t, s, rootCred, d.Ino, "f", 0o644)
	_, err := s.Link(ctx, rootCred, f.Ino, root, "f2")
	require.NoError(t, err)
	symlink(t, s, d.Ino, "l", "../f2")
	_, err = s.Mknod(ctx, rootCred, root, "p", syscall.S_IFIFO|0o644, 0)
	require.NoError(t, err)
	open := create(t, s, rootCred, root, "open", 0o644)
	h, err := s.Open(ctx, rootCred, open.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.NoError(t, s.Unlink(ctx, rootCred, root, "open")) // queued, not orphaned
	rep := requireClean(t, s)
	require.Equal(t, 6, rep.Inodes) // root, d, f, l, p, open
	require.Equal(t, 2, rep.Dirs)
	require.Equal(t, 5, rep.Entries) // d, f, f2, l, p
	require.True(t, rep.OK())
	require.NoError(t, s.Close(ctx, h))
}

func TestCheck_ReportsEachKind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn)
		want    []string                 // exactly these kinds
		ino     func(fx *fixture) uint64 // the inode the first kind names
	}{
		{
			name: "entry to missing inode",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				dirent.Store(tx, fx.l, fx.d, []byte("ghost"), &dirent.Entry{Ino: 999_999, Type: inode.TypeFile})
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.d, statEntries), le64(1))
			},
			want: []string{meta.ProblemDangling},
			ino:  func(*fixture) uint64 { return 999_999 },
		},
		{
			name: "wrong nlink",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				n := fx.inode(t, fx.f)
				n.Nlink = 5
				inode.Store(tx, fx.l, n)
			},
			want: []string{meta.ProblemNlink},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "wrong directory parent pointer",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				n := fx.inode(t, fx.e)
				n.Parent = root
				inode.Store(tx, fx.l, n)
			},
			want: []string{meta.ProblemParent},
			ino:  func(fx *fixture) uint64 { return fx.e },
		},
		{
			name: "wrong directory name",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				n := fx.inode(t, fx.e)
				n.Name = []byte("other")
				inode.Store(tx, fx.l, n)
			},
			want: []string{meta.ProblemParent},
			ino:  func(fx *fixture) uint64 { return fx.e },
		},
		{
			// /d/e becomes the parent of /d: d -> e -> d, cut off from the root,
			// with consistent parent pointers and counters.
			name: "cycle",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				dirent.Delete(tx, fx.l, root, []byte("d"))
				dirent.Store(tx, fx.l, fx.e, []byte("d"), &dirent.Entry{Ino: fx.d, Type: inode.TypeDir})
				n := fx.inode(t, fx.d)
				n.Parent = fx.e
				inode.Store(tx, fx.l, n)
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(root, statEntries), le64(-1))
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(root, statSubdirs), le64(-1))
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.e, statEntries), le64(1))
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.e, statSubdirs), le64(1))
			},
			want: []string{meta.ProblemCycle},
			ino:  func(fx *fixture) uint64 { return fx.d },
		},
		{
			name: "orphan file",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				inode.Store(tx, fx.l, &inode.Inode{Ino: 777, Type: inode.TypeFile, Mode: 0o644})
			},
			want: []string{meta.ProblemOrphan},
			ino:  func(*fixture) uint64 { return 777 },
		},
		{
			name: "orphan directory",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				inode.Store(tx, fx.l, &inode.Inode{Ino: 778, Type: inode.TypeDir, Mode: 0o755, Nlink: 2, Parent: root, Name: []byte("x")})
			},
			want: []string{meta.ProblemOrphan},
			ino:  func(*fixture) uint64 { return 778 },
		},
		{
			name: "wrong entry counter",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.d, statEntries), le64(1))
			},
			want: []string{meta.ProblemStats},
			ino:  func(fx *fixture) uint64 { return fx.d },
		},
		{
			name: "wrong subdirectory counter",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(root, statSubdirs), le64(2))
			},
			want: []string{meta.ProblemStats},
			ino:  func(*fixture) uint64 { return root },
		},
		{
			name: "negative counter",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.e, statEntries), le64(-1))
			},
			want: []string{meta.ProblemMtimeNegative, meta.ProblemStats},
			ino:  func(fx *fixture) uint64 { return fx.e },
		},
		{
			name: "garbage inode record",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Inode(fx.f), []byte("\xc1garbage"))
			},
			// The entries naming it now dangle.
			want: []string{meta.ProblemCorrupt, meta.ProblemDangling},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "inode record with trailing bytes",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Inode(fx.f), append(inode.Encode(fx.inode(t, fx.f)), 0x01, 0x02))
			},
			want: []string{meta.ProblemCorrupt, meta.ProblemDangling},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "empty inode record",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Inode(fx.f), nil)
			},
			want: []string{meta.ProblemCorrupt, meta.ProblemDangling},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "garbage entry record",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Dirent(root, []byte("g")), []byte{0x93, 0x01})
			},
			// f loses a name: its nlink and root's counter are off.
			want: []string{meta.ProblemCorrupt, meta.ProblemNlink, meta.ProblemStats},
			ino:  func(*fixture) uint64 { return root },
		},
		{
			name: "garbage key",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(append(fx.l.Root().Bytes(), 0x99, 0x42), []byte("x"))
			},
			want: []string{meta.ProblemCorrupt},
			ino:  func(*fixture) uint64 { return 0 },
		},
		{
			name: "entry type differs from inode",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				dirent.Store(tx, fx.l, root, []byte("s"), &dirent.Entry{Ino: fx.f, Type: inode.TypeFile})
				dirent.Store(tx, fx.l, root, []byte("g"), &dirent.Entry{Ino: fx.f, Type: inode.TypeSymlink})
			},
			// s's symlink is orphaned and f gains a name.
			want: []string{meta.ProblemTypeMismatch, meta.ProblemNlink, meta.ProblemOrphan},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "entry under a file",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				dirent.Store(tx, fx.l, fx.f, []byte("x"), &dirent.Entry{Ino: fx.f, Type: inode.TypeFile})
			},
			want: []string{meta.ProblemNotDir},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "directory with two names",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				dirent.Store(tx, fx.l, root, []byte("e2"), &dirent.Entry{Ino: fx.e, Type: inode.TypeDir})
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(root, statEntries), le64(1))
				tx.Atomic(kv.AtomicAdd, fx.l.Stat(root, statSubdirs), le64(1))
			},
			want: []string{meta.ProblemDirLinks},
			ino:  func(fx *fixture) uint64 { return fx.e },
		},
		{
			name: "queued delete of a linked file",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Deferred(fx.f), nil)
			},
			want: []string{meta.ProblemDeferred},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "handle of a missing inode",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Handle(555, 1), le64(1))
			},
			want: []string{meta.ProblemStaleHandles},
			ino:  func(*fixture) uint64 { return 555 },
		},
		{
			name: "xattrs of a missing inode",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Xattr(557, []byte("user.a")), []byte("v"))
			},
			want: []string{meta.ProblemStaleXattrs},
			ino:  func(*fixture) uint64 { return 557 },
		},
		{
			name: "locks of a missing inode",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Lock(558, "p", 99, 1, 0), lockValue(t))
				tx.Set(fx.l.Lock(558, "f", 99, 1, 1), lockValue(t))
			},
			want: []string{meta.ProblemStaleLocks},
			ino:  func(*fixture) uint64 { return 558 },
		},
		{
			name: "handle and lock of a session with no record",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Handle(fx.f, 7), le64(99))
				tx.Set(fx.l.Lock(fx.f, "p", 99, 1, 0), lockValue(t))
			},
			want: []string{meta.ProblemOrphanHandle, meta.ProblemOrphanLock},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "lock missing from its session's index",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				se, err := fx.s.NewSession(ctx, meta.SessionOptions{NoRenew: true})
				require.NoError(t, err)
				tx.Set(fx.l.Lock(fx.f, "f", se.ID(), 1, 1), lockValue(t))
			},
			want: []string{meta.ProblemUnindexed},
			ino:  func(fx *fixture) uint64 { return fx.f },
		},
		{
			name: "index entries of a session with no record",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.SessionLocks(99, "p", fx.f), nil)
				tx.Set(fx.l.SessionHandle(99, fx.f, 3), nil)
			},
			want: []string{meta.ProblemSessionLeft},
			ino:  func(*fixture) uint64 { return 0 },
		},
		{
			name: "counters of a missing directory",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				tx.Set(fx.l.Stat(556, statEntries), le64(0))
			},
			want: []string{meta.ProblemStaleStats},
			ino:  func(*fixture) uint64 { return 556 },
		},
		{
			// A directory hanging under an orphan directory is unreachable
			// but not in a cycle.
			name: "unreachable directory",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				inode.Store(tx, fx.l, &inode.Inode{Ino: 800, Type: inode.TypeDir, Mode: 0o755, Nlink: 2, Parent: root, Name: []byte("lost")})
				inode.Store(tx, fx.l, &inode.Inode{Ino: 801, Type: inode.TypeDir, Mode: 0o755, Nlink: 2, Parent: 800, Name: []byte("sub")})
				dirent.Store(tx, fx.l, 800, []byte("sub"), &dirent.Entry{Ino: 801, Type: inode.TypeDir})
				tx.Set(fx.l.Stat(800, statEntries), le64(1))
				tx.Set(fx.l.Stat(800, statSubdirs), le64(1))
			},
			want: []string{meta.ProblemOrphan, meta.ProblemUnreachable},
			ino:  func(*fixture) uint64 { return 800 },
		},
		{
			name: "root missing",
			corrupt: func(t *testing.T, fx *fixture, tx kv.ReadWriteTxn) {
				inode.Delete(tx, fx.l, root)
			},
			// Everything under it falls apart with it.
			want: []string{meta.ProblemRootMissing, meta.ProblemNotDir, meta.ProblemStaleStats, meta.ProblemOrphan,
				meta.ProblemUnreachable, meta.ProblemNlink},
			ino: func(*fixture) uint64 { return root },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.write(t, func(tx kv.ReadWriteTxn) { tc.corrupt(t, fx, tx) })
			got, inos := kinds(t, fx.s)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			require.Equal(t, want, got)
			require.Contains(t, inos[tc.want[0]], tc.ino(fx))
		})
	}
}

// RemoveAll over an entry whose inode is missing stops with EIO instead of
// retrying the entry for ever.
func TestRemoveAll_DanglingEntryIsEIO(t *testing.T) {
	fx := newFixture(t)
	fx.write(t, func(tx kv.ReadWriteTxn) {
		dirent.Store(tx, fx.l, fx.d, []byte("ghost"), &dirent.Entry{Ino: 999_999, Type: inode.TypeFile})
		tx.Atomic(kv.AtomicAdd, fx.l.Stat(fx.d, statEntries), le64(1))
	})
	requirePathErr(t, fx.s.RemoveAll(ctx, rootCred, "/d"), syscall.EIO)
	require.Equal(t, []string{"ghost"}, names(t, fx.s, fx.d), "the rest went")
	got, _ := kinds(t, fx.s)
	require.Equal(t, []string{meta.ProblemDangling}, got)
}
