package customkv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// Defaults of Options.
const (
	DefaultConnectTimeout      = 2 * time.Second
	DefaultCallTimeout         = 5 * time.Second
	DefaultTransactionTimeout  = 10 * time.Second
	DefaultPoolSize            = 4
	DefaultHealthCheckInterval = time.Second
)

// Options configure an Engine. Zero durations and sizes take the defaults.
type Options struct {
	// Endpoints are the server addresses (host:port), in order of
	// preference. At least one is required.
	Endpoints []string
	// ConnectTimeout bounds connection setup and the health check Open
	// makes (default 2 s).
	ConnectTimeout time.Duration
	// CallTimeout bounds one RPC (default 5 s).
	CallTimeout time.Duration
	// TransactionTimeout bounds a transaction from its creation or Reset
	// (default 10 s); later calls fail with kv.ErrTimeout.
	TransactionTimeout time.Duration
	// PoolSize is the number of connections per endpoint (default 4).
	PoolSize int
	// HealthCheckInterval is the time between health probes of each
	// endpoint (default 1 s).
	HealthCheckInterval time.Duration
	// TLS, if set, is used for every connection; otherwise connections are
	// plaintext.
	TLS *tls.Config
	// Logger receives endpoint state changes (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) fill() error {
	if len(o.Endpoints) == 0 {
		return errors.New("customkv: no endpoints")
	}
	for i, ep := range o.Endpoints {
		if ep == "" {
			return fmt.Errorf("customkv: endpoint %d is empty", i)
		}
	}
	def := func(d *time.Duration, v time.Duration, name string) error {
		if *d < 0 {
			return fmt.Errorf("customkv: %s %v is negative", name, *d)
		}
		if *d == 0 {
			*d = v
		}
		return nil
	}
	if err := errors.Join(
		def(&o.ConnectTimeout, DefaultConnectTimeout, "ConnectTimeout"),
		def(&o.CallTimeout, DefaultCallTimeout, "CallTimeout"),
		def(&o.TransactionTimeout, DefaultTransactionTimeout, "TransactionTimeout"),
		def(&o.HealthCheckInterval, DefaultHealthCheckInterval, "HealthCheckInterval"),
	); err != nil {
		return err
	}
	if o.PoolSize < 0 {
		return fmt.Errorf("customkv: PoolSize %d is negative", o.PoolSize)
	}
	if o.PoolSize == 0 {
		o.PoolSize = DefaultPoolSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

type endpoint struct {
	addr    string
	conns   []*grpc.ClientConn
	kv      []kvpb.KVClient
	health  healthpb.HealthClient
	next    atomic.Uint32
	healthy atomic.Bool
}

func (ep *endpoint) client() kvpb.KVClient {
	return ep.kv[int(ep.next.Add(1))%len(ep.kv)]
}

// Engine is a kv.Engine over one or more KV server endpoints. It is safe
// for concurrent use.
type Engine struct {
	opts   Options
	eps    []*endpoint
	cur    atomic.Int32 // index of the endpoint calls go to
	closed atomic.Bool
	calls  atomic.Int64 // RPCs issued by transactions, for round-trip accounting
	stop   chan struct{}
	wg     sync.WaitGroup
}

var _ kv.Engine = (*Engine)(nil)

// Calls is the number of RPCs transactions have issued since Open (one per
// round trip; a failover retry counts again).
func (e *Engine) Calls() int64 { return e.calls.Load() }

// Open connects to the endpoints and waits, up to ConnectTimeout, for one
// of them to answer a health check. It fails with kv.ErrUnavailable if none
// does.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if err := opts.fill(); err != nil {
		return nil, kv.Errorf(kv.CodeInvalid, "%w", err)
	}
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithStatsHandler(sentTracker{}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: opts.ConnectTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}
	e := &Engine{opts: opts, stop: make(chan struct{})}
	for _, addr := range opts.Endpoints {
		ep := &endpoint{addr: addr}
		for range opts.PoolSize {
			cc, err := grpc.NewClient(addr, dial...)
			if err != nil {
				e.closeConns()
				return nil, kv.Errorf(kv.CodeInvalid, "customkv: endpoint %q: %w", addr, err)
			}
			cc.Connect()
			ep.conns = append(ep.conns, cc)
			ep.kv = append(ep.kv, kvpb.NewKVClient(cc))
		}
		ep.health = healthpb.NewHealthClient(ep.conns[0])
		e.eps = append(e.eps, ep)
	}
	cctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if !e.checkAll(cctx, true) {
		e.closeConns()
		return nil, kv.Errorf(kv.CodeUnavailable, "customkv: no endpoint of %q answered a health check within %v", opts.Endpoints, opts.ConnectTimeout)
	}
	e.wg.Add(1)
	go e.healthLoop()
	return e, nil
}

