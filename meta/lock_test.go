package meta_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

// countKeys counts the keys in [b, e).
func countKeys(tb testing.TB, s *meta.Store, b, e []byte) int {
	tb.Helper()
	n := 0
	err := kv.View(ctx, s.Engine(), func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		res, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(b), kv.FirstGreaterOrEqual(e), 0)
		n = len(res.KVs)
		return err
	})
	require.NoError(tb, err)
	return n
}

// openFile creates name in the root and opens it with flags.
func openFile(tb testing.TB, s *meta.Store, name string, flags int) meta.Handle {
	tb.Helper()
	f := create(tb, s, rootCred, root, name, 0o666)
	return open(tb, s, f.Ino, flags)
}

func open(tb testing.TB, s *meta.Store, ino uint64, flags int) meta.Handle {
	tb.Helper()
	h, err := s.Open(ctx, rootCred, ino, flags)
	require.NoError(tb, err)
	return h
}

func wr(start, end, owner uint64) meta.Lock {
	return meta.Lock{Type: meta.LockWrite, Start: start, End: end, Owner: owner}
}

func rd(start, end, owner uint64) meta.Lock {
	return meta.Lock{Type: meta.LockRead, Start: start, End: end, Owner: owner}
}

func un(start, end, owner uint64) meta.Lock {
	return meta.Lock{Type: meta.LockUnlock, Start: start, End: end, Owner: owner}
}

// posixLocks lists the POSIX locks of ino as "type start-end owner".
func posixLocks(tb testing.TB, s *meta.Store, ino uint64) []string {
	tb.Helper()
	ls, err := s.Locks(ctx, ino)
	require.NoError(tb, err)
	out := []string{}
	for _, l := range ls {
		if !l.Flock {
			out = append(out, lockString(l.Lock))
		}
	}
	return out
}

func lockString(l meta.Lock) string {
	t := map[meta.LockType]string{meta.LockUnlock: "U", meta.LockRead: "R", meta.LockWrite: "W"}[l.Type]
	end := fmt.Sprint(l.End)
	if l.End == meta.LockEOF {
		end = "EOF"
	}
	return fmt.Sprintf("%s %d-%s o%d", t, l.Start, end, l.Owner)
}

