package meta_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// recDB records, while on, every read of every transaction with whether it
// was a snapshot read, and keeps every slice handed to the engine with a
// copy, to check later that meta did not change it after the call.
type recDB struct {
	kv.Engine
	mu     sync.Mutex
	on     bool
	l      keys.Layout
	snap   map[string]bool
	conf   map[string]bool
	passed []passedSlice
	// before, when set, runs once just before the next commit; conflicts
	// counts the commits that failed with a conflict.
	before    func()
	conflicts int
}

type passedSlice struct {
	what      string
	s, copied []byte
}

func newRecDB(tb testing.TB) *recDB {
	e := memkv.New(memkv.Options{})
	tb.Cleanup(func() { _ = e.Close() })
	return &recDB{Engine: e}
}

// start clears the record and starts recording.
func (r *recDB) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.snap, r.conf, r.passed = true, map[string]bool{}, map[string]bool{}, nil
}

// stop stops recording and returns the snapshot and conflicting reads of
// the namespace families (inodes, entries, stats, handles), sorted.
func (r *recDB) stop(tb testing.TB) (snap, conf []string) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	for _, p := range r.passed {
		if !bytes.Equal(p.s, p.copied) {
			tb.Errorf("a %s slice changed after the call: %x, passed as %x", p.what, p.s, p.copied)
		}
	}
	list := func(m map[string]bool) []string {
		out := []string{}
		for k := range m {
			f := strings.TrimPrefix(k, "range ")
			if strings.HasPrefix(f, "i/") || strings.HasPrefix(f, "d/") || strings.HasPrefix(f, "s/") || strings.HasPrefix(f, "o/") {
				out = append(out, k)
			}
		}
		sort.Strings(out)
		return out
	}
	return list(r.snap), list(r.conf)
}

// name describes key k as family/elements ("d/5/name"); a stat key loses
// its field ("s/5"), so the four counters of a directory are one read.
func (r *recDB) name(k []byte) string {
	t, err := r.l.Root().Unpack(k)
	if err != nil || len(t) == 0 {
		return fmt.Sprintf("raw %x", k)
	}
	if t[0] == "s" && len(t) == 3 {
		t = t[:2]
	}
	parts := make([]string, len(t))
	for i, e := range t {
		if b, ok := e.([]byte); ok {
			parts[i] = string(b)
		} else {
			parts[i] = fmt.Sprint(e)
		}
	}
	return strings.Join(parts, "/")
}

func (r *recDB) read(k []byte, snapshot bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	r.passed = append(r.passed, passedSlice{"read key", k, bytes.Clone(k)})
	if snapshot {
		r.snap[r.name(k)] = true
	} else {
		r.conf[r.name(k)] = true
	}
}

// readRange records a range read by its begin key (a subspace's
// prefix + 0x00): "range o/5" is a read of the handles of inode 5.
func (r *recDB) readRange(b kv.KeySelector, snapshot bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	r.passed = append(r.passed, passedSlice{"range key", b.Key, bytes.Clone(b.Key)})
	k := b.Key
	if len(k) > 0 && k[len(k)-1] == 0 {
		k = k[:len(k)-1]
	}
	n := "range " + r.name(k)
	if snapshot {
		r.snap[n] = true
	} else {
		r.conf[n] = true
	}
}

func (r *recDB) wrote(what string, s ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	for _, b := range s {
		r.passed = append(r.passed, passedSlice{what, b, bytes.Clone(b)})
	}
}

func (r *recDB) NewReadOnly() kv.ReadOnlyTxn {
	return &recRO{ReadOnlyTxn: r.Engine.NewReadOnly(), r: r}
}

func (r *recDB) NewReadWrite() kv.ReadWriteTxn {
	inner := r.Engine.NewReadWrite()
	return &recRW{ReadWriteTxn: inner, ro: recRO{ReadOnlyTxn: inner, r: r}, r: r}
}

