package meta_test

import (
	"context"
	"sync"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// hookDB runs a hook once, at the next commit of a transaction with writes:
// before it (the hook's own transactions commit first, so the hooked one
// may conflict) or after it, then reporting kv.ErrMaybeCommitted as a
// commit whose reply was lost.
type hookDB struct {
	kv.Engine
	mu     sync.Mutex
	before func()
	after  func()
}

func newHookDB(tb testing.TB) *hookDB {
	e := memkv.New(memkv.Options{})
	tb.Cleanup(func() { _ = e.Close() })
	return &hookDB{Engine: e}
}

// beforeNextCommit runs f just before the next commit.
func (h *hookDB) beforeNextCommit(f func()) { h.mu.Lock(); h.before = f; h.mu.Unlock() }

// loseNextReply commits the next transaction, runs f, and reports
// kv.ErrMaybeCommitted.
func (h *hookDB) loseNextReply(f func()) {
	if f == nil {
		f = func() {}
	}
	h.mu.Lock()
	h.after = f
	h.mu.Unlock()
}

func (h *hookDB) pending() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.before != nil || h.after != nil
}

func (h *hookDB) NewReadWrite() kv.ReadWriteTxn {
	return &hookTxn{ReadWriteTxn: h.Engine.NewReadWrite(), h: h}
}

type hookTxn struct {
	kv.ReadWriteTxn
	h      *hookDB
	writes bool
}

func (t *hookTxn) Set(k, v []byte)        { t.writes = true; t.ReadWriteTxn.Set(k, v) }
func (t *hookTxn) Clear(k []byte)         { t.writes = true; t.ReadWriteTxn.Clear(k) }
func (t *hookTxn) ClearRange(b, e []byte) { t.writes = true; t.ReadWriteTxn.ClearRange(b, e) }
func (t *hookTxn) Atomic(op kv.AtomicOp, k, p []byte) {
	t.writes = true
	t.ReadWriteTxn.Atomic(op, k, p)
}

func (t *hookTxn) take(p *func()) func() {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	f := *p
	*p = nil
	return f
}

func (t *hookTxn) Commit(ctx context.Context) error {
	if !t.writes {
		return t.ReadWriteTxn.Commit(ctx)
	}
	if f := t.take(&t.h.before); f != nil {
		f()
	}
	if err := t.ReadWriteTxn.Commit(ctx); err != nil {
		return err
	}
	if f := t.take(&t.h.after); f != nil {
		f()
		return kv.ErrMaybeCommitted
	}
	return nil
}

// An Open whose commit reply was lost must not fail on the retry because
// the file changed meanwhile: the handle it created exists, and a caller
// told ENOENT or EACCES never closes it, so the inode leaks until the
// session ends.
func TestReview_OpenRetryAfterLostReply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s *meta.Store, ino uint64)
	}{
		{"unlinked meanwhile", func(t *testing.T, s *meta.Store, ino uint64) {
			require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
		}},
		{"chmod meanwhile", func(t *testing.T, s *meta.Store, ino uint64) {
			chmod(t, s, ino, 0)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newHookDB(t)
			s := newStoreWith(t, db, meta.Options{})
			f := create(t, s, rootCred, root, "f", 0o644)
			_, err := s.Open(ctx, alice, f.Ino, meta.ORdOnly) // registers the session
			require.NoError(t, err)
			db.loseNextReply(func() { tc.change(t, s, f.Ino) })
			h, err := s.Open(ctx, alice, f.Ino, meta.ORdOnly)
			require.False(t, db.pending())
			require.NoError(t, err, "the retry of a committed open")
			require.NoError(t, s.Close(ctx, h))
			require.NoError(t, s.Shutdown(ctx))
		})
	}
}

