package customkv

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// backend is the txnbuf.Backend of one transaction: RPCs to the current
// endpoint, bounded by the call timeout and the transaction's deadline.
type backend struct {
	e        *Engine
	deadline time.Time
}

func (b *backend) restart() { b.deadline = time.Now().Add(b.e.opts.TransactionTimeout) }

// call runs one RPC with failover: a call that did not reach its endpoint
// is tried on the next healthy one, up to once per endpoint.
func (b *backend) call(ctx context.Context, name string, commit bool, rpc func(context.Context, kvpb.KVClient) error) error {
	if b.e.closed.Load() {
		return kv.Errorf(kv.CodeClosed, "customkv: engine closed")
	}
	var err error
	for range len(b.e.eps) {
		if time.Now().After(b.deadline) {
			return kv.Errorf(kv.CodeTimeout, "customkv: transaction ran past its timeout of %v", b.e.opts.TransactionTimeout)
		}
		if cerr := ctx.Err(); cerr != nil {
			return ctxError(name, cerr)
		}
		b.e.calls.Add(1)
		ep := b.e.endpoint()
		// One deadline, the earlier of the call's and the transaction's:
		// a timer and a context less per call than nesting the two.
		cctx, cancel := context.WithDeadline(ctx, earlier(time.Now().Add(b.e.opts.CallTimeout), b.deadline))
		sent := &sentFlag{}
		cctx = context.WithValue(cctx, sentKey{}, sent)
		err = rpc(cctx, ep.client())
		cancel()
		if err == nil {
			return nil
		}
		var retry bool
		err, retry = b.mapError(ctx, ep, name, commit, sent.sent.Load(), err)
		if !retry || len(b.e.eps) == 1 {
			return err
		}
		b.e.markDown(ep)
	}
	return err
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// mapError turns an RPC failure into a kv error, and reports whether the
// call may go to another endpoint.
func (b *backend) mapError(ctx context.Context, ep *endpoint, name string, commit, sent bool, err error) (error, bool) {
	st := status.Convert(err)
	if ke := wire.Detail(st); ke != nil {
		// The server answered: its verdict is definite.
		return ke, false
	}
	code := st.Code()
	if code == codes.ResourceExhausted || code == codes.Unimplemented {
		// gRPC refused the message (size) or the call: nothing was applied.
		return kv.Errorf(kv.CodeInvalid, "customkv: %s to %s refused: %w", name, ep.addr, err), false
	}
	if commit && sent {
		return kv.Errorf(kv.CodeMaybeCommitted, "customkv: commit to %s sent but its reply was lost: %w", ep.addr, err), false
	}
	if time.Now().After(b.deadline) {
		return kv.Errorf(kv.CodeTimeout, "customkv: transaction ran past its timeout of %v: %w", b.e.opts.TransactionTimeout, err), false
	}
	if cerr := ctx.Err(); cerr != nil {
		return ctxError(name, cerr), false
	}
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted, codes.Unknown:
		// Not reached, or no answer within the call timeout: nothing was
		// applied (a lost commit reply was handled above).
		if code == codes.Unavailable {
			b.e.markDown(ep)
		}
		return kv.Errorf(kv.CodeUnavailable, "customkv: %s to %s: %w", name, ep.addr, err), true
	}
	return kv.Errorf(kv.CodeInternal, "customkv: %s to %s: %w", name, ep.addr, err), false
}

func ctxError(name string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return kv.Errorf(kv.CodeTimeout, "customkv: %s: %w", name, err)
	}
	return kv.Errorf(kv.CodeCancelled, "customkv: %s: %w", name, err)
}

// ReadVersion implements txnbuf.Backend.
func (b *backend) ReadVersion(ctx context.Context) (int64, error) {
	var v int64
	err := b.call(ctx, "GetReadVersion", false, func(ctx context.Context, c kvpb.KVClient) error {
		resp, err := c.GetReadVersion(ctx, &kvpb.GetReadVersionRequest{})
		if err == nil {
			v = resp.GetReadVersion()
		}
		return err
	})
	return v, err
}

