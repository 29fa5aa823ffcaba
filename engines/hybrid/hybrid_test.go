package hybrid_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/engines/hybrid"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

func configs(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "configs", name)
}

func TestLoad_ExampleConfigs(t *testing.T) {
	cfg, err := hybrid.Load(configs("memkv.toml"))
	require.NoError(t, err)
	require.Equal(t, hybrid.TypeMemKV, cfg.KVEngine.Type)

	cfg, err = hybrid.Load(configs("custom_kv_example.toml"))
	require.NoError(t, err)
	require.Equal(t, hybrid.TypeCustom, cfg.KVEngine.Type)
	require.Equal(t, customkv.Options{
		Endpoints:           []string{"127.0.0.1:9090"},
		TransactionTimeout:  10 * time.Second,
		ConnectTimeout:      2 * time.Second,
		PoolSize:            4,
		HealthCheckInterval: time.Second,
	}, cfg.CustomKVOptions())

	cfg, err = hybrid.Load(configs("fdb_example.toml"))
	require.NoError(t, err)
	require.Equal(t, hybrid.TypeFDB, cfg.KVEngine.Type)
	require.Equal(t, "/etc/foundationdb/fdb.cluster", cfg.KVEngine.FDB.ClusterFile)
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct{ name, toml, want string }{
		{"UnknownTopKey", "[kv_engine]\nkv_engine_type = \"memkv\"\n[other]\nx = 1\n", "unknown key other"},
		{"UnknownNestedKey", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\nendpoints = [\"a:1\"]\n", "unknown key kv_engine.custom_kv.endpoints"},
		{"WrongType", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\nconnect_timeout_ms = \"2s\"\n", "connect_timeout_ms"},
		{"WrongTypeList", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\ncluster_endpoints = \"a:1\"\n", "cluster_endpoints"},
		{"BadEngine", "[kv_engine]\nkv_engine_type = \"rocks\"\n", "kv_engine.kv_engine_type"},
		{"EmptyEndpoints", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\ncluster_endpoints = []\n", "kv_engine.custom_kv.cluster_endpoints: at least one"},
		{"BadEndpoint", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\ncluster_endpoints = [\"nohost\"]\n", "cluster_endpoints[0]"},
		{"ZeroTimeout", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\ntransaction_timeout_ms = 0\n", "kv_engine.custom_kv.transaction_timeout_ms"},
		{"NegativeInterval", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\nhealth_check_interval_ms = -5\n", "kv_engine.custom_kv.health_check_interval_ms"},
		{"ZeroPool", "[kv_engine]\nkv_engine_type = \"custom\"\n[kv_engine.custom_kv]\nconnection_pool_size = 0\n", "kv_engine.custom_kv.connection_pool_size"},
		{"Syntax", "[kv_engine\n", "hybrid: config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hybrid.Parse("test.toml", []byte(tc.toml))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParse_DefaultsFillMissingKeys(t *testing.T) {
	cfg, err := hybrid.Parse("", []byte("[kv_engine]\nkv_engine_type = \"custom\"\n"))
	require.NoError(t, err)
	require.Equal(t, hybrid.Defaults().KVEngine.CustomKV, cfg.KVEngine.CustomKV)
	cfg, err = hybrid.Parse("", []byte(""))
	require.NoError(t, err)
	require.Equal(t, hybrid.TypeMemKV, cfg.KVEngine.Type)
}

func TestOpen_MemKV(t *testing.T) {
	db, err := hybrid.OpenFile(context.Background(), configs("memkv.toml"))
	require.NoError(t, err)
	require.IsType(t, &memkv.Engine{}, db)
	require.NoError(t, db.Close())
}

func TestOpen_Custom(t *testing.T) {
	srv, err := server.Open(server.Config{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	addr := lis.Addr().String()
	cfg := hybrid.Defaults()
	cfg.KVEngine.Type = hybrid.TypeCustom
	cfg.KVEngine.CustomKV.ClusterEndpoints = []string{addr}
	db, err := hybrid.Open(context.Background(), cfg)
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	require.NoError(t, kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
		tx.Set([]byte("k"), []byte("v"))
		return nil
	}))
	v, ok, err := db.NewReadOnly().Get(ctx, []byte("k"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte("v"), v)
}
