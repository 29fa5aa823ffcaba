package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Defaults of Options.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultDialTimeout = 5 * time.Second
)

// Options configure a Client. Zero fields take the defaults.
type Options struct {
	// Token is the server's shared token, sent with every call as the
	// metadata "authorization: Bearer <token>".
	Token string
	// TLS, if set, connects with TLS; nil is plaintext.
	TLS *tls.Config
	// CallTimeout bounds each call whose context has no earlier deadline
	// (default 30 s; negative: no bound). Blocking lock waits are bounded
	// by their context only.
	CallTimeout time.Duration
	// DialTimeout bounds Dial: connecting and registering the session
	// (default 5 s).
	DialTimeout time.Duration
	// Description is stored with the client's session (default
	// "metarpc client <host> pid <pid>").
	Description string
	// KeepaliveInterval is how often the session is renewed (default a
	// third of the lease the server grants).
	KeepaliveInterval time.Duration
	// Logger receives the client's logs (default: discarded).
	Logger *slog.Logger
}

// Client is a meta.FS served by a remote meta server. It holds one
// connection and one session at a time (see Open); it is safe for
// concurrent use.
type Client struct {
	addr string
	o    Options
	conn *grpc.ClientConn
	rpc  metapb.MetaClient
	log  *slog.Logger

	// renewMu serialises replacing the session (one NewSession at a time)
	// with Shutdown ending it.
	renewMu sync.Mutex
	mu      sync.Mutex // guards the fields below
	session uint64
	lease   time.Duration
	lost    bool // the server said the session expired
	shut    bool // Shutdown began: no new sessions

	stop     chan struct{}
	done     chan struct{}
	shutOnce sync.Once
	closed   atomic.Bool
	shutErr  error
}

var _ meta.FS = (*Client)(nil)

// token is the per-call credential of Options.Token.
type token string

func (t token) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (token) RequireTransportSecurity() bool { return false }

// Dial connects to the meta server at addr and registers a session, which
// a background goroutine renews until Shutdown.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Description == "" {
		host, _ := os.Hostname()
		o.Description = fmt.Sprintf("metarpc client %s pid %d", host, os.Getpid())
	}
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		creds = credentials.NewTLS(o.TLS)
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(wire.MaxMessage), grpc.MaxCallSendMsgSize(wire.MaxMessage)),
		// Fixed flow-control windows turn off gRPC's bandwidth probing,
		// whose pings cost a frame per call on small request/reply calls.
		grpc.WithInitialWindowSize(wire.Window),
		grpc.WithInitialConnWindowSize(wire.Window),
	}
	if o.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(token(o.Token)))
	}
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("metarpc: dial %s: %w", addr, err)
	}
	c := &Client{addr: addr, o: o, conn: conn, rpc: metapb.NewMetaClient(conn), log: o.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	id, lease, err := c.newSession(dctx, grpc.WaitForReady(true))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("metarpc: dial %s: %w", addr, err)
	}
	c.session, c.lease = id, lease
	go c.keepalive()
	return c, nil
}

// newSession registers a session on the server.
func (c *Client) newSession(ctx context.Context, opts ...grpc.CallOption) (uint64, time.Duration, error) {
	r, err := c.rpc.NewSession(ctx, &metapb.NewSessionRequest{Description: c.o.Description}, opts...)
	if err != nil {
		return 0, 0, c.rpcErr("NewSession", err)
	}
	if r.Error != nil {
		return 0, 0, wire.FromError(r.Error)
	}
	return r.Session, time.Duration(r.LeaseMs) * time.Millisecond, nil
}

// current returns the session new handles are opened in.
func (c *Client) current() (id uint64, lease time.Duration, lost bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.lease, c.lost
}

// expired records that the server found session id expired.
func (c *Client) expired(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == id && !c.lost {
		c.lost = true
		c.log.Error("session expired; its handles and locks are gone, new opens get a new session",
			"server", c.addr, "session", id)
	}
}

