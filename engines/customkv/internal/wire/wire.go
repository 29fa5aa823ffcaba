// Package wire converts between the kv and txnbuf types and the kvpb
// protocol messages, and between kv errors and gRPC statuses. The client
// engine and the server share it so both ends agree on every mapping.
package wire

import (
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServiceName is the KV service's full name, also used for health checks.
const ServiceName = "fsmeta.kv.v1.KV"

var mutTypes = map[txnbuf.MutationType]kvpb.MutationType{
	txnbuf.MutSet:        kvpb.MutationType_MUTATION_TYPE_SET,
	txnbuf.MutClear:      kvpb.MutationType_MUTATION_TYPE_CLEAR,
	txnbuf.MutClearRange: kvpb.MutationType_MUTATION_TYPE_CLEAR_RANGE,
	txnbuf.MutAtomic:     kvpb.MutationType_MUTATION_TYPE_ATOMIC,
	txnbuf.MutSetVSKey:   kvpb.MutationType_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY,
	txnbuf.MutSetVSValue: kvpb.MutationType_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE,
}

var mutTypesBack = func() map[kvpb.MutationType]txnbuf.MutationType {
	m := make(map[kvpb.MutationType]txnbuf.MutationType, len(mutTypes))
	for k, v := range mutTypes {
		m[v] = k
	}
	return m
}()

// CommitToPB encodes a commit request. The message shares req's slices.
func CommitToPB(req *txnbuf.CommitRequest) *kvpb.CommitRequest {
	out := &kvpb.CommitRequest{
		ReadVersion:   req.ReadVersion,
		ReadConflicts: make([]*kvpb.KeyRange, len(req.ReadConflicts)),
		Mutations:     make([]*kvpb.Mutation, len(req.Mutations)),
	}
	for i, r := range req.ReadConflicts {
		out.ReadConflicts[i] = &kvpb.KeyRange{Begin: r.Begin, End: r.End}
	}
	for i, m := range req.Mutations {
		out.Mutations[i] = &kvpb.Mutation{
			Type:   mutTypes[m.Type],
			Op:     kvpb.AtomicOp(m.Op),
			Key:    m.Key,
			End:    m.End,
			Value:  m.Value,
			Offset: int32(m.Offset),
		}
	}
	return out
}

// CommitFromPB decodes a commit request without validating it (see
// ValidateCommit). The result shares req's slices.
func CommitFromPB(req *kvpb.CommitRequest) (*txnbuf.CommitRequest, error) {
	out := &txnbuf.CommitRequest{
		ReadVersion:   req.GetReadVersion(),
		ReadConflicts: make([]kv.KeyRange, len(req.GetReadConflicts())),
		Mutations:     make([]txnbuf.Mutation, len(req.GetMutations())),
	}
	for i, r := range req.GetReadConflicts() {
		out.ReadConflicts[i] = kv.KeyRange{Begin: nonNil(r.GetBegin()), End: nonNil(r.GetEnd())}
	}
	for i, m := range req.GetMutations() {
		t, ok := mutTypesBack[m.GetType()]
		if !ok {
			return nil, kv.Errorf(kv.CodeInvalid, "mutation %d: unknown type %d", i, m.GetType())
		}
		out.Mutations[i] = txnbuf.Mutation{
			Type:   t,
			Op:     kv.AtomicOp(m.GetOp()),
			Key:    nonNil(m.GetKey()),
			End:    nonNil(m.GetEnd()),
			Value:  nonNil(m.GetValue()),
			Offset: int(m.GetOffset()),
		}
	}
	return out, nil
}

// nonNil turns the nil proto3 gives for empty bytes into an empty slice:
// an empty value is a value.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// NonNil is nonNil for the other packages of customkv.
func NonNil(b []byte) []byte { return nonNil(b) }

// ToStatus turns an error into a gRPC status error carrying an
// ErrorDetail with the kv code. Errors that are not kv errors become
// CodeInternal.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	var ke *kv.Error
	if !errors.As(err, &ke) {
		ke = &kv.Error{Code: kv.CodeInternal, Msg: err.Error()}
	}
	// kv.Errorf puts the cause's text into Msg already.
	msg := ke.Msg
	if msg == "" && ke.Err != nil {
		msg = ke.Err.Error()
	}
	st := status.New(grpcCode(ke.Code), ke.Code.String()+": "+msg)
	if ds, derr := st.WithDetails(&kvpb.ErrorDetail{Code: kvpb.ErrorCode(ke.Code), Message: msg}); derr == nil {
		st = ds
	}
	return st.Err()
}

// InvalidArgument is the status of a malformed request.
func InvalidArgument(format string, args ...any) error {
	return ToStatus(kv.Errorf(kv.CodeInvalid, format, args...))
}

func grpcCode(c kv.Code) codes.Code {
	switch c {
	case kv.CodeConflict:
		return codes.Aborted
	case kv.CodeTooOld, kv.CodeFutureVersion:
		return codes.FailedPrecondition
	case kv.CodeThrottled:
		return codes.ResourceExhausted
	case kv.CodeTimeout:
		return codes.DeadlineExceeded
	case kv.CodeCancelled:
		return codes.Canceled
	case kv.CodeUnavailable, kv.CodeClosed:
		return codes.Unavailable
	case kv.CodeKeyTooLarge, kv.CodeValueTooLarge, kv.CodeTxnTooLarge, kv.CodeInvalid:
		return codes.InvalidArgument
	case kv.CodeMaybeCommitted:
		return codes.Unknown
	}
	return codes.Internal
}

// Detail returns the kv error a status carries in its details, or nil when
// it has none (the status came from gRPC itself, not from the server).
func Detail(st *status.Status) *kv.Error {
	for _, d := range st.Details() {
		if ed, ok := d.(*kvpb.ErrorDetail); ok {
			c := kv.Code(ed.GetCode())
			if c < kv.CodeConflict || c > kv.CodeInternal {
				c = kv.CodeInternal
			}
			return &kv.Error{Code: c, Msg: fmt.Sprintf("%s (from the server)", ed.GetMessage())}
		}
	}
	return nil
}