type recRO struct {
	kv.ReadOnlyTxn
	r *recDB
}

func (t *recRO) Get(ctx context.Context, k []byte) ([]byte, bool, error) {
	t.r.read(k, false)
	return t.ReadOnlyTxn.Get(ctx, k)
}

func (t *recRO) SnapshotGet(ctx context.Context, k []byte) ([]byte, bool, error) {
	t.r.read(k, true)
	return t.ReadOnlyTxn.SnapshotGet(ctx, k)
}

func (t *recRO) GetRange(ctx context.Context, b, e kv.KeySelector, limit int) (kv.RangeResult, error) {
	t.r.readRange(b, false)
	return t.ReadOnlyTxn.GetRange(ctx, b, e, limit)
}

func (t *recRO) SnapshotGetRange(ctx context.Context, b, e kv.KeySelector, limit int) (kv.RangeResult, error) {
	t.r.readRange(b, true)
	return t.ReadOnlyTxn.SnapshotGetRange(ctx, b, e, limit)
}

// GetMany keeps the engine's batched path (kv.BatchGetter).
func (t *recRO) GetMany(ctx context.Context, ks [][]byte) ([]kv.Lookup, error) {
	for _, k := range ks {
		t.r.read(k, false)
	}
	return kv.GetMany(ctx, t.ReadOnlyTxn, false, ks...)
}

func (t *recRO) SnapshotGetMany(ctx context.Context, ks [][]byte) ([]kv.Lookup, error) {
	for _, k := range ks {
		t.r.read(k, true)
	}
	return kv.GetMany(ctx, t.ReadOnlyTxn, true, ks...)
}

type recRW struct {
	kv.ReadWriteTxn
	ro recRO
	r  *recDB
}

func (t *recRW) Get(ctx context.Context, k []byte) ([]byte, bool, error) { return t.ro.Get(ctx, k) }
func (t *recRW) SnapshotGet(ctx context.Context, k []byte) ([]byte, bool, error) {
	return t.ro.SnapshotGet(ctx, k)
}
func (t *recRW) GetRange(ctx context.Context, b, e kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.ro.GetRange(ctx, b, e, limit)
}
func (t *recRW) SnapshotGetRange(ctx context.Context, b, e kv.KeySelector, limit int) (kv.RangeResult, error) {
	return t.ro.SnapshotGetRange(ctx, b, e, limit)
}
func (t *recRW) GetMany(ctx context.Context, ks [][]byte) ([]kv.Lookup, error) {
	return t.ro.GetMany(ctx, ks)
}
func (t *recRW) SnapshotGetMany(ctx context.Context, ks [][]byte) ([]kv.Lookup, error) {
	return t.ro.SnapshotGetMany(ctx, ks)
}
func (t *recRW) Set(k, v []byte) { t.r.wrote("Set", k, v); t.ReadWriteTxn.Set(k, v) }
func (t *recRW) Clear(k []byte)  { t.r.wrote("Clear", k); t.ReadWriteTxn.Clear(k) }
func (t *recRW) ClearRange(b, e []byte) {
	t.r.wrote("ClearRange", b, e)
	t.ReadWriteTxn.ClearRange(b, e)
}
func (t *recRW) Commit(ctx context.Context) error {
	t.r.mu.Lock()
	f := t.r.before
	t.r.before = nil
	t.r.mu.Unlock()
	if f != nil {
		f()
	}
	err := t.ReadWriteTxn.Commit(ctx)
	if errors.Is(err, kv.ErrConflict) {
		t.r.mu.Lock()
		t.r.conflicts++
		t.r.mu.Unlock()
	}
	return err
}

func (t *recRW) Atomic(op kv.AtomicOp, k, p []byte) {
	t.r.wrote("Atomic", k, p)
	t.ReadWriteTxn.Atomic(op, k, p)
}

