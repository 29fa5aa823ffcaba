package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseConfig_FlagsWinOverFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.toml")
	require.NoError(t, os.WriteFile(path, []byte("listen = \"127.0.0.1:7000\"\ndata_dir = \"/d\"\nfsync = false\nmvcc_window = \"2s\"\n"), 0o644))
	cfg, err := parseConfig([]string{"--config", path, "--listen", "127.0.0.1:8000"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8000", cfg.Listen)
	require.Equal(t, "/d", cfg.DataDir)
	require.False(t, cfg.Fsync)
	require.Equal(t, 2*time.Second, cfg.MVCCWindow.Duration)

	cfg, err = parseConfig([]string{"--config", path, "--fsync", "on"}, io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.Fsync)
}

func TestParseConfig_ExampleFile(t *testing.T) {
	cfg, err := parseConfig([]string{"--config", "../../configs/kvserver.toml"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9090", cfg.Listen)
	require.Equal(t, "127.0.0.1:9091", cfg.Metrics)
}

func TestParseConfig_Errors(t *testing.T) {
	dir := t.TempDir()
	n := 0
	write := func(s string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", n))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoDataDir", nil, "data_dir (--data-dir): required"},
		{"DefaultsInMemory", []string{"--in-memory", "--fsync", "maybe"}, "want on or off"},
		{"UnknownKey", []string{"--config", write("in_memory = true\nlisten_addr = \"x\"\n")}, `unknown key "listen_addr"`},
		{"WrongType", []string{"--config", write("in_memory = \"yes\"\n")}, "in_memory"},
		{"BadWindow", []string{"--in-memory", "--mvcc-window", "0s"}, "mvcc_window"},
		{"HalfTLS", []string{"--in-memory", "--tls-cert", "c.pem"}, "tls_cert and tls_key"},
		{"SmallRequests", []string{"--in-memory", "--max-request-bytes", "10"}, "max_request_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, io.Discard)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
