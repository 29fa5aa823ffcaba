package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/kvcheck"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
)

// Server-side bounds on one read request. Range reads stop early and set
// More; callers page on it.
const (
	maxBatchKeys  = 10_000
	maxRangeRows  = 10_000
	maxRangeBytes = 4 << 20
)

type service struct {
	kvpb.UnimplementedKVServer
	s *Server
}

func (sv *service) readVersion(rv int64) (int64, error) {
	if rv < 0 {
		return 0, kv.Errorf(kv.CodeInvalid, "negative read version %d", rv)
	}
	if rv != 0 {
		return rv, nil
	}
	return sv.s.store.ReadVersion()
}

func (sv *service) GetReadVersion(ctx context.Context, _ *kvpb.GetReadVersionRequest) (*kvpb.GetReadVersionResponse, error) {
	v, err := sv.s.store.ReadVersion()
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &kvpb.GetReadVersionResponse{ReadVersion: v}, nil
}

func (sv *service) Get(ctx context.Context, req *kvpb.GetRequest) (*kvpb.GetResponse, error) {
	keys := req.GetKeys()
	if len(keys) > maxBatchKeys {
		return nil, wire.InvalidArgument("get of %d keys exceeds the limit of %d keys per call", len(keys), maxBatchKeys)
	}
	for i, k := range keys {
		if err := kvcheck.Key(k); err != nil {
			return nil, wire.ToStatus(within(err, "key %d", i))
		}
	}
	rv, err := sv.readVersion(req.GetReadVersion())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	vals, err := sv.s.store.Get(rv, keys)
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	resp := &kvpb.GetResponse{ReadVersion: rv, Values: make([]*kvpb.Value, len(vals))}
	for i, v := range vals {
		resp.Values[i] = &kvpb.Value{Value: v.Value, Found: v.Found}
	}
	return resp, nil
}

func (sv *service) GetRange(ctx context.Context, req *kvpb.GetRangeRequest) (*kvpb.GetRangeResponse, error) {
	b, e := wire.NonNil(req.GetBegin()), wire.NonNil(req.GetEnd())
	if len(b) > kv.MaxKeySize+1 || len(e) > kv.MaxKeySize+1 {
		return nil, wire.ToStatus(kv.Errorf(kv.CodeKeyTooLarge, "range bound exceeds the key limit of %d bytes", kv.MaxKeySize))
	}
	if bytes.Compare(e, kvcheck.MaxUserKey) > 0 {
		return nil, wire.InvalidArgument("range end %q is past the user key space (at most 0xff)", kvcheck.Trunc(e))
	}
	limit := int(req.GetLimit())
	if limit <= 0 {
		return nil, wire.InvalidArgument("range limit %d must be positive", limit)
	}
	limit = min(limit, maxRangeRows)
	rv, err := sv.readVersion(req.GetReadVersion())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	resp := &kvpb.GetRangeResponse{ReadVersion: rv}
	if bytes.Compare(b, e) >= 0 {
		return resp, nil
	}
	rows, more, err := sv.s.store.Range(rv, b, e, limit, req.GetReverse())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	size := 0
	for i, r := range rows {
		size += len(r.Key) + len(r.Value)
		if size > maxRangeBytes && i > 0 {
			rows, more = rows[:i], true
			break
		}
	}
	resp.More = more
	resp.Kvs = make([]*kvpb.KeyValue, len(rows))
	for i, r := range rows {
		resp.Kvs[i] = &kvpb.KeyValue{Key: r.Key, Value: r.Value}
	}
	return resp, nil
}

func (sv *service) Commit(ctx context.Context, req *kvpb.CommitRequest) (*kvpb.CommitResponse, error) {
	creq, err := wire.CommitFromPB(req)
	if err == nil {
		err = validateCommit(creq)
	}
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	res, err := sv.s.store.Commit(creq)
	if err != nil {
		if errors.Is(err, kv.ErrConflict) {
			sv.s.m.conflicts.Inc()
		}
		return nil, wire.ToStatus(err)
	}
	sv.s.m.commits.Inc()
	return &kvpb.CommitResponse{CommittedVersion: res.Version, Versionstamp: res.Versionstamp[:]}, nil
}