// replace registers a new session in place of the expired session old,
// unless another call already did. Handles of old stay fenced: their lock
// calls name old and fail with meta.ErrSessionExpired.
func (c *Client) replace(ctx context.Context, old uint64) error {
	c.renewMu.Lock()
	defer c.renewMu.Unlock()
	c.mu.Lock()
	cur, shut := c.session, c.shut
	c.mu.Unlock()
	if shut {
		return ErrClosed
	}
	if cur != old {
		return nil
	}
	cctx, cancel := c.callCtx(ctx)
	id, lease, err := c.newSession(cctx)
	cancel()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.session, c.lease, c.lost = id, lease, false
	c.mu.Unlock()
	c.log.Info("new session", "server", c.addr, "session", id, "replaces", old)
	return nil
}

// Addr is the server's address.
func (c *Client) Addr() string { return c.addr }

// Session is the id of the session the client opens handles in. It
// changes when an expired session is replaced (see Open).
func (c *Client) Session() uint64 {
	id, _, _ := c.current()
	return id
}

// keepalive renews the current session every KeepaliveInterval (default a
// third of its lease) until Shutdown. An expired session is not renewed;
// the next Open replaces it and the renewals go to the new one.
func (c *Client) keepalive() {
	defer close(c.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for first := true; ; first = false {
		id, lease, lost := c.current()
		every := c.o.KeepaliveInterval
		if every <= 0 {
			every = lease / 3
		}
		if every <= 0 {
			every = time.Second // a server granting no lease: look again later
		}
		if !first {
			c.renew(id, lost, every)
		}
		t.Reset(every)
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// renew sends one keepalive for session id.
func (c *Client) renew(id uint64, lost bool, every time.Duration) {
	if id == 0 || lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(every, time.Second))
	r, err := c.rpc.Keepalive(ctx, &metapb.SessionRequest{Session: id})
	cancel()
	switch {
	case err != nil:
		c.log.Warn("session keepalive failed", "server", c.addr, "session", id, "err", err)
	case r.Error != nil && r.Error.SessionExpired:
		c.expired(id)
	case r.Error != nil:
		c.log.Warn("session keepalive failed", "server", c.addr, "session", id, "err", wire.FromError(r.Error))
	}
}

// Shutdown ends the client's session, releasing its handles and locks,
// stops the keepalives and closes the connection. The Client is unusable
// afterwards; calling Shutdown again returns the first result.
func (c *Client) Shutdown(ctx context.Context) error {
	c.shutOnce.Do(func() {
		close(c.stop)
		<-c.done
		c.renewMu.Lock()
		c.mu.Lock()
		c.shut = true
		id, lost := c.session, c.lost
		c.mu.Unlock()
		c.renewMu.Unlock()
		if id != 0 && !lost {
			cctx, cancel := c.callCtx(ctx)
			r, err := c.rpc.EndSession(cctx, &metapb.SessionRequest{Session: id})
			cancel()
			switch {
			case err != nil:
				c.shutErr = c.rpcErr("EndSession", err)
			case r.Error != nil && !r.Error.SessionExpired:
				c.shutErr = wire.FromError(r.Error)
			}
		}
		c.closed.Store(true)
		if err := c.conn.Close(); err != nil && c.shutErr == nil {
			c.shutErr = err
		}
	})
	return c.shutErr
}

func noCancel() {}

// callCtx applies the call timeout unless ctx ends sooner.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.o.CallTimeout < 0 {
		return ctx, noCancel
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.o.CallTimeout {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, c.o.CallTimeout)
}

// rpcErr wraps a failed call's status.
func (c *Client) rpcErr(method string, err error) error {
	if c.closed.Load() {
		return fmt.Errorf("%s: %w", method, ErrClosed)
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &RPCError{Method: method, Addr: c.addr, Status: st}
}
