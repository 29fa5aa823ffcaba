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
	got = roundTrip(t, intr)
	require.ErrorIs(t, got, syscall.EINTR)
	require.ErrorIs(t, got, context.DeadlineExceeded, "the cause survives the wire")
	require.Equal(t, intr.Error(), got.Error())
	intr = &fs.PathError{Op: "setlk", Path: "#5", Err: errors.Join(syscall.EINTR, context.Canceled)}
	got = roundTrip(t, intr)
	require.ErrorIs(t, got, context.Canceled)
	require.NotErrorIs(t, got, context.DeadlineExceeded)
	require.NotErrorIs(t, roundTrip(t, &fs.PathError{Op: "lookup", Path: "#1/x", Err: syscall.ENOENT}), context.Canceled)
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

// An error on the wire without an errno (a buggy or hostile server) must
// not come back as errno 0, which callers such as a FUSE server read as
// success: it is EIO, keeping the text.
func TestFromError_ZeroErrnoIsEIO(t *testing.T) {
	for _, e := range []*metapb.Error{
		{},
		{Kind: metapb.Error_KIND_PLAIN, Message: "boom"},
		{Kind: metapb.Error_KIND_PATH, Op: "lookup", Path: []byte("#1/x"), Message: "boom"},
		{Kind: metapb.Error_KIND_LINK, Op: "rename", Path: []byte("#1/a"), Path2: []byte("#1/b")},
		{Kind: metapb.Error_Kind(99), Message: "unknown kind"},
	} {
		err := FromError(e)
		require.Error(t, err, "%v", e)
		require.Equal(t, syscall.EIO, meta.Errno(err), "%v: %v", e, err)
		if e.Message != "" {
			require.Contains(t, err.Error(), e.Message)
		}
	}
	// Session expiry without an errno still reads as ESTALE.
	err := FromError(&metapb.Error{SessionExpired: true})
	require.ErrorIs(t, err, meta.ErrSessionExpired)
	require.Equal(t, syscall.ESTALE, meta.Errno(err))
}

// The outermost of *fs.PathError and *os.LinkError names the kind on the
// wire, whichever type it is.
func TestError_OutermostWrapperKind(t *testing.T) {
	le := &os.LinkError{Op: "rename", Old: "#1/a", New: "#1/b", Err: &fs.PathError{Op: "lookup", Path: "#1/a", Err: syscall.ENOENT}}
	got := roundTrip(t, le)
	require.IsType(t, &os.LinkError{}, got)
	require.Equal(t, le.Error(), got.Error())
	require.ErrorIs(t, got, syscall.ENOENT)
	pe := &fs.PathError{Op: "removeall", Path: "/d", Err: &os.LinkError{Op: "rename", Old: "#1/a", New: "#1/b", Err: syscall.EXDEV}}
	got = roundTrip(t, pe)
	require.IsType(t, &fs.PathError{}, got)
	require.Equal(t, pe.Error(), got.Error())
	require.ErrorIs(t, got, syscall.EXDEV)
}
