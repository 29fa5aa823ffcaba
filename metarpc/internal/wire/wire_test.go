package wire

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func roundTrip(t *testing.T, err error) error {
	t.Helper()
	e := Error(err)
	require.NotNil(t, e, "%v carries an errno", err)
	b, merr := proto.Marshal(e)
	require.NoError(t, merr)
	var got metapb.Error
	require.NoError(t, proto.Unmarshal(b, &got))
	return FromError(&got)
}

func TestError_RoundTrip(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "lookup", Path: "#1/x", Err: syscall.ENOENT},
		&os.LinkError{Op: "rename", Old: "#1/a", New: "#7/b\xff", Err: syscall.EXDEV},
		syscall.EINVAL,
	} {
		got := roundTrip(t, err)
		require.Equal(t, err, got, "plain errno errors come back identical")
	}

	// Inner errors with more text keep it and the errno.
	wrapped := &fs.PathError{Op: "create", Path: "#1/f", Err: fmt.Errorf("meta: allocated inode id 9 is in use: %w", syscall.EIO)}
	got := roundTrip(t, wrapped)
	require.Equal(t, wrapped.Error(), got.Error())
	require.ErrorIs(t, got, syscall.EIO)
	require.IsType(t, &fs.PathError{}, got)

	// Session expiry survives as the sentinel and its errno.
	exp := &fs.PathError{Op: "open", Path: "#5", Err: fmt.Errorf("session 1 lease ran out: %w", meta.ErrSessionExpired)}
	got = roundTrip(t, exp)
	require.ErrorIs(t, got, meta.ErrSessionExpired)
	require.Equal(t, syscall.ESTALE, meta.Errno(got))
	require.Equal(t, exp.Error(), got.Error())
	got = FromError(Expired("setlk", 42))
	require.ErrorIs(t, got, meta.ErrSessionExpired)
	require.Equal(t, syscall.ESTALE, meta.Errno(got))

	// Lock waits cut off by their context are EINTR.
	intr := &fs.PathError{Op: "flock", Path: "#5", Err: errors.Join(syscall.EINTR, context.DeadlineExceeded)}
	require.ErrorIs(t, roundTrip(t, intr), syscall.EINTR)
}

func TestError_WithoutErrnoIsAStatus(t *testing.T) {
	for err, want := range map[error]codes.Code{
		&fs.PathError{Op: "lookup", Path: "#1/x", Err: kv.ErrUnavailable}: codes.Unavailable,
		fmt.Errorf("x: %w", kv.ErrConflict):                               codes.Aborted,
		context.Canceled:                                                  codes.Canceled,
		fmt.Errorf("x: %w", context.DeadlineExceeded):                     codes.DeadlineExceeded,
		kv.ErrTimeout:                codes.DeadlineExceeded,
		kv.ErrThrottled:              codes.ResourceExhausted,
		errors.New("something else"): codes.Internal,
	} {
		require.Nil(t, Error(err), "%v", err)
		require.Equal(t, want, Code(err), "%v", err)
	}
}

func TestConversions_RoundTrip(t *testing.T) {
	now := time.Unix(0, time.Now().UnixNano())
	a := meta.Attr{Ino: 9, Type: inode.TypeChar, Mode: 0o4755, Uid: 1, Gid: 2, Nlink: 3, Size: 4,
		Atime: now, Mtime: now.Add(time.Second), Ctime: now.Add(2 * time.Second), Rdev: 5, Entries: 6}
	require.Equal(t, a, FromAttr(Attr(a)))
	c := meta.Cred{Uid: 1, Gid: 2, Groups: []uint32{3, 4}}
	require.Equal(t, c, FromCred(Cred(c)))
	l := meta.Lock{Type: meta.LockWrite, Start: 1, End: meta.LockEOF, Owner: 7, Pid: 8, Session: 9}
	require.Equal(t, l, FromLock(Lock(l)))
	h := meta.Handle{Ino: 1, ID: 2, Session: 3}
	require.Equal(t, h, FromHandle(Handle(h)))
	past := time.Unix(1_000_000_000, 5)
	s := meta.SetAttr{Mode: ptr[uint32](0o600), Size: ptr[uint64](0), Mtime: &past, AtimeNow: true}
	got := FromSetAttr(SetAttr(c, 1, s))
	require.Equal(t, s.Mode, got.Mode)
	require.Equal(t, s.Size, got.Size)
	require.Nil(t, got.Uid)
	require.Nil(t, got.Atime)
	require.True(t, past.Equal(*got.Mtime))
	require.True(t, got.AtimeNow)
	rep := &meta.Report{Inodes: 3, Dirs: 2, Entries: 1, Problems: []meta.Problem{{Kind: meta.ProblemOrphan, Ino: 4, Detail: "d"}}}
	require.Equal(t, rep, FromReport(Report(rep)))
	require.Equal(t, "ENOENT", ErrnoName(syscall.ENOENT))
	require.Equal(t, "errno4000", ErrnoName(syscall.Errno(4000)))
}

func ptr[T any](v T) *T { return &v }
