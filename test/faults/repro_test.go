package faults_test

import (
	"bytes"
	"context"
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

// Reproductions of meta bugs under kv.ErrMaybeCommitted with another client
// acting between the lost reply and the retry: the window every real
// network engine has. A store's operation commits, the reply is "lost",
// another store changes the same names, and only then does the first
// store's retry run. Exactly-once means the retry must find its own
// success and do nothing; the history is then "op, other op", as if the
// reply had not been lost.

// hookEngine wraps an engine: the first commit that writes a key with
// prefix arm's prefix commits for real, runs the hook, then reports
// kv.ErrMaybeCommitted.
type hookEngine struct {
	kv.Engine
	mu     sync.Mutex
	prefix []byte
	hook   func()
}

func (e *hookEngine) arm(t *testing.T, prefix []byte, hook func()) {
	e.mu.Lock()
	e.prefix, e.hook = prefix, hook
	e.mu.Unlock()
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		require.Nil(t, e.hook, "the hook never ran: no commit wrote under its prefix")
	})
}

func (e *hookEngine) NewReadWrite() kv.ReadWriteTxn {
	return &hookTxn{ReadWriteTxn: e.Engine.NewReadWrite(), e: e}
}

type hookTxn struct {
	kv.ReadWriteTxn
	e      *hookEngine
	writes [][]byte
}

func (t *hookTxn) Set(k, v []byte) {
	t.writes = append(t.writes, bytes.Clone(k))
	t.ReadWriteTxn.Set(k, v)
}

func (t *hookTxn) Commit(ctx context.Context) error {
	if err := t.ReadWriteTxn.Commit(ctx); err != nil {
		return err
	}
	t.e.mu.Lock()
	var hook func()
	for _, k := range t.writes {
		if t.e.hook != nil && bytes.HasPrefix(k, t.e.prefix) {
			hook, t.e.hook = t.e.hook, nil
			break
		}
	}
	t.e.mu.Unlock()
	if hook == nil {
		return nil
	}
	hook()
	return kv.Errorf(kv.CodeMaybeCommitted, "hook: commit applied, reply lost")
}

func (t *hookTxn) Reset() {
	t.ReadWriteTxn.Reset()
	t.writes = nil
}

// pair returns a store whose commits can be hooked and a second store (a
// second client) on the same data.
func pair(t *testing.T) (context.Context, *hookEngine, *meta.Store, *meta.Store) {
	t.Helper()
	ctx := context.Background()
	inner := memkv.New(memkv.Options{})
	he := &hookEngine{Engine: inner}
	s, err := meta.Open(ctx, he, meta.Options{Retry: kv.RetryOptions{InitialBackoff: time.Millisecond}})
	require.NoError(t, err)
	o, err := meta.Open(ctx, inner, meta.Options{NoCreate: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		rep, err := o.Check(ctx)
		require.NoError(t, err)
		require.Empty(t, rep.Problems)
	})
	return ctx, he, s, o
}

// dirents, inodes and requests are the key prefixes of every directory
// entry, inode and request record of s.
func dirents(s *meta.Store) []byte  { return s.Layout().Root().Sub("d").Bytes() }
func inodes(s *meta.Store) []byte   { return s.Layout().Root().Sub("i").Bytes() }
func requests(s *meta.Store) []byte { return s.Layout().Root().Sub("q").Bytes() }

func lookupErrno(ctx context.Context, s *meta.Store, name string) syscall.Errno {
	_, err := s.Lookup(ctx, meta.RootCred(), inode.RootIno, name)
	return meta.Errno(err)
}

// rename a -> b commits; another client renames b -> c; the retry finds
// neither a nor b and reports ENOENT for a rename that happened.
func TestRepro_RetriedRenameAfterConcurrentRename(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	_, err := s.Create(ctx, c, inode.RootIno, "a", 0o644, true)
	require.NoError(t, err)
	he.arm(t, dirents(s), func() {
		require.NoError(t, o.Rename(ctx, c, inode.RootIno, "b", inode.RootIno, "c", 0))
	})
	err = s.Rename(ctx, c, inode.RootIno, "a", inode.RootIno, "b", 0)
	require.NoError(t, err, "rename a -> b committed once; the retry must report its success")
	require.Equal(t, syscall.Errno(0), lookupErrno(ctx, o, "c"))
}