// Flock, SetLk, SetXattr and RemoveXattr re-run after a lost reply report
// success.
func TestReview_LockAndXattrRetryAfterLostReply(t *testing.T) {
	db := newHookDB(t)
	s := newStoreWith(t, db, meta.Options{})
	h := openFile(t, s, "f", meta.ORdWr)
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"flock ex", func() error { return s.Flock(ctx, h, 1, meta.LockWrite, false) }},
		{"flock sh", func() error { return s.Flock(ctx, h, 1, meta.LockRead, false) }},
		{"flock un", func() error { return s.Flock(ctx, h, 1, meta.LockUnlock, false) }},
		{"setlk", func() error { return s.SetLk(ctx, h, wr(0, 9, 1), false) }},
		{"setlk merge", func() error { return s.SetLk(ctx, h, wr(10, meta.LockEOF, 1), true) }},
		{"setlk split", func() error { return s.SetLk(ctx, h, rd(5, 14, 1), false) }},
		{"setlk unlock", func() error { return s.SetLk(ctx, h, un(0, meta.LockEOF, 1), false) }},
		{"setxattr create", func() error { return s.SetXattr(ctx, rootCred, h.Ino, "user.a", []byte("v"), meta.XattrCreate) }},
		{"setxattr replace", func() error { return s.SetXattr(ctx, rootCred, h.Ino, "user.a", []byte("w"), meta.XattrReplace) }},
		{"removexattr", func() error { return s.RemoveXattr(ctx, rootCred, h.Ino, "user.a") }},
	} {
		db.loseNextReply(nil)
		require.NoError(t, op.do(), op.name)
		require.False(t, db.pending(), "%s did not commit", op.name)
	}
	require.Empty(t, posixLocks(t, s, h.Ino))
	names, err := s.ListXattr(ctx, rootCred, h.Ino)
	require.NoError(t, err)
	require.Empty(t, names)
	require.NoError(t, s.Shutdown(ctx))
}

// indexKeys counts the session index entries of every session.
func indexKeys(tb testing.TB, s *meta.Store) int {
	tb.Helper()
	b, e := s.Layout().AllSessionOwnedRange()
	return countKeys(tb, s, b, e)
}

