package server

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Defaults of Config.
const (
	DefaultAddr            = "127.0.0.1:7450"
	DefaultSessionLease    = 30 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Addr is the gRPC listen address (default DefaultAddr, loopback);
	// "127.0.0.1:0" picks a free port (see Server.Addr).
	Addr string
	// EngineConfig is a hybrid TOML file naming the engine Open uses; ""
	// is memkv embedded in the process (nothing survives a restart).
	EngineConfig string
	// Root is the name of the filesystem's root subspace, ("fsmeta") by
	// default; several filesystems may share an engine under different
	// roots. Used by Open only.
	Root string
	// Token, if set, is a shared secret every call but health checks must
	// present as the metadata "authorization: Bearer <token>"; others get
	// Unauthenticated. Without TLS it crosses the network in clear.
	Token string
	// TLSCert and TLSKey, if set, are PEM files: the server speaks TLS.
	TLSCert, TLSKey string
	// TLS, if set, is used instead of TLSCert/TLSKey.
	TLS *tls.Config
	// MetricsAddr, if set, serves Prometheus metrics over HTTP at /metrics
	// on this address.
	MetricsAddr string
	// SessionLease is how long a remote client's session lives without a
	// keepalive (default 30 s). Clients renew at a third of it.
	SessionLease time.Duration
	// ShutdownTimeout bounds the graceful drain of requests in flight when
	// Serve's context ends (default 10 s); then they are cut off.
	ShutdownTimeout time.Duration
	// Logger receives the server's logs; requests are logged at debug
	// level (default slog.Default()).
	Logger *slog.Logger
}

// streamWorkers is the number of long-lived goroutines that run requests.
// Without them gRPC starts a goroutine per request, whose stack then grows
// through the handler's call depth (runtime.morestack and copystack took
// about 5 % of the CPU of a Lookup). A request that finds every worker busy
// (lock waits block theirs) still gets a goroutine of its own.
const streamWorkers = 64

// Server is the meta server: the gRPC service of package metapb over a
// *meta.Store. Create it with New or Open, then Serve.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *meta.Store
	engine kv.Engine // closed at the end when Open opened it
	m      *metrics
	ops    map[string]opMetrics // by full method name; read-only after newServer
	se     *sessions
	grpc   *grpc.Server
	health *health.Server
	token  []byte

	mu      sync.Mutex
	lis     net.Listener
	mlis    net.Listener
	served  bool
	closed  bool
	closeMu sync.Once
}

// New returns a server over store, which stays the caller's: Serve does
// not close it.
func New(store *meta.Store, cfg Config) (*Server, error) {
	return newServer(store, nil, newMetrics(), cfg)
}

// Open opens the engine named by cfg.EngineConfig (memkv when ""), the
// filesystem under cfg.Root on it (formatting an empty root), and returns
// a server over it. Serve closes both when it ends; so does Close.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	var db kv.Engine
	var err error
	if cfg.EngineConfig == "" {
		db, err = hybrid.Open(ctx, hybrid.Defaults())
	} else {
		db, err = hybrid.OpenFile(ctx, cfg.EngineConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("server: open engine: %w", err)
	}
	m := newMetrics()
	opts := meta.Options{Retry: kv.RetryOptions{OnRetry: func(_ int, err error) {
		if errors.Is(err, kv.ErrConflict) {
			m.conflicts.Inc()
		}
	}}}
	if cfg.Root != "" {
		opts.Root = keys.Sub(keys.Tuple{cfg.Root})
	}
	store, err := meta.Open(ctx, db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s, err := newServer(store, db, m, cfg)
	if err != nil {
		store.Shutdown(ctx)
		db.Close()
		return nil, err
	}
	return s, nil
}

func newServer(store *meta.Store, db kv.Engine, m *metrics, cfg Config) (*Server, error) {
	if store == nil {
		return nil, errors.New("server: nil store")
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.SessionLease <= 0 {
		cfg.SessionLease = DefaultSessionLease
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: store, engine: db, m: m}
	if cfg.Token != "" {
		s.token = []byte("Bearer " + cfg.Token)
	}
	s.se = newSessions(store, cfg.SessionLease, s.log, m)
	m.watch(store.Retries, s.se.len)

	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(wire.MaxMessage),
		grpc.MaxSendMsgSize(wire.MaxMessage),
		grpc.InitialWindowSize(wire.Window),
		grpc.InitialConnWindowSize(wire.Window),
		grpc.ChainUnaryInterceptor(s.intercept),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.NumStreamWorkers(streamWorkers),
	}
	tc := cfg.TLS
	if tc == nil && (cfg.TLSCert != "" || cfg.TLSKey != "") {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, errors.New("server: TLS needs both a certificate (TLSCert) and a key (TLSKey)")
		}
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("server: load TLS key pair: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	s.grpc = grpc.NewServer(opts...)
	metapb.RegisterMetaServer(s.grpc, &service{fs: store, se: s.se})
	s.ops = m.ops(&metapb.Meta_ServiceDesc)
	s.health = health.NewServer()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(wire.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	return s, nil
}

// Store returns the store the server serves.
func (s *Server) Store() *meta.Store { return s.store }

// Listen binds Config.Addr (and Config.MetricsAddr) now, so that Addr is
// known before Serve. Serve calls it if it was not called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.lis == nil {
		lis, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
		}
		s.lis = lis
	}
	return s.listenMetrics()
}

