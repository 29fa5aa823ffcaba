package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/internal/testserver"
	"github.com/fsmeta/fsmeta/engines/customkv/internal/wire"
	"github.com/fsmeta/fsmeta/engines/customkv/kvpb"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func dial(t *testing.T, addr string) (kvpb.KVClient, *grpc.ClientConn) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(1<<30)))
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return kvpb.NewKVClient(cc), cc
}

func requireCode(t *testing.T, err error, c codes.Code, kc kv.Code, msg string) {
	t.Helper()
	require.Error(t, err)
	st := status.Convert(err)
	require.Equal(t, c, st.Code(), "status %v", st)
	ke := wire.Detail(st)
	require.NotNil(t, ke, "no ErrorDetail in %v", st)
	require.Equal(t, kc, ke.Code, "kv code of %v", st)
	require.Contains(t, st.Message(), msg)
}

func TestServer_RejectsMalformedRequestsAndStaysUp(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{MaxRequestBytes: 1 << 20})
	c, _ := dial(t, addr)
	ctx := context.Background()
	big := bytes.Repeat([]byte("x"), kv.MaxKeySize+1)
	set := func(k, v []byte) *kvpb.Mutation {
		return &kvpb.Mutation{Type: kvpb.MutationType_MUTATION_TYPE_SET, Key: k, Value: v}
	}
	cases := []struct {
		name string
		call func() error
		kc   kv.Code
		msg  string
	}{
		{"GetKeyTooLarge", func() error { _, err := c.Get(ctx, &kvpb.GetRequest{Keys: [][]byte{big}}); return err }, kv.CodeKeyTooLarge, "exceeds the limit of 10000"},
		{"GetSystemKey", func() error { _, err := c.Get(ctx, &kvpb.GetRequest{Keys: [][]byte{{0xff, 1}}}); return err }, kv.CodeInvalid, "reserved"},
		{"GetNegativeVersion", func() error { _, err := c.Get(ctx, &kvpb.GetRequest{ReadVersion: -1}); return err }, kv.CodeInvalid, "negative read version"},
		{"RangeZeroLimit", func() error {
			_, err := c.GetRange(ctx, &kvpb.GetRangeRequest{Begin: []byte("a"), End: []byte("b")})
			return err
		}, kv.CodeInvalid, "limit 0"},
		{"RangePastUserKeys", func() error {
			_, err := c.GetRange(ctx, &kvpb.GetRangeRequest{End: []byte{0xff, 0}, Limit: 1})
			return err
		}, kv.CodeInvalid, "past the user key space"},
		{"CommitUnknownMutation", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{{Type: 99, Key: []byte("a")}}})
			return err
		}, kv.CodeInvalid, "unknown type"},
		{"CommitValueTooLarge", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{set([]byte("a"), make([]byte, kv.MaxValueSize+1))}})
			return err
		}, kv.CodeValueTooLarge, "100000"},
		{"CommitBadStampOffset", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{{Type: kvpb.MutationType_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, Key: []byte("abc"), Offset: 0}}})
			return err
		}, kv.CodeInvalid, "out of bounds"},
		{"CommitBadAtomic", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{{Type: kvpb.MutationType_MUTATION_TYPE_ATOMIC, Op: 42, Key: []byte("a")}}})
			return err
		}, kv.CodeInvalid, "unknown atomic"},
		{"CommitInvertedClear", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{{Type: kvpb.MutationType_MUTATION_TYPE_CLEAR_RANGE, Key: []byte("b"), End: []byte("a")}}})
			return err
		}, kv.CodeInvalid, "inverted range"},
		{"CommitConflictsWithoutVersion", func() error {
			_, err := c.Commit(ctx, &kvpb.CommitRequest{ReadConflicts: []*kvpb.KeyRange{{Begin: []byte("a"), End: []byte("b")}}, Mutations: []*kvpb.Mutation{set([]byte("a"), nil)}})
			return err
		}, kv.CodeInvalid, "without a read version"},
		{"Oversized", func() error {
			var ms []*kvpb.Mutation
			for range 20 {
				ms = append(ms, set([]byte("k"), make([]byte, 90_000)))
			}
			_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: ms})
			return err
		}, kv.CodeInvalid, "exceeds the server's limit of 1048576 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, tc.call(), codes.InvalidArgument, tc.kc, tc.msg)
		})
	}
	// Still serving, and nothing was applied.
	resp, err := c.Get(ctx, &kvpb.GetRequest{Keys: [][]byte{[]byte("a"), []byte("k")}})
	require.NoError(t, err)
	require.False(t, resp.Values[0].Found)
	require.False(t, resp.Values[1].Found)
}