// Get implements txnbuf.Backend.
func (b *backend) Get(ctx context.Context, rv int64, keys [][]byte) ([]txnbuf.Value, int64, error) {
	var resp *kvpb.GetResponse
	err := b.call(ctx, "Get", false, func(ctx context.Context, c kvpb.KVClient) error {
		var err error
		resp, err = c.Get(ctx, &kvpb.GetRequest{ReadVersion: rv, Keys: keys})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if len(resp.GetValues()) != len(keys) {
		return nil, 0, kv.Errorf(kv.CodeInternal, "customkv: server answered %d values for %d keys", len(resp.GetValues()), len(keys))
	}
	out := make([]txnbuf.Value, len(keys))
	for i, v := range resp.GetValues() {
		if v.GetFound() {
			out[i] = txnbuf.Value{Value: wire.NonNil(v.GetValue()), Found: true}
		}
	}
	return out, resp.GetReadVersion(), nil
}

// Range implements txnbuf.Backend.
func (b *backend) Range(ctx context.Context, rv int64, begin, end []byte, limit int, reverse bool) ([]kv.KeyValue, bool, int64, error) {
	var resp *kvpb.GetRangeResponse
	err := b.call(ctx, "GetRange", false, func(ctx context.Context, c kvpb.KVClient) error {
		var err error
		resp, err = c.GetRange(ctx, &kvpb.GetRangeRequest{ReadVersion: rv, Begin: begin, End: end, Limit: int32(min(limit, 1<<30)), Reverse: reverse})
		return err
	})
	if err != nil {
		return nil, false, 0, err
	}
	rows := make([]kv.KeyValue, len(resp.GetKvs()))
	for i, r := range resp.GetKvs() {
		rows[i] = kv.KeyValue{Key: wire.NonNil(r.GetKey()), Value: wire.NonNil(r.GetValue())}
	}
	return rows, resp.GetMore(), resp.GetReadVersion(), nil
}

// Commit implements txnbuf.Backend.
func (b *backend) Commit(ctx context.Context, req *txnbuf.CommitRequest) (txnbuf.CommitResult, error) {
	var resp *kvpb.CommitResponse
	preq := wire.CommitToPB(req)
	err := b.call(ctx, "Commit", true, func(ctx context.Context, c kvpb.KVClient) error {
		var err error
		resp, err = c.Commit(ctx, preq)
		return err
	})
	if err != nil {
		return txnbuf.CommitResult{}, err
	}
	res := txnbuf.CommitResult{Version: resp.GetCommittedVersion()}
	if len(resp.GetVersionstamp()) != kv.VersionstampSize {
		// Applied, but the reply is unusable: the outcome is known to the
		// server only.
		return txnbuf.CommitResult{}, kv.Errorf(kv.CodeMaybeCommitted, "customkv: commit reply has a versionstamp of %d bytes", len(resp.GetVersionstamp()))
	}
	copy(res.Versionstamp[:], resp.GetVersionstamp())
	return res, nil
}

// sentKey carries a *sentFlag in a call's context.
type sentKey struct{}

// sentFlag records that a call's request reached the transport: from then
// on a lost reply leaves a commit's outcome unknown.
type sentFlag struct{ sent atomic.Bool }

// sentTracker is a gRPC stats handler that sets the sentFlag of a call when
// its headers or payload go out.
type sentTracker struct{}

func (sentTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (sentTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	switch s.(type) {
	case *stats.OutHeader, *stats.OutPayload:
		if f, ok := ctx.Value(sentKey{}).(*sentFlag); ok {
			f.sent.Store(true)
		}
	}
}

func (sentTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (sentTracker) HandleConn(context.Context, stats.ConnStats) {}
