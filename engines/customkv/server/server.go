// Package server is the fsmeta transactional KV server: the gRPC service of
// package kvpb over the same MVCC store and resolver as memkv
// (internal/mvcc), made durable by a write-ahead log with group commit and
// periodic snapshots.
//
// Durability: a commit is resolved and applied under the store's commit
// lock, appended to the log, and acknowledged (and made visible to readers)
// only once the log has fsynced it. Every commit that arrives while an
// fsync runs shares the next one. When the log has grown by
// Config.SnapshotBytes since the last snapshot, a snapshot of the newest
// version is written and the log segments it covers are removed, so
// recovery reads at most one snapshot and about SnapshotBytes of log.
//
// Recovery: load the newest snapshot, replay the log after it, truncate a
// torn last record; a corrupt record anywhere else makes Open fail with an
// error naming the file and offset.
//
// Every request is validated (key and value limits, reserved keys, range
// bounds, request size): a malformed request gets InvalidArgument with the
// reason, and the server stays up.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/snapshot"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/wal"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/internal/mvcc"
	"github.com/fsmeta/fsmeta/internal/txnbuf"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Defaults of Config.
const (
	DefaultListen          = "127.0.0.1:9090"
	DefaultMaxRequestBytes = 32 << 20
	DefaultSnapshotBytes   = 64 << 20
	DefaultSegmentBytes    = 16 << 20
)

// streamWorkers is the number of long-lived goroutines that run requests.
// Without them gRPC starts a goroutine per request, whose stack then grows
// through the handler's call depth (runtime.morestack and copystack took
// about 10 % of the server's CPU under 64 committing clients). A commit
// holds its worker until its fsync, so there are enough for that many
// clients; a request that finds every worker busy still gets a goroutine
// of its own.
const streamWorkers = 128

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// DataDir holds the log and snapshots. Required unless InMemory.
	DataDir string
	// InMemory keeps everything in memory: nothing survives a restart.
	InMemory bool
	// NoSync acknowledges commits once written to the operating system,
	// without fsync.
	NoSync bool
	// Window is the MVCC window (default 5 s).
	Window time.Duration
	// MaxRequestBytes bounds one request (default 32 MiB).
	MaxRequestBytes int
	// SnapshotBytes of log between snapshots (default 64 MiB).
	SnapshotBytes int64
	// SegmentBytes is the size of a log segment (default 16 MiB).
	SegmentBytes int64
	// TLS, if set, serves TLS with this configuration.
	TLS *tls.Config
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger
	// Clock is the store's time source (default time.Now); tests move it
	// to exercise the MVCC window.
	Clock func() time.Time
}

// Server is a running KV server. Open it, Serve one or more listeners, and
// Shutdown.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *mvcc.Store
	wal    *wal.WAL
	m      *metrics
	grpc   *grpc.Server
	health *health.Server

	snapKick chan struct{}
	snapStop chan struct{}
	snapDone chan struct{}
	walMu    sync.Mutex
	walSince int64 // log bytes since the last snapshot

	shutdownOnce sync.Once
	shutdownErr  error
}

