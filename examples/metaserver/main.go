// Command metaserver runs the fsmeta meta server (package metarpc/server)
// over the engine of a hybrid TOML config, memkv embedded by default:
//
//	go run ./examples/metaserver -addr 127.0.0.1:7450
//	go run ./examples/metaserver -config configs/custom.toml -token s3cret -metrics 127.0.0.1:9464
//
// It logs `msg=serving addr=HOST:PORT` once listening, and stops gracefully
// on SIGINT or SIGTERM. Connect with metarpc/client.Dial.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fsmeta/fsmeta/metarpc/server"
)

func main() {
	var cfg server.Config
	var level string
	flag.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "gRPC listen address (127.0.0.1:0 picks a free port)")
	flag.StringVar(&cfg.EngineConfig, "config", "", "hybrid TOML engine config (empty: memkv in this process)")
	flag.StringVar(&cfg.Root, "root", "", "filesystem root name (default fsmeta)")
	flag.StringVar(&cfg.Token, "token", os.Getenv("FSMETA_TOKEN"), "shared token clients must send (default $FSMETA_TOKEN)")
	flag.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate PEM file (with -tls-key)")
	flag.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key PEM file (with -tls-cert)")
	flag.StringVar(&cfg.MetricsAddr, "metrics", "", "address for Prometheus /metrics (empty: off)")
	flag.DurationVar(&cfg.SessionLease, "session-lease", server.DefaultSessionLease, "lease of remote clients' sessions")
	flag.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful stop drains requests")
	flag.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "metaserver: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintf(os.Stderr, "metaserver: -log-level: %v\n", err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "metaserver: %v\n", err)
		os.Exit(1)
	}
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "metaserver: %v\n", err)
		os.Exit(1)
	}
}