// rename a -> b commits; another client renames b back to a; the retry
// finds a again and renames it a second time.
func TestRepro_RetriedRenameAppliedTwice(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	_, err := s.Create(ctx, c, inode.RootIno, "a", 0o644, true)
	require.NoError(t, err)
	he.arm(t, dirents(s), func() {
		require.NoError(t, o.Rename(ctx, c, inode.RootIno, "b", inode.RootIno, "a", 0))
	})
	require.NoError(t, s.Rename(ctx, c, inode.RootIno, "a", inode.RootIno, "b", 0))
	require.Equal(t, syscall.Errno(0), lookupErrno(ctx, o, "a"), "history rename a->b, rename b->a leaves a")
	require.Equal(t, syscall.ENOENT, lookupErrno(ctx, o, "b"), "history rename a->b, rename b->a leaves no b")
}

// create a commits; another client unlinks a; the retry finds no a and
// creates a second file.
func TestRepro_RetriedCreateAppliedTwice(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	he.arm(t, dirents(s), func() {
		require.NoError(t, o.Unlink(ctx, c, inode.RootIno, "a"))
	})
	_, err := s.Create(ctx, c, inode.RootIno, "a", 0o644, true)
	require.NoError(t, err)
	require.Equal(t, syscall.ENOENT, lookupErrno(ctx, o, "a"), "history create a, unlink a leaves no a")
}

// mkdir d commits; another client removes d; the retry makes it again.
func TestRepro_RetriedMkdirAppliedTwice(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	he.arm(t, dirents(s), func() {
		require.NoError(t, o.Rmdir(ctx, c, inode.RootIno, "d"))
	})
	_, err := s.Mkdir(ctx, c, inode.RootIno, "d", 0o755)
	require.NoError(t, err)
	require.Equal(t, syscall.ENOENT, lookupErrno(ctx, o, "d"), "history mkdir d, rmdir d leaves no d")
}

// link f -> l commits; another client unlinks l; the retry links again and
// f ends with nlink 2 for one name.
func TestRepro_RetriedLinkAppliedTwice(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	f, err := s.Create(ctx, c, inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	he.arm(t, dirents(s), func() {
		require.NoError(t, o.Unlink(ctx, c, inode.RootIno, "l"))
	})
	_, err = s.Link(ctx, c, f.Ino, inode.RootIno, "l")
	require.NoError(t, err)
	require.Equal(t, syscall.ENOENT, lookupErrno(ctx, o, "l"), "history link f l, unlink l leaves no l")
	a, err := o.GetAttr(ctx, c, f.Ino)
	require.NoError(t, err)
	require.EqualValues(t, 1, a.Nlink)
}

// chmod 0600 commits; another client chmods 0640; the retry sets 0600
// again over the other client's later change.
func TestRepro_RetriedChmodOverwritesLaterChmod(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	f, err := s.Create(ctx, c, inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	he.arm(t, inodes(s), func() {
		m := uint32(0o640)
		_, err := o.SetAttr(ctx, c, f.Ino, meta.SetAttr{Mode: &m})
		require.NoError(t, err)
	})
	m := uint32(0o600)
	_, err = s.SetAttr(ctx, c, f.Ino, meta.SetAttr{Mode: &m})
	require.NoError(t, err)
	a, err := o.GetAttr(ctx, c, f.Ino)
	require.NoError(t, err)
	require.Equal(t, uint32(0o640), a.Mode, "history chmod 0600, chmod 0640 leaves 0640, got %#o", a.Mode)
}

// The removes record their result under ("q"), so they are exactly-once
// even with another client in between: these pass and guard it.
func TestRetriedUnlinkAfterConcurrentCreate(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	_, err := s.Create(ctx, c, inode.RootIno, "a", 0o644, true)
	require.NoError(t, err)
	he.arm(t, requests(s), func() {
		_, err := o.Create(ctx, c, inode.RootIno, "a", 0o600, true)
		require.NoError(t, err)
	})
	require.NoError(t, s.Unlink(ctx, c, inode.RootIno, "a"))
	a, err := o.Lookup(ctx, c, inode.RootIno, "a")
	require.NoError(t, err, "history unlink a, create a leaves the new a")
	require.Equal(t, uint32(0o600), a.Mode)
}

func TestRetriedRmdirAfterConcurrentMkdir(t *testing.T) {
	ctx, he, s, o := pair(t)
	c := meta.RootCred()
	_, err := s.Mkdir(ctx, c, inode.RootIno, "d", 0o755)
	require.NoError(t, err)
	he.arm(t, requests(s), func() {
		_, err := o.Mkdir(ctx, c, inode.RootIno, "d", 0o700)
		require.NoError(t, err)
	})
	require.NoError(t, s.Rmdir(ctx, c, inode.RootIno, "d"))
	a, err := o.Lookup(ctx, c, inode.RootIno, "d")
	require.NoError(t, err, "history rmdir d, mkdir d leaves the new d")
	require.Equal(t, uint32(0o700), a.Mode)
}
