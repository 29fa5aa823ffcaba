// Command kvserver runs the fsmeta transactional KV server (package
// engines/customkv/server): gRPC on --listen (loopback by default), a
// write-ahead log and snapshots in --data-dir, Prometheus metrics on
// --metrics, logs on stderr. SIGTERM or SIGINT drains requests and closes
// the log cleanly.
//
//	kvserver --data-dir /var/lib/fsmeta-kv
//	kvserver --config configs/kvserver.toml --listen 127.0.0.1:9191
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/server"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvserver: %v\n", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "kvserver: %v\n", err)
		os.Exit(1)
	}
}

func newLogger(cfg config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, o))
}

func run(cfg config) error {
	log := newLogger(cfg)
	scfg := server.Config{
		DataDir:         cfg.DataDir,
		InMemory:        cfg.InMemory,
		NoSync:          !cfg.Fsync,
		Window:          cfg.MVCCWindow.Duration,
		MaxRequestBytes: cfg.MaxRequestBytes,
		SnapshotBytes:   cfg.SnapshotBytes,
		SegmentBytes:    cfg.SegmentBytes,
		Logger:          log,
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		scfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := server.Open(scfg)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var metrics *http.Server
	if cfg.Metrics != "" {
		mlis, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			srv.Shutdown(context.Background())
			return fmt.Errorf("metrics: listen on %s: %w", cfg.Metrics, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", srv.MetricsHandler())
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go metrics.Serve(mlis)
		log.Info("serving metrics", "addr", mlis.Addr().String())
	}
	// The address line is what scripts and tests wait for.
	log.Info("serving", "addr", lis.Addr().String(), "data_dir", cfg.DataDir, "in_memory", cfg.InMemory,
		"fsync", cfg.Fsync, "mvcc_window", cfg.MVCCWindow.Duration, "tls", cfg.TLSCert != "")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
	case err := <-served:
		if err != nil {
			log.Error("serve failed", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout.Duration)
	defer cancel()
	if metrics != nil {
		metrics.Shutdown(ctx)
	}
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
