package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnavailable is matched (errors.Is) by the errors of calls that could
// not reach the server: it is down, unreachable, or shutting down. The
// call may or may not have been applied if the connection broke while it
// was in flight.
var ErrUnavailable = errors.New("metarpc: meta server unavailable")

// ErrClosed is returned by calls on a Client after Shutdown.
var ErrClosed = errors.New("metarpc: client shut down")

// RPCError is a failure of a call that carries no errno: the server was
// unreachable, rejected the request (InvalidArgument, Unauthenticated), or
// the store failed without a POSIX error. status.Code(err) gives its gRPC
// code; errors.Is matches ErrUnavailable, context.DeadlineExceeded and
// context.Canceled by code. meta.Errno maps it to EIO.
type RPCError struct {
	Method string // the RPC, "Lookup"
	Addr   string // the server's address
	Status *status.Status
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("meta server %s: %s: %s: %s", e.Addr, e.Method, e.Status.Code(), e.Status.Message())
}

// GRPCStatus lets status.Code and status.FromError see the status.
func (e *RPCError) GRPCStatus() *status.Status { return e.Status }

// Is matches the sentinels of the status's code.
func (e *RPCError) Is(target error) bool {
	switch e.Status.Code() {
	case codes.Unavailable:
		return target == ErrUnavailable
	case codes.DeadlineExceeded:
		return target == context.DeadlineExceeded
	case codes.Canceled:
		return target == context.Canceled
	}
	return false
}