// Every operation reads, with and without conflicts, exactly what it read
// before the batched rewrite (derived read by read from 45263fc^): the
// batches must not turn a snapshot read into a conflicting one or back,
// nor add or drop a conflicting read. Keys and values handed to the engine
// are never changed afterwards.
func TestReview3_ReadSetsAndConflictFlags(t *testing.T) {
	db := newRecDB(t)
	s := newStoreWith(t, db, meta.Options{})
	db.l = s.Layout()
	a := mkdir(t, s, rootCred, root, "A", 0o755)
	b := mkdir(t, s, rootCred, root, "B", 0o755)
	c := mkdir(t, s, rootCred, b.Ino, "C", 0o755)
	sub := mkdir(t, s, rootCred, a.Ino, "sub", 0o755)
	f := create(t, s, rootCred, a.Ino, "f", 0o644)
	g := create(t, s, rootCred, b.Ino, "g", 0o644)
	x := create(t, s, rootCred, a.Ino, "x", 0o644)
	gone := create(t, s, rootCred, a.Ino, "gone", 0o644)
	i := func(ino uint64) string { return fmt.Sprintf("i/%d", ino) }
	d := func(p uint64, n string) string { return fmt.Sprintf("d/%d/%s", p, n) }
	st := func(ino uint64) string { return fmt.Sprintf("s/%d", ino) }
	rg := func(fam string, ino uint64) string { return fmt.Sprintf("range %s/%d", fam, ino) }
	type reads struct{ snap, conf []string }
	check := func(what string, want reads, op func() error) {
		t.Helper()
		db.start()
		err := op()
		snap, conf := db.stop(t)
		require.NoError(t, err, what)
		sort.Strings(want.snap)
		sort.Strings(want.conf)
		if want.snap == nil {
			want.snap = []string{}
		}
		if want.conf == nil {
			want.conf = []string{}
		}
		require.Equal(t, want.snap, snap, "%s: snapshot reads", what)
		require.Equal(t, want.conf, conf, "%s: conflicting reads", what)
	}

	check("lookup of a file", reads{snap: []string{i(a.Ino), d(a.Ino, "f"), i(f.Ino)}}, func() error {
		_, err := s.Lookup(ctx, rootCred, a.Ino, "f")
		return err
	})
	check("lookup of a directory", reads{snap: []string{i(a.Ino), d(a.Ino, "sub"), i(sub.Ino), st(sub.Ino)}}, func() error {
		_, err := s.Lookup(ctx, alice, a.Ino, "sub")
		return err
	})
	check("lookup of ..", reads{snap: []string{i(a.Ino), i(root), st(root)}}, func() error {
		_, err := s.Lookup(ctx, rootCred, a.Ino, "..")
		return err
	})
	check("stat of a path", reads{snap: []string{i(root), d(root, "A"), i(a.Ino), d(a.Ino, "sub"), i(sub.Ino), st(sub.Ino)}}, func() error {
		_, err := s.Stat(ctx, alice, "/A/sub")
		return err
	})
	check("getattr of a directory", reads{snap: []string{i(a.Ino), st(a.Ino)}}, func() error {
		_, err := s.GetAttr(ctx, rootCred, a.Ino)
		return err
	})
	check("readdir", reads{snap: []string{i(a.Ino), rg("d", a.Ino)}}, func() error {
		_, _, err := s.ReadDir(ctx, rootCred, a.Ino, "", 0)
		return err
	})
	check("readlink", reads{snap: []string{i(f.Ino)}}, func() error {
		_, err := s.Readlink(ctx, rootCred, f.Ino)
		if err == nil || !strings.Contains(err.Error(), "invalid argument") {
			return fmt.Errorf("readlink of a file: %v", err)
		}
		return nil
	})
	var created meta.Attr
	db.start()
	created, err := s.Create(ctx, rootCred, a.Ino, "new", 0o644, true)
	snap, conf := db.stop(t)
	require.NoError(t, err)
	require.Equal(t, []string{}, snap, "create: snapshot reads")
	require.Equal(t, []string{d(a.Ino, "new"), i(a.Ino), i(created.Ino)}, conf, "create: conflicting reads")

	// O_CREAT of an existing file: the id allocated for it is not known
	// outside, so it is the one conflicting inode read left over.
	db.start()
	_, err = s.Create(ctx, rootCred, a.Ino, "f", 0o644, false)
	snap, conf = db.stop(t)
	require.NoError(t, err)
	require.Equal(t, []string{i(f.Ino)}, snap, "O_CREAT of an existing file: snapshot reads")
	require.Len(t, conf, 3, "O_CREAT of an existing file: conflicting reads %v", conf)
	require.Contains(t, conf, i(a.Ino))
	require.Contains(t, conf, d(a.Ino, "f"))
	require.NotContains(t, conf, i(f.Ino))
	check("setattr of a file", reads{conf: []string{i(f.Ino)}}, func() error {
		_, err := s.SetAttr(ctx, rootCred, f.Ino, meta.SetAttr{Mode: ptr(uint32(0o600))})
		return err
	})
	check("setattr of a directory", reads{conf: []string{i(sub.Ino)}, snap: []string{st(sub.Ino)}}, func() error {
		_, err := s.SetAttr(ctx, rootCred, sub.Ino, meta.SetAttr{Mode: ptr(uint32(0o750))})
		return err
	})
	check("link", reads{conf: []string{i(g.Ino), i(a.Ino), d(a.Ino, "l")}}, func() error {
		_, err := s.Link(ctx, rootCred, g.Ino, a.Ino, "l")
		return err
	})
	check("unlink of a last link", reads{conf: []string{i(a.Ino), d(a.Ino, "gone"), i(gone.Ino), rg("o", gone.Ino)}}, func() error {
		return s.Unlink(ctx, rootCred, a.Ino, "gone")
	})
	check("unlink of one of two links", reads{conf: []string{i(a.Ino), d(a.Ino, "l"), i(g.Ino)}}, func() error {
		return s.Unlink(ctx, rootCred, a.Ino, "l")
	})
	check("rename of a file over a file", reads{conf: []string{i(b.Ino), i(a.Ino), d(b.Ino, "g"), d(a.Ino, "x"), i(g.Ino), i(x.Ino), rg("o", x.Ino)}}, func() error {
		return s.Rename(ctx, rootCred, b.Ino, "g", a.Ino, "x", 0)
	})
	check("rename of a directory into a deeper one", reads{conf: []string{i(a.Ino), i(c.Ino), d(a.Ino, "sub"), d(c.Ino, "sub2"), i(sub.Ino), i(b.Ino)}}, func() error {
		return s.Rename(ctx, rootCred, a.Ino, "sub", c.Ino, "sub2", 0)
	})
	check("rename within a directory", reads{conf: []string{i(a.Ino), d(a.Ino, "f"), d(a.Ino, "f2"), i(f.Ino)}}, func() error {
		return s.Rename(ctx, rootCred, a.Ino, "f", a.Ino, "f2", 0)
	})
	// The directory target moves to A: A's ancestors (A, then the root)
	// are walked.
	check("exchange", reads{conf: []string{i(a.Ino), i(c.Ino), d(a.Ino, "f2"), d(c.Ino, "sub2"), i(f.Ino), i(sub.Ino)}}, func() error {
		return s.Rename(ctx, rootCred, a.Ino, "f2", c.Ino, "sub2", meta.RenameExchange)
	})
	check("rmdir", reads{conf: []string{i(a.Ino), d(a.Ino, "f2"), i(sub.Ino), rg("d", sub.Ino)}}, func() error {
		return s.Rmdir(ctx, rootCred, a.Ino, "f2")
	})
}