// within prefixes a validation error's message with where it was found,
// keeping its code.
func within(err error, format string, args ...any) error {
	ke := &kv.Error{Code: kv.CodeInvalid, Msg: err.Error()}
	var inner *kv.Error
	if errors.As(err, &inner) {
		ke.Code, ke.Msg = inner.Code, inner.Msg
	}
	ke.Msg = fmt.Sprintf(format, args...) + ": " + ke.Msg
	return ke
}

// validateCommit checks everything the client is supposed to have checked:
// the server never trusts it.
func validateCommit(req *txnbuf.CommitRequest) error {
	size := 0
	if req.ReadVersion < 0 {
		return kv.Errorf(kv.CodeInvalid, "negative read version %d", req.ReadVersion)
	}
	if len(req.ReadConflicts) > 0 && req.ReadVersion == 0 {
		return kv.Errorf(kv.CodeInvalid, "read conflict ranges without a read version")
	}
	for i, r := range req.ReadConflicts {
		// Conflict ranges only select what to check, and may reach past the
		// user key space (a selector on 0xff resolves there).
		if len(r.Begin) > kv.MaxKeySize+2 || len(r.End) > kv.MaxKeySize+2 {
			return kv.Errorf(kv.CodeKeyTooLarge, "read conflict range %d: bound exceeds the key limit of %d bytes", i, kv.MaxKeySize)
		}
		if bytes.Compare(r.Begin, r.End) > 0 {
			return kv.Errorf(kv.CodeInvalid, "read conflict range %d: inverted range: begin %q is after end %q", i, kvcheck.Trunc(r.Begin), kvcheck.Trunc(r.End))
		}
		size += len(r.Begin) + len(r.End)
	}
	for i := range req.Mutations {
		m := &req.Mutations[i]
		if err := checkMutation(m); err != nil {
			return within(err, "mutation %d", i)
		}
		size += len(m.Key) + len(m.End) + len(m.Value)
	}
	if size > kv.MaxTxnSize {
		return kv.Errorf(kv.CodeTxnTooLarge, "transaction of %d bytes exceeds the limit of %d bytes", size, kv.MaxTxnSize)
	}
	return nil
}

func checkMutation(m *txnbuf.Mutation) error {
	switch m.Type {
	case txnbuf.MutSet:
		if err := kvcheck.Key(m.Key); err != nil {
			return err
		}
		return kvcheck.Value(m.Value)
	case txnbuf.MutClear:
		return kvcheck.Key(m.Key)
	case txnbuf.MutClearRange:
		return kvcheck.Range(m.Key, m.End)
	case txnbuf.MutAtomic:
		if m.Op < kv.AtomicAdd || m.Op > kv.AtomicBitXor {
			return kv.Errorf(kv.CodeInvalid, "unknown atomic operation %d", m.Op)
		}
		if err := kvcheck.Key(m.Key); err != nil {
			return err
		}
		return kvcheck.Value(m.Value)
	case txnbuf.MutSetVSKey, txnbuf.MutSetVSValue:
		if err := kvcheck.Key(m.Key); err != nil {
			return err
		}
		if err := kvcheck.Value(m.Value); err != nil {
			return err
		}
		n, what := len(m.Key), "key"
		if m.Type == txnbuf.MutSetVSValue {
			n, what = len(m.Value), "value"
		}
		if m.Offset < 0 || m.Offset+kv.VersionstampSize > n {
			return kv.Errorf(kv.CodeInvalid, "versionstamp offset %d out of bounds for a %s of %d bytes", m.Offset, what, n)
		}
		return nil
	}
	return kv.Errorf(kv.CodeInvalid, "unknown mutation type %d", m.Type)
}