// A Close that races an unlock of the session's other flock on the inode
// must not leave the session's flock index entry behind with no lock.
func TestReview_CloseRacingFlockUnlockLeavesNoIndex(t *testing.T) {
	db := newHookDB(t)
	s := newStoreWith(t, db, meta.Options{})
	a := openFile(t, s, "f", meta.ORdOnly)
	b := open(t, s, a.Ino, meta.ORdOnly)
	require.NoError(t, s.Flock(ctx, a, 0, meta.LockRead, false))
	require.NoError(t, s.Flock(ctx, b, 0, meta.LockRead, false))
	// A second client on the same engine, running b's unlock in b's
	// session just before Close(a) commits.
	other := openStore(t, db.Engine, meta.Options{NoCreate: true})
	db.beforeNextCommit(func() {
		require.NoError(t, other.Flock(ctx, b, 0, meta.LockUnlock, false))
	})
	require.NoError(t, s.Close(ctx, a))
	require.False(t, db.pending())
	ls, err := s.Locks(ctx, a.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	require.Equal(t, 1, indexKeys(t, s), "only b's handle is indexed")
	require.NoError(t, s.Close(ctx, b))
	require.Equal(t, 0, indexKeys(t, s))
	require.NoError(t, s.Shutdown(ctx))
}

// Expiry of a session holding two handles of an unlinked file deletes it
// once, in one batch.
func TestReview_ExpiryOfTwoHandlesOfUnlinkedFile(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	open(t, s, h.Ino, meta.ORdOnly)
	require.NoError(t, s.SetLk(ctx, h, wr(0, 9, 7), false))
	require.NoError(t, s.Flock(ctx, h, 0, meta.LockWrite, false))
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	require.NoError(t, s.Shutdown(ctx))
	requireGone(t, s, h.Ino)
	ls, err := s.Locks(ctx, h.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	require.Equal(t, 0, indexKeys(t, s))
}

// POSIX lock edge cases: offsets past 1<<63, unlocking a subrange of
// another owner's lock, a split at 0 and at LockEOF.
func TestReview_SetLkEdges(t *testing.T) {
	E := meta.LockEOF
	big := uint64(1) << 63
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	require.NoError(t, s.SetLk(ctx, h, rd(big, big+10, 1), false))
	require.NoError(t, s.SetLk(ctx, h, rd(big+11, E, 1), false))
	require.Equal(t, []string{"R 9223372036854775808-EOF o1"}, posixLocks(t, s, h.Ino))
	require.NoError(t, s.SetLk(ctx, h, un(big+5, big+5, 2), false), "unlock by another owner")
	require.Equal(t, []string{"R 9223372036854775808-EOF o1"}, posixLocks(t, s, h.Ino))
	require.NoError(t, s.SetLk(ctx, h, un(E, E, 1), false))
	require.NoError(t, s.SetLk(ctx, h, wr(0, 0, 1), false))
	require.Equal(t, []string{"W 0-0 o1", "R 9223372036854775808-18446744073709551614 o1"}, posixLocks(t, s, h.Ino))
	got, err := s.GetLk(ctx, h, wr(0, E, 2))
	require.NoError(t, err)
	require.Equal(t, uint64(0), got.Start)
	require.Equal(t, meta.LockWrite, got.Type)
	requirePathErr(t, s.SetLk(ctx, h, wr(E-1, E, 2), false), syscall.EAGAIN)
	require.NoError(t, s.SetLk(ctx, h, rd(E, E, 2), false))
	require.NoError(t, s.Shutdown(ctx))
}

// A value GetXattr returned is the caller's: changing it changes nothing
// stored.
func TestReview_GetXattrValueIsACopy(t *testing.T) {
	s := newStore(t)
	f := create(t, s, rootCred, root, "f", 0o644)
	require.NoError(t, s.SetXattr(ctx, rootCred, f.Ino, "user.a", []byte("value"), 0))
	v, err := s.GetXattr(ctx, rootCred, f.Ino, "user.a")
	require.NoError(t, err)
	v[0] = 'X'
	v, err = s.GetXattr(ctx, rootCred, f.Ino, "user.a")
	require.NoError(t, err)
	require.Equal(t, "value", string(v))
}

// Closing a handle of a directory that was removed while open (rmdir drops
// its handles) removes the handle's session index entry too, instead of
// leaving it until the session ends.
func TestReview_CloseAfterRmdirLeavesNoIndex(t *testing.T) {
	s := newStore(t)
	d := mkdir(t, s, rootCred, root, "d", 0o755)
	h := open(t, s, d.Ino, meta.ORdOnly)
	require.NoError(t, s.Flock(ctx, h, 0, meta.LockRead, false))
	require.NoError(t, s.Rmdir(ctx, rootCred, root, "d"))
	require.NoError(t, s.Close(ctx, h))
	require.Equal(t, 0, indexKeys(t, s), "index entries of a closed handle")
	require.NoError(t, s.Shutdown(ctx))
}

// Two clients running flock, POSIX lock and close calls concurrently in one
// session on one inode leave the session's index exact: once every handle
// is closed and every POSIX lock released, no index entry remains, and no
// lock or handle was ever left unindexed (Check, at cleanup).
func TestReview_ConcurrentLockCallsKeepTheIndexExact(t *testing.T) {
	db := newHookDB(t)
	s := newStoreWith(t, db, meta.Options{})
	other := openStore(t, db.Engine, meta.Options{NoCreate: true})
	f := create(t, s, rootCred, root, "f", 0o644)
	open(t, s, f.Ino, meta.ORdOnly) // registers s's default session
	const workers, rounds = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if w%2 == 1 {
				st = other
			}
			owner := uint64(w + 1)
			for i := range rounds {
				// Handles are opened in s's session; other works through
				// them as a second client of that session would.
				h, err := s.Open(ctx, rootCred, f.Ino, meta.ORdWr)
				if err != nil {
					errs <- err
					return
				}
				_ = st.Flock(ctx, h, owner, meta.LockRead, false)
				_ = st.SetLk(ctx, h, rd(uint64(i%5), uint64(i%5)+3, owner), false)
				if i%3 == 0 {
					_ = st.Flock(ctx, h, owner, meta.LockUnlock, false)
				}
				if err := st.Close(ctx, h); err != nil {
					errs <- err
					return
				}
				if err := st.SetLk(ctx, h, un(0, meta.LockEOF, owner), false); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireClean(t, s)
	ls, err := s.Locks(ctx, f.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	require.Equal(t, 1, indexKeys(t, s), "only the first handle stays indexed")
	require.NoError(t, s.Shutdown(ctx))
}

// Closing a session while its goroutines open, lock and the file is
// unlinked leaves no handle, lock or inode behind.
func TestReview_SessionCloseRacingOpens(t *testing.T) {
	for round := 0; round < 20; round++ {
		s := newStore(t)
		se, err := s.NewSession(ctx, meta.SessionOptions{NoRenew: true})
		require.NoError(t, err)
		f := create(t, s, rootCred, root, "f", 0o644)
		sctx := meta.WithSession(ctx, se)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					h, err := s.Open(sctx, rootCred, f.Ino, meta.ORdWr)
					if err != nil {
						return
					}
					_ = s.SetLk(sctx, h, wr(uint64(w*10), uint64(w*10+5), uint64(w)), false)
					_ = s.Flock(sctx, h, uint64(w), meta.LockRead, false)
				}
			}()
		}
		if round%2 == 0 {
			require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
		}
		require.NoError(t, se.Close(ctx))
		wg.Wait()
		requireClean(t, s)
		ls, err := s.Locks(ctx, f.Ino)
		require.NoError(t, err)
		require.Empty(t, ls)
		if round%2 == 0 {
			requireGone(t, s, f.Ino)
		}
	}
}
