package wire

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/fsmeta/fsmeta/kv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Status converts an error without an errno into a gRPC status error, the
// code chosen by what the error is.
func Status(err error) error {
	return status.Error(Code(err), err.Error())
}

// Code is the gRPC code for a failure without an errno.
func Code(err error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, kv.ErrCancelled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, kv.ErrTimeout):
		return codes.DeadlineExceeded
	case errors.Is(err, kv.ErrUnavailable), errors.Is(err, kv.ErrClosed):
		return codes.Unavailable
	case errors.Is(err, kv.ErrConflict), errors.Is(err, kv.ErrTooOld), errors.Is(err, kv.ErrMaybeCommitted):
		return codes.Aborted
	case errors.Is(err, kv.ErrThrottled):
		return codes.ResourceExhausted
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code()
	}
	return codes.Internal
}

// Invalid is the InvalidArgument status for a malformed request field.
func Invalid(field, format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "%s: %s", field, fmt.Sprintf(format, args...))
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.EIO: "EIO", syscall.EBADF: "EBADF",
	syscall.EAGAIN: "EAGAIN", syscall.EACCES: "EACCES", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST",
	syscall.EXDEV: "EXDEV", syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR", syscall.EINVAL: "EINVAL",
	syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS", syscall.EMLINK: "EMLINK", syscall.ERANGE: "ERANGE",
	syscall.EDEADLK: "EDEADLK", syscall.ENAMETOOLONG: "ENAMETOOLONG", syscall.ENOLCK: "ENOLCK",
	syscall.ENOSYS: "ENOSYS", syscall.ENOTEMPTY: "ENOTEMPTY", syscall.ELOOP: "ELOOP", syscall.ENODATA: "ENODATA",
	syscall.E2BIG: "E2BIG", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.ESTALE: "ESTALE", syscall.EINTR: "EINTR",
	syscall.EFBIG: "EFBIG", syscall.EOVERFLOW: "EOVERFLOW",
}

// ErrnoName is the symbolic name of e ("ENOENT"), for metric labels.
func ErrnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno%d", uint32(e))
}
