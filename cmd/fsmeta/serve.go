package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/fsmeta/fsmeta/metarpc/server"
)

func serveCommand(a *app) *cobra.Command {
	var cfg server.Config
	var logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--config FILE] [--metrics HOST:PORT] [--token T] [--tls-cert F --tls-key F]",
		Short: "Run the meta server (gRPC) over the engine --config names",
		Long: `serve runs the meta server: the gRPC service of every metadata operation over the
filesystem on the engine the global --config names (a new embedded memkv when none:
nothing survives a restart). It binds loopback by default and logs to stderr; the
line "msg=serving addr=HOST:PORT" says where it listens. With --token every call
must carry that token (clients pass --token too); without TLS it crosses the network
in clear. --tls-cert and --tls-key serve TLS. --metrics serves Prometheus metrics at
/metrics. SIGTERM or SIGINT drains requests in flight and stops cleanly.

The custom KV server is a separate command: kvserver (cmd/kvserver).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
			}
			o := &slog.HandlerOptions{Level: lvl}
			switch logFormat {
			case "text":
				cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, o))
			case "json":
				cfg.Logger = slog.New(slog.NewJSONHandler(a.stderr, o))
			default:
				return usageError{fmt.Errorf("--log-format %q: want text or json", logFormat)}
			}
			if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
				return usageError{fmt.Errorf("--tls-cert and --tls-key go together")}
			}
			cfg.EngineConfig = a.config
			cfg.Token = a.token
			ctx := cmd.Context()
			srv, err := server.Open(ctx, cfg)
			if err != nil {
				a.failf("serve", "%v", err)
				return exitCode(1)
			}
			if err := srv.Serve(ctx); err != nil {
				a.failf("serve", "%v", err)
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "gRPC listen address (port 0 picks a free one)")
	f.StringVar(&cfg.MetricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate: serve TLS")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&cfg.Root, "root", "", `name of the filesystem's root subspace (default "fsmeta")`)
	f.DurationVar(&cfg.SessionLease, "session-lease", server.DefaultSessionLease, "how long a client's session lives without a keepalive")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "bound on draining requests at shutdown")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}
