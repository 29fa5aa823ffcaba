// Package hybrid opens a kv.Engine named by configuration, in the TOML shape
// of 3FS:
//
//	[kv_engine]
//	kv_engine_type = "memkv"        # memkv | fdb | custom
//	[kv_engine.fdb]
//	cluster_file = ""
//	[kv_engine.custom_kv]
//	cluster_endpoints = ["127.0.0.1:9090"]
//	transaction_timeout_ms = 10000
//	connect_timeout_ms = 2000
//	connection_pool_size = 4
//	health_check_interval_ms = 1000
//
// Unknown keys, values of the wrong type and bad values are errors naming
// the key. Keys left out take the defaults above. Engines are constructed
// here explicitly, never registered: "fdb" is available only in binaries
// built with the build tag fdb (it needs cgo and libfdb_c).
package hybrid

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
)

// Engine types.
const (
	TypeMemKV  = "memkv"
	TypeFDB    = "fdb"
	TypeCustom = "custom"
)

// Config is the whole configuration file.
type Config struct {
	KVEngine KVEngine `toml:"kv_engine"`
}

// KVEngine is the [kv_engine] table.
type KVEngine struct {
	Type     string   `toml:"kv_engine_type"`
	FDB      FDB      `toml:"fdb"`
	CustomKV CustomKV `toml:"custom_kv"`
}

// FDB is the [kv_engine.fdb] table.
type FDB struct {
	// ClusterFile is the FoundationDB cluster file; empty means the
	// client library's default.
	ClusterFile string `toml:"cluster_file"`
}

// CustomKV is the [kv_engine.custom_kv] table.
type CustomKV struct {
	ClusterEndpoints      []string `toml:"cluster_endpoints"`
	TransactionTimeoutMS  int64    `toml:"transaction_timeout_ms"`
	ConnectTimeoutMS      int64    `toml:"connect_timeout_ms"`
	ConnectionPoolSize    int      `toml:"connection_pool_size"`
	HealthCheckIntervalMS int64    `toml:"health_check_interval_ms"`
}

// Defaults returns the configuration of a file that sets nothing.
func Defaults() Config {
	return Config{KVEngine: KVEngine{
		Type: TypeMemKV,
		CustomKV: CustomKV{
			ClusterEndpoints:      []string{"127.0.0.1:9090"},
			TransactionTimeoutMS:  10_000,
			ConnectTimeoutMS:      2_000,
			ConnectionPoolSize:    4,
			HealthCheckIntervalMS: 1_000,
		},
	}}
}

// Parse reads a configuration from TOML text. name labels errors (a file
// name, or "" for none).
func Parse(name string, data []byte) (Config, error) {
	cfg := Defaults()
	label := "hybrid: config"
	if name != "" {
		label += " " + name
	}
	// Decode over the defaults, but let an explicit endpoint list replace
	// the default one rather than merge with it.
	cfg.KVEngine.CustomKV.ClusterEndpoints = nil
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", label, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%s: unknown key %s", label, strings.Join(keys, ", "))
	}
	if !md.IsDefined("kv_engine", "custom_kv", "cluster_endpoints") {
		cfg.KVEngine.CustomKV.ClusterEndpoints = Defaults().KVEngine.CustomKV.ClusterEndpoints
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", label, err)
	}
	return cfg, nil
}

// Load reads a configuration file.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("hybrid: read config: %w", err)
	}
	return Parse(path, data)
}

// Validate checks every value and names the key of each bad one. Only the
// table of the chosen engine is checked.
func (c Config) Validate() error {
	switch c.KVEngine.Type {
	case TypeMemKV, TypeFDB:
		return nil
	case TypeCustom:
	default:
		return fmt.Errorf("kv_engine.kv_engine_type: want %q, %q or %q, got %q", TypeMemKV, TypeFDB, TypeCustom, c.KVEngine.Type)
	}
	ck := c.KVEngine.CustomKV
	var errs []error
	if len(ck.ClusterEndpoints) == 0 {
		errs = append(errs, errors.New("kv_engine.custom_kv.cluster_endpoints: at least one endpoint is required"))
	}
	for i, ep := range ck.ClusterEndpoints {
		if ep == "" || !strings.Contains(ep, ":") {
			errs = append(errs, fmt.Errorf("kv_engine.custom_kv.cluster_endpoints[%d]: want host:port, got %q", i, ep))
		}
	}
	ms := func(key string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("kv_engine.custom_kv.%s: must be a positive number of milliseconds, got %d", key, v))
		} else if v > int64(24*time.Hour/time.Millisecond) {
			errs = append(errs, fmt.Errorf("kv_engine.custom_kv.%s: %d ms is over a day", key, v))
		}
	}
	ms("transaction_timeout_ms", ck.TransactionTimeoutMS)
	ms("connect_timeout_ms", ck.ConnectTimeoutMS)
	ms("health_check_interval_ms", ck.HealthCheckIntervalMS)
	if ck.ConnectionPoolSize <= 0 || ck.ConnectionPoolSize > 1024 {
		errs = append(errs, fmt.Errorf("kv_engine.custom_kv.connection_pool_size: want 1 to 1024, got %d", ck.ConnectionPoolSize))
	}
	return errors.Join(errs...)
}

// CustomKVOptions converts the [kv_engine.custom_kv] table.
func (c Config) CustomKVOptions() customkv.Options {
	ck := c.KVEngine.CustomKV
	return customkv.Options{
		Endpoints:           ck.ClusterEndpoints,
		TransactionTimeout:  time.Duration(ck.TransactionTimeoutMS) * time.Millisecond,
		ConnectTimeout:      time.Duration(ck.ConnectTimeoutMS) * time.Millisecond,
		PoolSize:            ck.ConnectionPoolSize,
		HealthCheckInterval: time.Duration(ck.HealthCheckIntervalMS) * time.Millisecond,
	}
}

// Open validates cfg and opens the engine it names.
func Open(ctx context.Context, cfg Config) (kv.Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hybrid: %w", err)
	}
	switch cfg.KVEngine.Type {
	case TypeMemKV:
		return memkv.New(memkv.Options{}), nil
	case TypeFDB:
		return openFDB(cfg.KVEngine.FDB.ClusterFile)
	default:
		e, err := customkv.Open(ctx, cfg.CustomKVOptions())
		if err != nil {
			return nil, fmt.Errorf("hybrid: open custom kv: %w", err)
		}
		return e, nil
	}
}

// OpenFile loads the configuration file at path and opens its engine.
func OpenFile(ctx context.Context, path string) (kv.Engine, error) {
	cfg, err := Load(path)
	if err != nil {
		return nil, err
	}
	return Open(ctx, cfg)
}
