package metatest

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

var _ = register(
	testCase{name: "Xattr/SetGetListRemove", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.b", []byte("two"), 0))
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.a", []byte("one\x00\xff"), 0))
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.empty", nil, 0))
		v, err := f.GetXattr(ctx, rootCred, fl.Ino, "user.a")
		require.NoError(t, err)
		require.Equal(t, []byte("one\x00\xff"), v)
		v, err = f.GetXattr(ctx, rootCred, fl.Ino, "user.empty")
		require.NoError(t, err)
		require.Empty(t, v)
		ns, err := f.ListXattr(ctx, rootCred, fl.Ino)
		require.NoError(t, err)
		require.Equal(t, []string{"user.a", "user.b", "user.empty"}, ns)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.a", []byte("1"), 0))
		v, err = f.GetXattr(ctx, rootCred, fl.Ino, "user.a")
		require.NoError(t, err)
		require.Equal(t, []byte("1"), v)
		require.NoError(t, f.RemoveXattr(ctx, rootCred, fl.Ino, "user.a"))
		_, err = f.GetXattr(ctx, rootCred, fl.Ino, "user.a")
		requirePathErr(t, err, syscall.ENODATA)
		requirePathErr(t, f.RemoveXattr(ctx, rootCred, fl.Ino, "user.a"), syscall.ENODATA)
		ns, err = f.ListXattr(ctx, rootCred, fl.Ino)
		require.NoError(t, err)
		require.Equal(t, []string{"user.b", "user.empty"}, ns)
		d := mkdir(t, f, rootCred, root, "d", 0o755)
		require.NoError(t, f.SetXattr(ctx, rootCred, d.Ino, "user.dir", []byte("x"), 0), "directories carry xattrs")
	}},
	testCase{name: "Xattr/CreateReplaceFlags", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("v"), meta.XattrReplace), syscall.ENODATA)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("v"), meta.XattrCreate))
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("w"), meta.XattrCreate), syscall.EEXIST)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("w"), meta.XattrReplace))
		v, err := f.GetXattr(ctx, rootCred, fl.Ino, "user.x")
		require.NoError(t, err)
		require.Equal(t, []byte("w"), v)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("w"), 1<<4), syscall.EINVAL)
	}},
	testCase{name: "Xattr/Limits", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		long := "user." + strings.Repeat("n", meta.MaxXattrNameLen-len("user."))
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, long, []byte("v"), 0))
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, long+"n", []byte("v"), 0), syscall.ERANGE)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "", []byte("v"), 0), syscall.ERANGE)
		_, err := f.GetXattr(ctx, rootCred, fl.Ino, long+"n")
		requirePathErr(t, err, syscall.ERANGE)
		big := make([]byte, meta.MaxXattrValueLen)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.big", big, 0))
		v, err := f.GetXattr(ctx, rootCred, fl.Ino, "user.big")
		require.NoError(t, err)
		require.Len(t, v, meta.MaxXattrValueLen)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.big", append(big, 0), 0), syscall.E2BIG)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "nonamespace", []byte("v"), 0), syscall.EOPNOTSUPP)
		requirePathErr(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.", []byte("v"), 0), syscall.EINVAL)
	}},
	testCase{name: "Xattr/Permissions", fn: func(t *testing.T, f meta.FS) {
		h := home(t, f, alice)
		fl := create(t, f, alice, h, "f", 0o644)
		require.NoError(t, f.SetXattr(ctx, alice, fl.Ino, "user.mine", []byte("v"), 0))
		requirePathErr(t, f.SetXattr(ctx, bob, fl.Ino, "user.bob", []byte("v"), 0), syscall.EACCES)
		v, err := f.GetXattr(ctx, bob, fl.Ino, "user.mine")
		require.NoError(t, err, "read permission is enough to read user.*")
		require.Equal(t, []byte("v"), v)
		requirePathErr(t, f.RemoveXattr(ctx, bob, fl.Ino, "user.mine"), syscall.EACCES)
		requirePathErr(t, f.SetXattr(ctx, alice, fl.Ino, "trusted.t", []byte("v"), 0), syscall.EPERM)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "trusted.t", []byte("v"), 0))
		_, err = f.GetXattr(ctx, alice, fl.Ino, "trusted.t")
		requirePathErr(t, err, syscall.ENODATA)
		ns, err := f.ListXattr(ctx, alice, fl.Ino)
		require.NoError(t, err)
		require.Equal(t, []string{"user.mine"}, ns, "trusted.* is listed for root only")
		ns, err = f.ListXattr(ctx, rootCred, fl.Ino)
		require.NoError(t, err)
		require.Equal(t, []string{"trusted.t", "user.mine"}, ns)
		l := symlink(t, f, h, "l", "f")
		requirePathErr(t, f.SetXattr(ctx, rootCred, l.Ino, "user.x", []byte("v"), 0), syscall.EPERM)
	}},
	testCase{name: "Xattr/MissingInodeAndRemovedWithIt", fn: func(t *testing.T, f meta.FS) {
		requirePathErr(t, f.SetXattr(ctx, rootCred, 424242, "user.x", []byte("v"), 0), syscall.ENOENT)
		_, err := f.GetXattr(ctx, rootCred, 424242, "user.x")
		requirePathErr(t, err, syscall.ENOENT)
		_, err = f.ListXattr(ctx, rootCred, 424242)
		requirePathErr(t, err, syscall.ENOENT)
		requirePathErr(t, f.RemoveXattr(ctx, rootCred, 424242, "user.x"), syscall.ENOENT)
		fl := create(t, f, rootCred, root, "f", 0o644)
		require.NoError(t, f.SetXattr(ctx, rootCred, fl.Ino, "user.x", []byte("v"), 0))
		require.NoError(t, f.Unlink(ctx, rootCred, root, "f"))
		_, err = f.GetXattr(ctx, rootCred, fl.Ino, "user.x")
		requirePathErr(t, err, syscall.ENOENT)
	}},

	testCase{name: "Flock/ExclusiveAndShared", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h1, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		h2, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.NoError(t, f.Flock(ctx, h1, 1, meta.LockWrite, false))
		requirePathErr(t, f.Flock(ctx, h2, 2, meta.LockRead, false), syscall.EAGAIN)
		requirePathErr(t, f.Flock(ctx, h2, 2, meta.LockWrite, false), syscall.EAGAIN)
		require.NoError(t, f.Flock(ctx, h1, 1, meta.LockRead, false), "downgrade")
		require.NoError(t, f.Flock(ctx, h2, 2, meta.LockRead, false), "shared locks share")
		requirePathErr(t, f.Flock(ctx, h1, 1, meta.LockWrite, false), syscall.EAGAIN)
		require.NoError(t, f.Flock(ctx, h2, 2, meta.LockUnlock, false))
		require.NoError(t, f.Flock(ctx, h1, 1, meta.LockWrite, false), "upgrade once alone")
		require.NoError(t, f.Close(ctx, h1), "close releases h1's flock locks")
		require.NoError(t, f.Flock(ctx, h2, 2, meta.LockWrite, false))
		requirePathErr(t, f.Flock(ctx, h1, 1, meta.LockWrite, false), syscall.EBADF)
		requirePathErr(t, f.Flock(ctx, h2, 2, meta.LockType(7), false), syscall.EINVAL)
		require.NoError(t, f.Close(ctx, h2))
	}},
	testCase{name: "Flock/WaitUntilReleased", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h1, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		h2, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		require.NoError(t, f.Flock(ctx, h1, 1, meta.LockWrite, false))
		got := make(chan error, 1)
		go func() { got <- f.Flock(ctx, h2, 2, meta.LockWrite, true) }()
		// The waiter cannot have the lock while h1 holds it.
		requirePathErr(t, f.Flock(ctx, h2, 3, meta.LockWrite, false), syscall.EAGAIN)
		require.NoError(t, f.Flock(ctx, h1, 1, meta.LockUnlock, false))
		select {
		case err := <-got:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Fatal("the waiting flock was not granted after the unlock")
		}
		requirePathErr(t, f.Flock(ctx, h1, 1, meta.LockRead, false), syscall.EAGAIN)
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err = f.Flock(wctx, h1, 1, meta.LockRead, true)
		// The wait ends with its context: EINTR wrapping the deadline.
		// (Over gRPC the deadline may fire on the server a moment before
		// wctx's own timer, so wctx.Err() itself may still be nil here.)
		require.ErrorIs(t, err, context.DeadlineExceeded, "a wait ends with its context")
		require.Equal(t, syscall.EINTR, meta.Errno(err))
		require.NoError(t, f.Close(ctx, h1))
		require.NoError(t, f.Close(ctx, h2))
	}},
	testCase{name: "SetLk/RangesConflictSplitAndGetLk", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		ro, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 0, End: 99, Owner: 1, Pid: 11}, false))
		requirePathErr(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 50, End: 60, Owner: 2}, false), syscall.EAGAIN)
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 100, End: 200, Owner: 2}, false), "adjacent ranges do not conflict")
		got, err := f.GetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 10, End: 10, Owner: 2})
		require.NoError(t, err)
		require.Equal(t, meta.LockWrite, got.Type)
		require.EqualValues(t, 0, got.Start)
		require.EqualValues(t, 99, got.End)
		require.EqualValues(t, 1, got.Owner)
		require.EqualValues(t, 11, got.Pid)
		require.Equal(t, h.Session, got.Session)
		// Unlocking the middle splits owner 1's range.
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockUnlock, Start: 40, End: 59, Owner: 1}, false))
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 45, End: 50, Owner: 2}, false))
		got, err = f.GetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 60, End: meta.LockEOF, Owner: 3})
		require.NoError(t, err)
		require.EqualValues(t, 60, got.Start)
		require.EqualValues(t, 99, got.End)
		got, err = f.GetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 300, End: 400, Owner: 3})
		require.NoError(t, err)
		require.Equal(t, meta.LockUnlock, got.Type, "nothing in the way")
		requirePathErr(t, f.SetLk(ctx, ro, meta.Lock{Type: meta.LockWrite, Start: 1000, End: 1000, Owner: 4}, false), syscall.EBADF)
		requirePathErr(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 9, End: 1, Owner: 4}, false), syscall.EINVAL)
		_, err = f.GetLk(ctx, h, meta.Lock{Type: meta.LockType(9), Start: 0, End: 1, Owner: 4})
		requirePathErr(t, err, syscall.EINVAL)
		require.NoError(t, f.Close(ctx, ro))
		require.NoError(t, f.Close(ctx, h))
	}},
	testCase{name: "SetLk/WaitUntilReleased", fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdWr)
		require.NoError(t, err)
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 0, End: meta.LockEOF, Owner: 1}, false))
		got := make(chan error, 1)
		go func() {
			got <- f.SetLk(ctx, h, meta.Lock{Type: meta.LockWrite, Start: 5, End: 5, Owner: 2}, true)
		}()
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockUnlock, Start: 0, End: meta.LockEOF, Owner: 1}, false))
		select {
		case err := <-got:
			require.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Fatal("the waiting lock was not granted after the unlock")
		}
		l, err := f.GetLk(ctx, h, meta.Lock{Type: meta.LockRead, Start: 0, End: meta.LockEOF, Owner: 1})
		require.NoError(t, err)
		require.EqualValues(t, 2, l.Owner)
		require.NoError(t, f.SetLk(ctx, h, meta.Lock{Type: meta.LockUnlock, Start: 0, End: meta.LockEOF, Owner: 2}, false))
		require.NoError(t, f.Close(ctx, h))
	}},
	testCase{name: "Shutdown/EndsTheSession", noCheck: true, fn: func(t *testing.T, f meta.FS) {
		fl := create(t, f, rootCred, root, "f", 0o644)
		h, err := f.Open(ctx, rootCred, fl.Ino, meta.ORdOnly)
		require.NoError(t, err)
		require.NoError(t, f.Flock(ctx, h, 1, meta.LockRead, false))
		RequireClean(t, f)
		require.NoError(t, f.Shutdown(ctx))
		require.NoError(t, f.Shutdown(ctx), "a second Shutdown is harmless")
	}},
)