// When several errors apply, the one Linux's order picks still wins after
// the reads were batched: the parents (existence, type, search
// permission) before the names, the source before the target, a name
// before write permission.
func TestReview3_ErrorPrecedence(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	f := create(t, s, alice, h, "file", 0o644)
	closed := mkdir(t, s, rootCred, h, "closed", 0o700) // alice cannot search it
	ro := mkdir(t, s, alice, h, "ro", 0o555)            // alice cannot write it
	create(t, s, rootCred, ro.Ino, "inro", 0o644)
	create(t, s, rootCred, closed.Ino, "inclosed", 0o644)
	const missing = 1 << 50

	// Rename.
	requireLinkErr(t, s.Rename(ctx, alice, h, "nosuch", f.Ino, "x", 0), syscall.ENOTDIR)     // target parent a file beats a missing source
	requireLinkErr(t, s.Rename(ctx, alice, h, "nosuch", missing, "x", 0), syscall.ENOENT)    // a missing target parent
	requireLinkErr(t, s.Rename(ctx, alice, closed.Ino, "nosuch", h, "x", 0), syscall.EACCES) // search on the source parent beats the name
	requireLinkErr(t, s.Rename(ctx, alice, h, "nosuch", closed.Ino, "x", 0), syscall.EACCES) // search on the target parent beats the name
	requireLinkErr(t, s.Rename(ctx, alice, f.Ino, "a", closed.Ino, "x", 0), syscall.ENOTDIR) // the source parent first
	requireLinkErr(t, s.Rename(ctx, alice, closed.Ino, "inclosed", f.Ino, "x", 0), syscall.EACCES)
	requireLinkErr(t, s.Rename(ctx, alice, ro.Ino, "nosuch", h, "x", 0), syscall.ENOENT) // the name before write permission
	requireLinkErr(t, s.Rename(ctx, alice, ro.Ino, "inro", h, "x", 0), syscall.EACCES)   // then write permission
	requireLinkErr(t, s.Rename(ctx, alice, h, "file", ro.Ino, "inro", meta.RenameNoReplace), syscall.EEXIST)
	requireLinkErr(t, s.Rename(ctx, alice, h, "file", ro.Ino, "nosuch", meta.RenameExchange), syscall.ENOENT)

	// Lookup and path resolution.
	_, err := s.Lookup(ctx, alice, closed.Ino, "nosuch")
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.Lookup(ctx, alice, f.Ino, "nosuch")
	requirePathErr(t, err, syscall.ENOTDIR)
	_, err = s.Lookup(ctx, alice, missing, "x")
	requirePathErr(t, err, syscall.ENOENT)
	_, err = s.Lookup(ctx, alice, f.Ino, strings.Repeat("n", meta.MaxNameLen+1))
	requirePathErr(t, err, syscall.ENAMETOOLONG) // the name's length is checked first, as before
	_, err = s.Lookup(ctx, alice, f.Ino, "..")
	requirePathErr(t, err, syscall.ENOTDIR)
	_, err = s.Lookup(ctx, alice, closed.Ino, ".")
	requirePathErr(t, err, syscall.EACCES)

	// Create, Link, Unlink, Rmdir.
	_, err = s.Create(ctx, alice, closed.Ino, "inclosed", 0o644, true)
	requirePathErr(t, err, syscall.EACCES) // search before the name
	_, err = s.Create(ctx, alice, ro.Ino, "inro", 0o644, true)
	requirePathErr(t, err, syscall.EEXIST) // the name before write permission
	_, err = s.Create(ctx, alice, ro.Ino, "new", 0o644, true)
	requirePathErr(t, err, syscall.EACCES)
	_, err = s.Create(ctx, alice, f.Ino, "new", 0o644, true)
	requirePathErr(t, err, syscall.ENOTDIR)
	_, err = s.Link(ctx, alice, missing, f.Ino, "x")
	requireLinkErr(t, err, syscall.ENOENT) // the source before the new parent
	_, err = s.Link(ctx, alice, f.Ino, closed.Ino, "inclosed")
	requireLinkErr(t, err, syscall.EACCES)
	_, err = s.Link(ctx, alice, f.Ino, ro.Ino, "inro")
	requireLinkErr(t, err, syscall.EEXIST)
	requirePathErr(t, s.Unlink(ctx, alice, ro.Ino, "nosuch"), syscall.ENOENT)
	requirePathErr(t, s.Unlink(ctx, alice, ro.Ino, "inro"), syscall.EACCES)
	requirePathErr(t, s.Unlink(ctx, alice, closed.Ino, "nosuch"), syscall.EACCES)
	requirePathErr(t, s.Unlink(ctx, alice, f.Ino, "x"), syscall.ENOTDIR)
	requirePathErr(t, s.Unlink(ctx, alice, closed.Ino, ".."), syscall.EACCES)
	requirePathErr(t, s.Rmdir(ctx, alice, ro.Ino, "nosuch"), syscall.ENOENT)
	requirePathErr(t, s.Rmdir(ctx, alice, h, "file"), syscall.ENOTDIR)
	requirePathErr(t, s.Rmdir(ctx, alice, h, "."), syscall.EINVAL)
	requirePathErr(t, s.Rmdir(ctx, alice, closed.Ino, "."), syscall.EACCES)
}