func TestSetLk_MergeAndSplit(t *testing.T) {
	E := meta.LockEOF
	for _, tc := range []struct {
		name  string
		steps []meta.Lock
		want  []string
	}{
		{"one", []meta.Lock{wr(0, 9, 1)}, []string{"W 0-9 o1"}},
		{"adjacent same type merge", []meta.Lock{wr(0, 9, 1), wr(10, 19, 1)}, []string{"W 0-19 o1"}},
		{"adjacent before merges", []meta.Lock{wr(10, 19, 1), wr(0, 9, 1)}, []string{"W 0-19 o1"}},
		{"overlap merges", []meta.Lock{rd(0, 9, 1), rd(5, 14, 1)}, []string{"R 0-14 o1"}},
		{"gap stays apart", []meta.Lock{rd(0, 9, 1), rd(11, 14, 1)}, []string{"R 0-9 o1", "R 11-14 o1"}},
		{"bridge merges three", []meta.Lock{rd(0, 9, 1), rd(20, 29, 1), rd(10, 19, 1)}, []string{"R 0-29 o1"}},
		{"adjacent other type stays", []meta.Lock{rd(0, 9, 1), wr(10, 19, 1)}, []string{"R 0-9 o1", "W 10-19 o1"}},
		{"unlock middle splits", []meta.Lock{wr(0, 99, 1), un(40, 59, 1)}, []string{"W 0-39 o1", "W 60-99 o1"}},
		{"type change middle splits", []meta.Lock{wr(0, 99, 1), rd(40, 59, 1)}, []string{"W 0-39 o1", "R 40-59 o1", "W 60-99 o1"}},
		{"downgrade whole", []meta.Lock{wr(0, 99, 1), rd(0, 99, 1)}, []string{"R 0-99 o1"}},
		{"unlock head", []meta.Lock{wr(0, 99, 1), un(0, 9, 1)}, []string{"W 10-99 o1"}},
		{"unlock tail", []meta.Lock{wr(0, 99, 1), un(90, E, 1)}, []string{"W 0-89 o1"}},
		{"unlock spanning two", []meta.Lock{rd(0, 9, 1), wr(20, 29, 1), un(5, 24, 1)}, []string{"R 0-4 o1", "W 25-29 o1"}},
		{"unlock nothing", []meta.Lock{un(0, E, 1)}, []string{}},
		{"to EOF", []meta.Lock{wr(10, E, 1), wr(0, 9, 1)}, []string{"W 0-EOF o1"}},
		{"whole then unlock all", []meta.Lock{rd(0, E, 1), un(0, E, 1)}, []string{}},
		{"cover swallows", []meta.Lock{rd(5, 9, 1), rd(20, 25, 1), wr(0, 30, 1)}, []string{"W 0-30 o1"}},
		{"owners kept apart", []meta.Lock{rd(0, 9, 1), rd(10, 19, 2)}, []string{"R 0-9 o1", "R 10-19 o2"}},
		{"shared overlap across owners", []meta.Lock{rd(0, 9, 1), rd(5, 14, 2)}, []string{"R 0-9 o1", "R 5-14 o2"}},
		{"unlock of one owner leaves other", []meta.Lock{rd(0, 9, 1), rd(0, 9, 2), un(0, E, 1)}, []string{"R 0-9 o2"}},
		{"max offsets", []meta.Lock{wr(E, E, 1), wr(E-1, E-1, 1)}, []string{"W 18446744073709551614-EOF o1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			h := openFile(t, s, "f", meta.ORdWr)
			for _, lk := range tc.steps {
				require.NoError(t, s.SetLk(ctx, h, lk, false), "setlk %s", lockString(lk))
			}
			require.Equal(t, tc.want, posixLocks(t, s, h.Ino))
			require.NoError(t, s.Shutdown(ctx))
		})
	}
}

func TestSetLk_Conflicts(t *testing.T) {
	for _, tc := range []struct {
		name string
		held meta.Lock // owner 1
		req  meta.Lock // owner 2
		want syscall.Errno
	}{
		{"read read", rd(0, 9, 1), rd(0, 9, 2), 0},
		{"read write", rd(0, 9, 1), wr(5, 5, 2), syscall.EAGAIN},
		{"write read", wr(0, 9, 1), rd(9, 20, 2), syscall.EAGAIN},
		{"write write disjoint", wr(0, 9, 1), wr(10, 20, 2), 0},
		{"write to EOF", wr(100, meta.LockEOF, 1), wr(1<<40, 1<<40+1, 2), syscall.EAGAIN},
		{"unlock never conflicts", wr(0, 9, 1), un(0, 9, 2), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			h := openFile(t, s, "f", meta.ORdWr)
			require.NoError(t, s.SetLk(ctx, h, tc.held, false))
			err := s.SetLk(ctx, h, tc.req, false)
			require.Equal(t, tc.want, meta.Errno(err), "%v", err)
			if tc.want != 0 {
				requirePathErr(t, err, tc.want)
				require.ErrorIs(t, err, syscall.EWOULDBLOCK)
				require.Equal(t, []string{lockString(tc.held)}, posixLocks(t, s, h.Ino), "a refused lock changes nothing")
			}
			require.NoError(t, s.Shutdown(ctx))
		})
	}
}