// checkAll probes every endpoint once, concurrently, and points calls at
// the first healthy one at or after the current one. wait makes the probes
// wait for connections to come up (within ctx).
func (e *Engine) checkAll(ctx context.Context, wait bool) bool {
	var wg sync.WaitGroup
	for _, ep := range e.eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, min(e.opts.CallTimeout, max(e.opts.HealthCheckInterval, e.opts.ConnectTimeout)))
			defer cancel()
			var callOpts []grpc.CallOption
			if wait {
				callOpts = append(callOpts, grpc.WaitForReady(true))
			}
			resp, err := ep.health.Check(cctx, &healthpb.HealthCheckRequest{Service: wire.ServiceName}, callOpts...)
			ok := err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
			if was := ep.healthy.Swap(ok); was != ok {
				e.opts.Logger.Info("customkv: endpoint health changed", "endpoint", ep.addr, "healthy", ok, "err", err)
			}
		}()
	}
	wg.Wait()
	return e.failover()
}

// failover points calls at the first healthy endpoint, starting from the
// current one, and reports whether there is one.
func (e *Engine) failover() bool {
	cur := int(e.cur.Load())
	for i := range e.eps {
		j := (cur + i) % len(e.eps)
		if e.eps[j].healthy.Load() {
			if j != cur && e.cur.CompareAndSwap(int32(cur), int32(j)) {
				e.opts.Logger.Info("customkv: failing over", "from", e.eps[cur].addr, "to", e.eps[j].addr)
			}
			return true
		}
	}
	return false
}

// markDown records that ep failed a call and moves calls elsewhere.
func (e *Engine) markDown(ep *endpoint) {
	if ep.healthy.Swap(false) {
		e.opts.Logger.Info("customkv: endpoint failed a call", "endpoint", ep.addr)
	}
	e.failover()
}

func (e *Engine) healthLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.HealthCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		e.checkAll(ctx, false)
		cancel()
	}
}

// endpoint returns the endpoint the next call goes to.
func (e *Engine) endpoint() *endpoint { return e.eps[int(e.cur.Load())%len(e.eps)] }

// NewReadOnly implements kv.Engine.
func (e *Engine) NewReadOnly() kv.ReadOnlyTxn { return e.newTxn(true) }

// NewReadWrite implements kv.Engine.
func (e *Engine) NewReadWrite() kv.ReadWriteTxn { return e.newTxn(false) }

func (e *Engine) newTxn(readOnly bool) *txn {
	be := &backend{e: e}
	be.restart()
	return &txn{Txn: txnbuf.New(be, readOnly), be: be}
}

// Close implements kv.Engine: it stops health checking and closes the
// connections. Later calls fail with kv.ErrClosed.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	close(e.stop)
	e.wg.Wait()
	e.closeConns()
	return nil
}

func (e *Engine) closeConns() {
	for _, ep := range e.eps {
		for _, cc := range ep.conns {
			cc.Close()
		}
	}
}

// txn is txnbuf's transaction with the transaction deadline restarted on
// Reset.
type txn struct {
	*txnbuf.Txn
	be *backend
}

// Reset implements kv.ReadOnlyTxn.
func (t *txn) Reset() {
	t.Txn.Reset()
	t.be.restart()
}