// Path resolution with the directory reused from the previous step:
// search permission is checked on each directory walked (through "..",
// symlinks, relative and absolute), ENOTDIR on a file in the middle, ELOOP
// on a cycle, ENAMETOOLONG on a long component, and ".." of a directory
// reached through a symlink is the directory's parent, not the link's.
func TestReview3_PathResolution(t *testing.T) {
	s := newStore(t)
	h := home(t, s, alice)
	pub := mkdir(t, s, alice, h, "pub", 0o755)
	priv := mkdir(t, s, rootCred, h, "priv", 0o711) // search only
	shut := mkdir(t, s, rootCred, priv.Ino, "shut", 0o700)
	deep := mkdir(t, s, rootCred, shut.Ino, "deep", 0o755)
	in := create(t, s, rootCred, deep.Ino, "in", 0o644)
	file := create(t, s, alice, pub.Ino, "file", 0o644)
	_, err := s.Symlink(ctx, alice, pub.Ino, "toshut", "../priv/shut")
	require.NoError(t, err)
	_, err = s.Symlink(ctx, alice, pub.Ino, "abs", "/home-1000/priv")
	require.NoError(t, err)
	_, err = s.Symlink(ctx, alice, pub.Ino, "loop", "loop")
	require.NoError(t, err)
	_, err = s.Symlink(ctx, alice, pub.Ino, "tofile", "file")
	require.NoError(t, err)
	_, err = s.Symlink(ctx, rootCred, deep.Ino, "up", "..")
	require.NoError(t, err)

	stat := func(c meta.Cred, p string) (meta.Attr, error) { return s.Stat(ctx, c, p) }
	for _, tc := range []struct {
		c    meta.Cred
		p    string
		ino  uint64
		want syscall.Errno
	}{
		{rootCred, "/home-1000/priv/shut/deep/in", in.Ino, 0},
		{alice, "/home-1000/priv/shut", shut.Ino, 0}, // no search needed on shut itself
		{alice, "/home-1000/priv/shut/deep", 0, syscall.EACCES},
		{alice, "/home-1000/priv/shut/nosuch", 0, syscall.EACCES},
		{alice, "/home-1000/pub/toshut", shut.Ino, 0},
		{alice, "/home-1000/pub/toshut/deep", 0, syscall.EACCES}, // through a relative symlink
		{alice, "/home-1000/pub/abs/shut/deep", 0, syscall.EACCES},
		{rootCred, "/home-1000/pub/abs/shut/deep/in", in.Ino, 0}, // through an absolute symlink
		{alice, "/home-1000/pub/abs/shut/../../pub/file", 0, syscall.EACCES},
		{alice, "/home-1000/pub/abs/../pub/file", file.Ino, 0},
		{alice, "/home-1000/pub/file/x", 0, syscall.ENOTDIR},
		{alice, "/home-1000/pub/tofile/x", 0, syscall.ENOTDIR},
		{alice, "/home-1000/pub/file/" + strings.Repeat("n", meta.MaxNameLen+1), 0, syscall.ENAMETOOLONG},
		{alice, "/home-1000/pub/file/..", 0, syscall.ENOTDIR},
		{alice, "/home-1000/pub/file/.", 0, syscall.ENOTDIR},
		{alice, "/home-1000/pub/loop", 0, syscall.ELOOP},
		{alice, "/home-1000/pub/loop/x", 0, syscall.ELOOP},
		{rootCred, "/home-1000/priv/shut/deep/up", shut.Ino, 0},
		{rootCred, "/home-1000/priv/shut/deep/up/deep/up/..", priv.Ino, 0},
		{rootCred, "/home-1000/pub/toshut/..", priv.Ino, 0}, // ".." of the target, not of the link
		{rootCred, "/..", root, 0},
		{rootCred, "/../home-1000/./pub/", pub.Ino, 0},
	} {
		a, err := stat(tc.c, tc.p)
		if tc.want != 0 {
			requirePathErr(t, err, tc.want)
			continue
		}
		require.NoError(t, err, tc.p)
		require.Equal(t, tc.ino, a.Ino, tc.p)
	}
	// Lstat does not follow the last symlink, but does follow the others.
	a, err := s.Lstat(ctx, alice, "/home-1000/pub/loop")
	require.NoError(t, err)
	require.Equal(t, mustLookup(t, s, pub.Ino, "loop").Ino, a.Ino)
	a, err = s.Lstat(ctx, rootCred, "/home-1000/pub/toshut")
	require.NoError(t, err)
	require.NotEqual(t, shut.Ino, a.Ino)
}