func TestSetLk_BadInput(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	requirePathErr(t, s.SetLk(ctx, h, wr(10, 9, 1), false), syscall.EINVAL)
	requirePathErr(t, s.SetLk(ctx, h, meta.Lock{Type: 3, End: 1}, false), syscall.EINVAL)
	requirePathErr(t, s.Flock(ctx, h, 1, 7, false), syscall.EINVAL)
	_, err := s.GetLk(ctx, h, un(0, 1, 1))
	requirePathErr(t, err, syscall.EINVAL)
	_, err = s.GetLk(ctx, h, rd(2, 1, 1))
	requirePathErr(t, err, syscall.EINVAL)

	// Access mode: a read lock needs reading, a write lock writing.
	ro := open(t, s, h.Ino, meta.ORdOnly)
	wo := open(t, s, h.Ino, meta.OWrOnly)
	requirePathErr(t, s.SetLk(ctx, ro, wr(0, 1, 1), false), syscall.EBADF)
	requirePathErr(t, s.SetLk(ctx, wo, rd(0, 1, 1), false), syscall.EBADF)
	require.NoError(t, s.SetLk(ctx, ro, rd(0, 1, 1), false))
	require.NoError(t, s.SetLk(ctx, wo, wr(5, 6, 2), false))

	// A closed handle: locking is EBADF, unlocking still works.
	require.NoError(t, s.Close(ctx, ro))
	requirePathErr(t, s.SetLk(ctx, ro, rd(0, 1, 1), false), syscall.EBADF)
	requirePathErr(t, s.Flock(ctx, ro, 1, meta.LockRead, false), syscall.EBADF)
	_, err = s.GetLk(ctx, ro, rd(0, 1, 9))
	requirePathErr(t, err, syscall.EBADF)
	require.NoError(t, s.SetLk(ctx, ro, un(0, meta.LockEOF, 1), false))
	require.Equal(t, []string{"W 5-6 o2"}, posixLocks(t, s, h.Ino))
	require.NoError(t, s.Shutdown(ctx))
}

func TestGetLk_ReportsHolder(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	lk := rd(100, 199, 1)
	lk.Pid = 4242
	require.NoError(t, s.SetLk(ctx, h, lk, false))
	lk2 := wr(300, meta.LockEOF, 2)
	lk2.Pid = 77
	require.NoError(t, s.SetLk(ctx, h, lk2, false))

	got, err := s.GetLk(ctx, h, wr(0, meta.LockEOF, 3))
	require.NoError(t, err)
	require.Equal(t, meta.Lock{Type: meta.LockRead, Start: 100, End: 199, Owner: 1, Pid: 4242, Session: h.Session}, got, "the lowest conflicting range first")

	got, err = s.GetLk(ctx, h, rd(150, 400, 3))
	require.NoError(t, err)
	require.Equal(t, meta.Lock{Type: meta.LockWrite, Start: 300, End: meta.LockEOF, Owner: 2, Pid: 77, Session: h.Session}, got, "read locks do not conflict")

	got, err = s.GetLk(ctx, h, wr(0, 99, 3))
	require.NoError(t, err)
	require.Equal(t, meta.LockUnlock, got.Type)
	require.Equal(t, uint64(0), got.Start)
	require.Equal(t, uint64(99), got.End)

	got, err = s.GetLk(ctx, h, wr(100, 150, 1))
	require.NoError(t, err)
	require.Equal(t, meta.LockUnlock, got.Type, "an owner's own locks never conflict")
	require.NoError(t, s.Shutdown(ctx))
}

