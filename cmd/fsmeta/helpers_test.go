package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	kvserver "github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/server"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// metaServer starts a meta server over a memkv store on a free loopback
// port and returns its address and the store. Cleanup stops the server and
// checks the store with fsck.
func metaServer(tb testing.TB) (string, *meta.Store) {
	tb.Helper()
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	s, err := meta.Open(ctx, db, meta.Options{})
	require.NoError(tb, err)
	srv, err := server.New(s, server.Config{Addr: "127.0.0.1:0", Logger: quiet})
	require.NoError(tb, err)
	require.NoError(tb, srv.Listen())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(tb, err)
		case <-time.After(15 * time.Second):
			tb.Error("meta server did not stop within 15 s")
		}
		r, err := s.Check(ctx)
		require.NoError(tb, err)
		require.True(tb, r.OK(), "fsck: %v", r.Problems)
		db.Close()
	})
	return srv.Addr(), s
}

// customKVConfig starts an in-memory custom KV server on a free loopback
// port and returns a hybrid TOML file naming it.
func customKVConfig(tb testing.TB) string {
	tb.Helper()
	srv, err := kvserver.Open(kvserver.Config{InMemory: true, Logger: quiet})
	require.NoError(tb, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, srv.Shutdown(ctx))
		require.NoError(tb, <-done)
	})
	file := filepath.Join(tb.TempDir(), "custom.toml")
	require.NoError(tb, os.WriteFile(file, fmt.Appendf(nil, `[kv_engine]
kv_engine_type = "custom"
[kv_engine.custom_kv]
cluster_endpoints = [%q]
`, lis.Addr().String()), 0o644))
	return file
}

// cli runs one command line in process.
func cli(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// must runs a command line that must succeed and returns its stdout.
func must(tb testing.TB, args ...string) string {
	tb.Helper()
	code, out, errs := cli(tb, args...)
	require.Equal(tb, 0, code, "fsmeta %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errs)
	require.Empty(tb, errs, "fsmeta %s", strings.Join(args, " "))
	return out
}