func mustLookup(tb testing.TB, s *meta.Store, parent uint64, name string) meta.Attr {
	tb.Helper()
	return lookup(tb, s, parent, name)
}

// Names with 0xff bytes, invalid UTF-8 and the longest allowed length come
// back from ReadDir (decoded from the keys) byte for byte, page by page
// with the cursor, and Lookup finds each.
func TestReview3_ReadDirOddNames(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	nms := []string{"\xff", "\xff\xff", "a\xffb", "\xc3\x28", "\xfe", "\x01", "\x01\x02", "é", strings.Repeat("\xff", meta.MaxNameLen), strings.Repeat("z", meta.MaxNameLen), "\x7f"}
	ino := map[string]uint64{}
	for _, n := range nms {
		ino[n] = create(t, s, rootCred, d.Ino, n, 0o644).Ino
	}
	want := append([]string(nil), nms...)
	sort.Strings(want)
	var got []string
	cursor := ""
	for pages := 0; pages < 2*len(nms); pages++ {
		ents, next, err := s.ReadDir(ctx, rootCred, d.Ino, cursor, 2)
		require.NoError(t, err)
		for _, e := range ents {
			got = append(got, e.Name)
			require.Equal(t, ino[e.Name], e.Ino, "%x", e.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got)
	for _, n := range nms {
		require.Equal(t, ino[n], lookup(t, s, d.Ino, n).Ino, "%x", n)
	}
}

// Values returned to the caller (symlink targets, xattr values and names,
// readdir names) are the caller's: they survive any later operation on
// the same store, which reuses nothing the caller holds.
func TestReview3_ReturnedValuesDoNotAlias(t *testing.T) {
	s := newStore(t)
	long := strings.Repeat("t", 300) + "/end"
	l, err := s.Symlink(ctx, rootCred, root, "l", long)
	require.NoError(t, err)
	f := create(t, s, rootCred, root, "f", 0o644)
	val := bytes.Repeat([]byte{0xab}, meta.MaxXattrValueLen)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.big", val, 0))
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.small", []byte("v"), 0))

	target, err := s.Readlink(ctx, rootCred, l.Ino)
	require.NoError(t, err)
	got, err := s.GetXattr(ctx, rootCred, f.Ino, "user.big")
	require.NoError(t, err)
	names, err := s.ListXattr(ctx, rootCred, f.Ino)
	require.NoError(t, err)
	ents, _, err := s.ReadDir(ctx, rootCred, root, "", 0)
	require.NoError(t, err)
	// Much activity that builds keys and records.
	for i := 0; i < 50; i++ {
		n := "churn" + strconvI(i)
		_, err := s.Symlink(ctx, rootCred, root, n, strings.Repeat("x", 400))
		require.NoError(t, err)
		_, err = s.Readlink(ctx, rootCred, lookup(t, s, root, n).Ino)
		require.NoError(t, err)
		require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.big", bytes.Repeat([]byte{byte(i)}, 100), 0))
		require.NoError(t, s.Unlink(ctx, rootCred, root, n))
	}
	require.Equal(t, long, target)
	require.Equal(t, bytes.Repeat([]byte{0xab}, meta.MaxXattrValueLen), got)
	require.Equal(t, []string{"user.big", "user.small"}, names)
	require.Equal(t, []string{"f", "l"}, []string{ents[0].Name, ents[1].Name})
	// And changing a returned slice does not reach the store.
	for i := range got {
		got[i] = 0
	}
	again, err := s.GetXattr(ctx, rootCred, f.Ino, "user.small")
	require.NoError(t, err)
	require.Equal(t, []byte("v"), again)
}

// A rename and a create with the longest names, made to conflict on their
// first attempt: the retry builds its keys in the same operation arena
// (past its first buffer), the result is right, and no slice handed to the
// engine by the first attempt changed.
func TestReview3_RetriedOpsKeepTheirKeys(t *testing.T) {
	db := newRecDB(t)
	s := newStoreWith(t, db, meta.Options{})
	db.l = s.Layout()
	a := mkdir(t, s, rootCred, root, "A", 0o755)
	b := mkdir(t, s, rootCred, root, "B", 0o755)
	long1, long2 := strings.Repeat("s", meta.MaxNameLen), strings.Repeat("\xff", meta.MaxNameLen)
	f := create(t, s, rootCred, a.Ino, long1, 0o644)
	create(t, s, rootCred, b.Ino, long2, 0o644) // replaced by the rename

	db.start()
	db.mu.Lock()
	db.before = func() { chmod(t, s, a.Ino, 0o775) } // writes the source parent, read with a conflict
	db.mu.Unlock()
	require.NoError(t, s.Rename(ctx, rootCred, a.Ino, long1, b.Ino, long2, 0))
	db.stop(t)
	require.Equal(t, 1, db.conflicts, "the first attempt conflicts")
	require.Equal(t, []string{}, names(t, s, a.Ino))
	require.Equal(t, []string{long2}, names(t, s, b.Ino))
	require.Equal(t, f.Ino, lookup(t, s, b.Ino, long2).Ino)

	db.start()
	db.mu.Lock()
	db.before = func() { chmod(t, s, b.Ino, 0o755) }
	db.mu.Unlock()
	c, err := s.Mkdir(ctx, rootCred, b.Ino, long1, 0o700)
	require.NoError(t, err)
	db.stop(t)
	require.Equal(t, 2, db.conflicts)
	got := lookup(t, s, b.Ino, long1)
	require.Equal(t, c.Ino, got.Ino)
	require.Equal(t, uint32(0o700), got.Mode)
	require.Equal(t, []string{long1, long2}, names(t, s, b.Ino)) // byte order
}