func TestFlock_SharedExclusive(t *testing.T) {
	s := newStore(t)
	h1 := openFile(t, s, "f", meta.ORdOnly)
	h2 := open(t, s, h1.Ino, meta.ORdOnly)
	require.NoError(t, s.Flock(ctx, h1, 1, meta.LockRead, false))
	require.NoError(t, s.Flock(ctx, h2, 2, meta.LockRead, false), "shared locks share")
	err := s.Flock(ctx, h2, 2, meta.LockWrite, false)
	requirePathErr(t, err, syscall.EWOULDBLOCK)
	ls, err := s.Locks(ctx, h1.Ino)
	require.NoError(t, err)
	require.Len(t, ls, 2, "a refused upgrade keeps the shared lock")
	require.NoError(t, s.Flock(ctx, h1, 1, meta.LockUnlock, false))
	require.NoError(t, s.Flock(ctx, h2, 2, meta.LockWrite, false), "upgrade once alone")
	requirePathErr(t, s.Flock(ctx, h1, 1, meta.LockRead, false), syscall.EWOULDBLOCK)
	require.NoError(t, s.Flock(ctx, h2, 2, meta.LockRead, false), "downgrade")
	require.NoError(t, s.Flock(ctx, h1, 1, meta.LockRead, false))

	// flock and POSIX locks do not see each other.
	require.NoError(t, s.SetLk(ctx, h1, rd(0, meta.LockEOF, 9), false))
	got, err := s.GetLk(ctx, h1, wr(0, meta.LockEOF, 8))
	require.NoError(t, err)
	require.Equal(t, uint64(9), got.Owner, "GetLk sees only POSIX locks")

	// Close releases the handle's flock, not its POSIX locks.
	require.NoError(t, s.Close(ctx, h1))
	require.NoError(t, s.Flock(ctx, h2, 2, meta.LockWrite, false))
	require.Equal(t, []string{"R 0-EOF o9"}, posixLocks(t, s, h1.Ino))
	require.NoError(t, s.Shutdown(ctx))
}

func TestFlock_TwoHandlesOfOneSessionConflict(t *testing.T) {
	s := newStore(t)
	h1 := openFile(t, s, "f", meta.ORdOnly)
	h2 := open(t, s, h1.Ino, meta.ORdOnly)
	require.NoError(t, s.Flock(ctx, h1, 0, meta.LockWrite, false))
	requirePathErr(t, s.Flock(ctx, h2, 0, meta.LockWrite, false), syscall.EAGAIN)
	require.NoError(t, s.Flock(ctx, h1, 0, meta.LockWrite, false), "relocking is a no-op")
	require.NoError(t, s.Shutdown(ctx))
}

func TestLocks_GoWithTheInode(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	require.NoError(t, s.SetLk(ctx, h, wr(0, 9, 1), false))
	require.NoError(t, s.Flock(ctx, h, 1, meta.LockWrite, false))
	require.NoError(t, s.Close(ctx, h))
	require.Len(t, posixLocks(t, s, h.Ino), 1, "POSIX locks outlive the handle")
	require.NoError(t, s.Unlink(ctx, rootCred, root, "f"))
	ls, err := s.Locks(ctx, h.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	requireGone(t, s, h.Ino)
	require.NoError(t, s.Shutdown(ctx))
}

func TestSetLk_WaitUntilReleased(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	require.NoError(t, s.SetLk(ctx, h, wr(0, 9, 1), false))
	done := make(chan error, 1)
	go func() { done <- s.SetLk(ctx, h, wr(5, 5, 2), true) }()
	select {
	case err := <-done:
		t.Fatalf("wait returned while the lock was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, s.SetLk(ctx, h, un(0, 9, 1), false))
	require.NoError(t, <-done)
	require.Equal(t, []string{"W 5-5 o2"}, posixLocks(t, s, h.Ino))
	require.NoError(t, s.Shutdown(ctx))
}

func TestSetLk_WaitInterrupted(t *testing.T) {
	s := newStore(t)
	h := openFile(t, s, "f", meta.ORdWr)
	require.NoError(t, s.SetLk(ctx, h, wr(0, 9, 1), false))
	require.NoError(t, s.Flock(ctx, h, 1, meta.LockWrite, false))
	for _, call := range []func(context.Context) error{
		func(c context.Context) error { return s.SetLk(c, h, rd(0, 0, 2), true) },
		func(c context.Context) error { return s.Flock(c, h, 2, meta.LockRead, true) },
	} {
		c, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		err := call(c)
		cancel()
		requirePathErr(t, err, syscall.EINTR)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	}
	require.NoError(t, s.Shutdown(ctx))
}