func (s *Server) listenMetrics() error {
	if s.cfg.MetricsAddr == "" || s.mlis != nil {
		return nil
	}
	mlis, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("server: metrics: listen on %s: %w", s.cfg.MetricsAddr, err)
	}
	s.mlis = mlis
	return nil
}

// Addr is the gRPC address the server listens on, "" before Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return ""
	}
	return s.lis.Addr().String()
}

// MetricsAddr is the address of the metrics listener, "" when off or
// before Listen.
func (s *Server) MetricsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mlis == nil {
		return ""
	}
	return s.mlis.Addr().String()
}

// MetricsHandler serves the Prometheus metrics, for embedding in another
// HTTP server.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
}

// Serve listens on Config.Addr (unless Listen already did), logs "serving"
// with the address, and serves until ctx is done; then it stops
// gracefully (bounded by Config.ShutdownTimeout), ends the remote
// sessions, and closes what Open opened. It returns nil after a shutdown
// caused by ctx. A Server serves once; Serve on a closed Server is
// ErrClosed.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.begin(); err != nil {
		return err
	}
	if err := s.Listen(); err != nil {
		s.Close()
		return err
	}
	s.mu.Lock()
	lis := s.lis
	s.mu.Unlock()
	return s.serve(ctx, lis)
}

// ServeListener is Serve on a listener of the caller's, which it closes
// when it returns.
func (s *Server) ServeListener(ctx context.Context, lis net.Listener) error {
	if err := s.begin(); err != nil {
		lis.Close()
		return err
	}
	s.mu.Lock()
	if s.lis != nil && s.lis != lis {
		s.lis.Close() // bound by Listen, now unused
	}
	s.lis = lis
	err := s.listenMetrics()
	s.mu.Unlock()
	if err != nil {
		s.Close()
		return err
	}
	return s.serve(ctx, lis)
}

// begin marks the server as serving, once.
func (s *Server) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.served:
		return errors.New("server: Serve called twice")
	case s.closed:
		return ErrClosed
	}
	s.served = true
	return nil
}

func (s *Server) serve(ctx context.Context, lis net.Listener) error {
	s.mu.Lock()
	mlis := s.mlis
	s.mu.Unlock()
	defer s.Close()

	var msrv *http.Server
	if mlis != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", s.MetricsHandler())
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go msrv.Serve(mlis)
		s.log.Info("serving metrics", "addr", mlis.Addr().String())
	}
	// The address line is what scripts and tests wait for.
	s.log.Info("serving", "addr", lis.Addr().String(), "tls", s.cfg.TLS != nil || s.cfg.TLSCert != "",
		"token", s.token != nil, "session_lease", s.cfg.SessionLease)

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		s.se.run(sweepCtx)
	}()
	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()
	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down")
	case err = <-served:
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		if err != nil {
			s.log.Error("serve failed", "err", err)
		}
	}
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(s.cfg.ShutdownTimeout)
	select {
	case <-stopped:
		t.Stop()
	case <-t.C:
		s.log.Warn("shutdown timeout passed; cutting off requests in flight")
		s.grpc.Stop()
		<-stopped
	}
	stopSweep()
	<-swept
	cctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.se.closeAll(cctx)
	if msrv != nil {
		msrv.Shutdown(cctx)
	}
	s.log.Info("stopped")
	return err
}

// Close releases what the server holds without serving: listeners, and
// the store and engine Open opened. Serve calls it when it returns; calling
// it again does nothing.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.grpc.Stop()
		s.mu.Lock()
		s.closed = true
		if s.lis != nil {
			s.lis.Close()
		}
		if s.mlis != nil {
			s.mlis.Close()
		}
		s.mu.Unlock()
		if s.engine != nil {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
			defer cancel()
			if e := s.store.Shutdown(ctx); e != nil {
				s.log.Warn("store shutdown", "err", e)
			}
			err = s.engine.Close()
		}
	})
	return err
}

// intercept checks the token, records metrics, logs requests at debug
// level, and turns panics into Internal errors so that one bad request
// cannot stop the server.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	op := path.Base(info.FullMethod)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in request", "op", op, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "server panic in %s", op)
		}
		result := "OK"
		if err != nil {
			result = status.Code(err).String()
		} else if r, ok := resp.(interface{ GetError() *metapb.Error }); ok && r.GetError() != nil {
			e := r.GetError()
			switch {
			case e.SessionExpired:
				result = "SessionExpired"
			default:
				result = wire.ErrnoName(syscallErrno(e.Errno))
			}
		}
		d := time.Since(start)
		if om, ok := s.ops[info.FullMethod]; ok {
			if result == "OK" {
				om.ok.Inc()
			} else {
				s.m.requests.WithLabelValues(op, result).Inc()
			}
			om.latency.Observe(d.Seconds())
		} else {
			s.m.requests.WithLabelValues(op, result).Inc()
			s.m.latency.WithLabelValues(op).Observe(d.Seconds())
		}
		if s.log.Enabled(ctx, slog.LevelDebug) {
			s.log.Debug("request", "op", op, "result", result, "took", d)
		}
		if c := status.Code(err); c == codes.Internal || c == codes.Unknown {
			s.log.Warn("request failed", "op", op, "err", err)
		}
	}()
	if s.token != nil && !strings.HasPrefix(info.FullMethod, "/grpc.health.v1.Health/") {
		if !s.authorized(ctx) {
			return nil, status.Error(codes.Unauthenticated, "missing or wrong token (send metadata authorization: Bearer <token>)")
		}
	}
	return handler(ctx, req)
}

func (s *Server) authorized(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(v), s.token) == 1 {
			return true
		}
	}
	return false
}