// Open recovers the data directory (unless InMemory) and returns a server
// ready to Serve.
func Open(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.SnapshotBytes <= 0 {
		cfg.SnapshotBytes = DefaultSnapshotBytes
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = DefaultSegmentBytes
	}
	if !cfg.InMemory && cfg.DataDir == "" {
		return nil, errors.New("server: a data directory is required unless running in memory")
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    mvcc.New(mvcc.Options{Window: cfg.Window, Clock: cfg.Clock}),
		m:        newMetrics(),
		snapKick: make(chan struct{}, 1),
		snapStop: make(chan struct{}),
		snapDone: make(chan struct{}),
	}
	if !cfg.InMemory {
		if err := s.recover(); err != nil {
			return nil, err
		}
		go s.snapshotter()
	} else {
		close(s.snapDone)
	}

	opts := []grpc.ServerOption{
		// gRPC's own limit sits above ours so that oversized requests get
		// our InvalidArgument with the reason instead of ResourceExhausted
		// (up to twice the limit).
		grpc.MaxRecvMsgSize(2*cfg.MaxRequestBytes + 1<<20),
		grpc.ChainUnaryInterceptor(s.intercept),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.NumStreamWorkers(streamWorkers),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	kvpb.RegisterKVServer(s.grpc, &service{s: s})
	s.health = health.NewServer()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(wire.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	return s, nil
}

func (s *Server) recover() error {
	start := time.Now()
	snapDir := filepath.Join(s.cfg.DataDir, "snapshots")
	var ms []txnbuf.Mutation
	snapV, err := snapshot.Load(snapDir, func(k, v []byte) {
		ms = append(ms, txnbuf.Mutation{Type: txnbuf.MutSet, Key: k, Value: v})
	})
	if err != nil {
		return fmt.Errorf("server: recover %s: %w", s.cfg.DataDir, err)
	}
	if snapV > 0 {
		s.store.Apply(snapV, ms)
	}
	rows := len(ms)
	ms = nil
	replayed := 0
	w, last, err := wal.Open(wal.Options{
		Dir:          filepath.Join(s.cfg.DataDir, "wal"),
		NoSync:       s.cfg.NoSync,
		SegmentBytes: s.cfg.SegmentBytes,
		Logger:       s.log,
		OnSync:       s.onSync,
	}, snapV, func(v int64, ms []txnbuf.Mutation) error {
		s.store.Apply(v, ms)
		replayed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("server: recover %s: %w", s.cfg.DataDir, err)
	}
	s.wal = w
	s.store.SetLogger(w)
	// The log found counts toward the next snapshot, so that a server
	// restarted often still takes them.
	s.noteLog(w.RecoveredBytes())
	s.log.Info("recovered", "data_dir", s.cfg.DataDir, "snapshot_version", snapV, "snapshot_rows", rows,
		"replayed_commits", replayed, "last_version", max(last, snapV), "took", time.Since(start))
	return nil
}

func (s *Server) onSync(n int, d time.Duration) {
	s.m.fsync.Observe(d.Seconds())
	s.m.walBytes.Add(float64(n))
	s.noteLog(int64(n))
}

// noteLog counts log bytes toward the next snapshot and asks for one when
// they reach Config.SnapshotBytes.
func (s *Server) noteLog(n int64) {
	s.walMu.Lock()
	s.walSince += n
	due := s.walSince >= s.cfg.SnapshotBytes
	s.walMu.Unlock()
	if due {
		select {
		case s.snapKick <- struct{}{}:
		default:
		}
	}
}

func (s *Server) snapshotter() {
	defer close(s.snapDone)
	for {
		select {
		case <-s.snapStop:
			return
		case <-s.snapKick:
		}
		if err := s.Snapshot(); err != nil {
			s.log.Error("snapshot failed", "err", err)
		}
	}
}

// Snapshot writes a snapshot of the newest version now and removes the log
// segments it covers. The server takes them by itself as the log grows.
func (s *Server) Snapshot() error {
	if s.wal == nil {
		return nil
	}
	start := time.Now()
	s.walMu.Lock()
	s.walSince = 0
	s.walMu.Unlock()
	var keys, vals [][]byte
	// Stored keys and values are immutable: holding references is enough,
	// and keeps the commit lock short.
	v, err := s.store.ForEach(func(k, val []byte) error {
		keys = append(keys, k)
		vals = append(vals, val)
		return nil
	})
	if err != nil {
		return fmt.Errorf("server: snapshot: %w", err)
	}
	path, err := snapshot.Write(filepath.Join(s.cfg.DataDir, "snapshots"), v, keys, vals)
	if err != nil {
		return fmt.Errorf("server: snapshot: %w", err)
	}
	removed, err := s.wal.RemoveThrough(v)
	if err != nil {
		return fmt.Errorf("server: snapshot: %w", err)
	}
	s.m.snapshots.Inc()
	s.log.Info("snapshot written", "file", path, "version", v, "rows", len(keys), "removed_segments", removed, "took", time.Since(start))
	return nil
}

// intercept bounds request sizes, records metrics, logs failures and turns
// panics into Internal errors so that one bad request cannot stop the
// server.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	call := filepath.Base(info.FullMethod)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in request", "call", call, "panic", r, "stack", string(debug.Stack()))
			err = wire.ToStatus(kv.Errorf(kv.CodeInternal, "server panic in %s", call))
		}
		s.m.requests.WithLabelValues(call).Observe(time.Since(start).Seconds())
		if err != nil {
			c := status.Code(err)
			s.m.errors.WithLabelValues(call, c.String()).Inc()
			if c == codes.InvalidArgument || c == codes.Internal {
				s.log.Warn("request failed", "call", call, "code", c.String(), "err", err)
			}
		}
	}()
	if m, ok := req.(proto.Message); ok {
		if n := proto.Size(m); n > s.cfg.MaxRequestBytes {
			return nil, wire.InvalidArgument("request of %d bytes exceeds the server's limit of %d bytes (--max-request-bytes)", n, s.cfg.MaxRequestBytes)
		}
	}
	return handler(ctx, req)
}

// Serve accepts connections on lis until Shutdown. It returns nil after a
// Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	err := s.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
}

// Shutdown stops accepting requests, drains those in flight (until ctx is
// done, then cuts them off), and closes the log. Commits still in the log's
// queue are written and synced before it returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.health.Shutdown()
		stopped := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-ctx.Done():
			s.log.Warn("shutdown deadline passed; cutting off requests in flight")
			s.grpc.Stop()
			<-stopped
		}
		close(s.snapStop)
		<-s.snapDone
		if s.wal != nil {
			if err := s.wal.Close(); err != nil {
				s.shutdownErr = fmt.Errorf("server: close log: %w", err)
			}
		}
		s.store.Close()
	})
	return s.shutdownErr
}