func TestServer_ConflictAndTooOldAreTyped(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{Window: time.Second})
	c, _ := dial(t, addr)
	ctx := context.Background()
	rv, err := c.GetReadVersion(ctx, &kvpb.GetReadVersionRequest{})
	require.NoError(t, err)
	set := &kvpb.Mutation{Type: kvpb.MutationType_MUTATION_TYPE_SET, Key: []byte("a"), Value: []byte("1")}
	_, err = c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{set}})
	require.NoError(t, err)
	_, err = c.Commit(ctx, &kvpb.CommitRequest{ReadVersion: rv.ReadVersion,
		ReadConflicts: []*kvpb.KeyRange{{Begin: []byte("a"), End: []byte("a\x00")}}, Mutations: []*kvpb.Mutation{set}})
	requireCode(t, err, codes.Aborted, kv.CodeConflict, "written at version")
	_, err = c.Get(ctx, &kvpb.GetRequest{ReadVersion: rv.ReadVersion + 1e12, Keys: [][]byte{[]byte("a")}})
	requireCode(t, err, codes.FailedPrecondition, kv.CodeFutureVersion, "ahead")
}

func TestServer_HealthService(t *testing.T) {
	_, addr := testserver.InProcess(t, server.Config{})
	_, cc := dial(t, addr)
	resp, err := healthpb.NewHealthClient(cc).Check(context.Background(), &healthpb.HealthCheckRequest{Service: wire.ServiceName})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.Status)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestServer_RecoversFromSnapshotAndLog writes enough to take snapshots and
// rotate segments, restarts, and reads everything back.
func TestServer_RecoversFromSnapshotAndLog(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, SnapshotBytes: 64 << 10, SegmentBytes: 16 << 10, Logger: quiet()}
	srv, err := server.Open(cfg)
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(lis)
	c, _ := dial(t, lis.Addr().String())
	ctx := context.Background()
	const n = 400
	for i := range n {
		_, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{
			{Type: kvpb.MutationType_MUTATION_TYPE_SET, Key: []byte{byte(i >> 8), byte(i)}, Value: bytes.Repeat([]byte{byte(i)}, 500)},
			{Type: kvpb.MutationType_MUTATION_TYPE_ATOMIC, Op: kvpb.AtomicOp_ATOMIC_OP_ADD, Key: []byte("count"), Value: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
		}})
		require.NoError(t, err)
	}
	require.NoError(t, srv.Snapshot())
	require.NoError(t, srv.Shutdown(ctx))

	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*.snap"))
	require.Len(t, snaps, 1, "old snapshots are removed")
	segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	require.Less(t, len(segs), 5, "segments covered by the snapshot are removed")

	srv, err = server.Open(cfg)
	require.NoError(t, err)
	lis, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(lis)
	defer srv.Shutdown(ctx)
	c, _ = dial(t, lis.Addr().String())
	keys := [][]byte{[]byte("count")}
	for i := range n {
		keys = append(keys, []byte{byte(i >> 8), byte(i)})
	}
	resp, err := c.Get(ctx, &kvpb.GetRequest{Keys: keys})
	require.NoError(t, err)
	require.Equal(t, []byte{n % 256, n / 256, 0, 0, 0, 0, 0, 0}, resp.Values[0].Value)
	for i := range n {
		require.True(t, resp.Values[i+1].Found, "key %d", i)
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, 500), resp.Values[i+1].Value)
	}
	// New commits continue above the recovered versions.
	cr, err := c.Commit(ctx, &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{{Type: kvpb.MutationType_MUTATION_TYPE_CLEAR, Key: []byte("count")}}})
	require.NoError(t, err)
	require.Greater(t, cr.CommittedVersion, resp.ReadVersion)
}

func TestServer_CorruptLogRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Logger: quiet()}
	srv, err := server.Open(cfg)
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(lis)
	c, _ := dial(t, lis.Addr().String())
	for i := range 50 {
		_, err := c.Commit(context.Background(), &kvpb.CommitRequest{Mutations: []*kvpb.Mutation{
			{Type: kvpb.MutationType_MUTATION_TYPE_SET, Key: []byte{byte(i)}, Value: []byte("value")}}})
		require.NoError(t, err)
	}
	require.NoError(t, srv.Shutdown(context.Background()))
	segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	require.Len(t, segs, 1)
	data, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	data[len(data)/2] ^= 0x80
	require.NoError(t, os.WriteFile(segs[0], data, 0o644))

	_, err = server.Open(cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), segs[0])
	require.Contains(t, err.Error(), "at offset")
	require.True(t, strings.Contains(err.Error(), "refusing to start"), err.Error())
}
