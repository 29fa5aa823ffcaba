package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
)

// config is the server's configuration: defaults, then the TOML file named
// by --config, then flags given on the command line (flags win).
type config struct {
	Listen          string   `toml:"listen"`
	DataDir         string   `toml:"data_dir"`
	InMemory        bool     `toml:"in_memory"`
	Fsync           bool     `toml:"fsync"`
	MVCCWindow      duration `toml:"mvcc_window"`
	MaxRequestBytes int      `toml:"max_request_bytes"`
	SnapshotBytes   int64    `toml:"snapshot_bytes"`
	SegmentBytes    int64    `toml:"segment_bytes"`
	TLSCert         string   `toml:"tls_cert"`
	TLSKey          string   `toml:"tls_key"`
	Metrics         string   `toml:"metrics"`
	LogLevel        string   `toml:"log_level"`
	LogFormat       string   `toml:"log_format"`
	ShutdownTimeout duration `toml:"shutdown_timeout"`
}

// duration is a time.Duration written as a Go duration string ("5s").
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func (d duration) String() string { return d.Duration.String() }

func (d *duration) Set(s string) error { return d.UnmarshalText([]byte(s)) }

func defaults() config {
	return config{
		Listen:          server.DefaultListen,
		Fsync:           true,
		MVCCWindow:      duration{5 * time.Second},
		MaxRequestBytes: server.DefaultMaxRequestBytes,
		SnapshotBytes:   server.DefaultSnapshotBytes,
		SegmentBytes:    server.DefaultSegmentBytes,
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: duration{10 * time.Second},
	}
}

// onOff is a flag taking on/off (or true/false).
type onOff struct{ v *bool }

func (o onOff) String() string {
	if o.v == nil || *o.v {
		return "on"
	}
	return "off"
}

func (o onOff) Set(s string) error {
	switch strings.ToLower(s) {
	case "on", "true", "1", "yes":
		*o.v = true
	case "off", "false", "0", "no":
		*o.v = false
	default:
		return fmt.Errorf("want on or off, got %q", s)
	}
	return nil
}

func (o onOff) IsBoolFlag() bool { return false }

// parseConfig reads args (without the program name).
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var flagCfg config
	fs := flag.NewFlagSet("kvserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "TOML configuration file (flags given on the command line win)")
	d := defaults()
	flagCfg = d
	fs.StringVar(&flagCfg.Listen, "listen", d.Listen, "gRPC listen address")
	fs.StringVar(&flagCfg.DataDir, "data-dir", d.DataDir, "directory for the write-ahead log and snapshots (required unless --in-memory)")
	fs.BoolVar(&flagCfg.InMemory, "in-memory", d.InMemory, "keep everything in memory; nothing survives a restart")
	fs.Var(onOff{&flagCfg.Fsync}, "fsync", "on: acknowledge commits after fsync; off: after write (survives process crashes only)")
	fs.Var(&flagCfg.MVCCWindow, "mvcc-window", "how long old versions stay readable")
	fs.IntVar(&flagCfg.MaxRequestBytes, "max-request-bytes", d.MaxRequestBytes, "largest request accepted")
	fs.Int64Var(&flagCfg.SnapshotBytes, "snapshot-bytes", d.SnapshotBytes, "log bytes between snapshots")
	fs.Int64Var(&flagCfg.SegmentBytes, "segment-bytes", d.SegmentBytes, "size of one log segment")
	fs.StringVar(&flagCfg.TLSCert, "tls-cert", d.TLSCert, "TLS certificate file (with --tls-key)")
	fs.StringVar(&flagCfg.TLSKey, "tls-key", d.TLSKey, "TLS key file (with --tls-cert)")
	fs.StringVar(&flagCfg.Metrics, "metrics", d.Metrics, "address to serve Prometheus metrics on (/metrics); empty: off")
	fs.StringVar(&flagCfg.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&flagCfg.LogFormat, "log-format", d.LogFormat, "text or json")
	fs.Var(&flagCfg.ShutdownTimeout, "shutdown-timeout", "how long a graceful shutdown drains requests")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg := d
	if *path != "" {
		md, err := toml.DecodeFile(*path, &cfg)
		if err != nil {
			return config{}, fmt.Errorf("config %s: %w", *path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return config{}, fmt.Errorf("config %s: unknown key %q", *path, und[0].String())
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	apply := func(name string, f func()) {
		if set[name] {
			f()
		}
	}
	apply("listen", func() { cfg.Listen = flagCfg.Listen })
	apply("data-dir", func() { cfg.DataDir = flagCfg.DataDir })
	apply("in-memory", func() { cfg.InMemory = flagCfg.InMemory })
	apply("fsync", func() { cfg.Fsync = flagCfg.Fsync })
	apply("mvcc-window", func() { cfg.MVCCWindow = flagCfg.MVCCWindow })
	apply("max-request-bytes", func() { cfg.MaxRequestBytes = flagCfg.MaxRequestBytes })
	apply("snapshot-bytes", func() { cfg.SnapshotBytes = flagCfg.SnapshotBytes })
	apply("segment-bytes", func() { cfg.SegmentBytes = flagCfg.SegmentBytes })
	apply("tls-cert", func() { cfg.TLSCert = flagCfg.TLSCert })
	apply("tls-key", func() { cfg.TLSKey = flagCfg.TLSKey })
	apply("metrics", func() { cfg.Metrics = flagCfg.Metrics })
	apply("log-level", func() { cfg.LogLevel = flagCfg.LogLevel })
	apply("log-format", func() { cfg.LogFormat = flagCfg.LogFormat })
	apply("shutdown-timeout", func() { cfg.ShutdownTimeout = flagCfg.ShutdownTimeout })
	return cfg, cfg.validate()
}

func (c config) validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: an address is required"))
	}
	if !c.InMemory && c.DataDir == "" {
		errs = append(errs, errors.New("data_dir (--data-dir): required unless in_memory (--in-memory) is set"))
	}
	if c.InMemory && c.DataDir != "" {
		errs = append(errs, errors.New("data_dir (--data-dir): cannot be combined with in_memory (--in-memory)"))
	}
	if c.MVCCWindow.Duration <= 0 {
		errs = append(errs, fmt.Errorf("mvcc_window (--mvcc-window): must be positive, got %v", c.MVCCWindow))
	}
	if c.MaxRequestBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("max_request_bytes (--max-request-bytes): must be at least 1 MiB, got %d", c.MaxRequestBytes))
	}
	if c.SnapshotBytes <= 0 {
		errs = append(errs, fmt.Errorf("snapshot_bytes (--snapshot-bytes): must be positive, got %d", c.SnapshotBytes))
	}
	if c.SegmentBytes <= 0 {
		errs = append(errs, fmt.Errorf("segment_bytes (--segment-bytes): must be positive, got %d", c.SegmentBytes))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key (--tls-cert, --tls-key): give both or neither"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level (--log-level): want debug, info, warn or error, got %q", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format (--log-format): want text or json, got %q", c.LogFormat))
	}
	if c.ShutdownTimeout.Duration <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout (--shutdown-timeout): must be positive, got %v", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}
