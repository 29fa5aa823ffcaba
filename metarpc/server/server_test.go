package server

import (
	"context"
	"github.com/fsmeta/fsmeta/internal/syncbuf"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/internal/wire"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(tb testing.TB) *meta.Store {
	tb.Helper()
	db := memkv.New(memkv.Options{})
	s, err := meta.Open(ctx, db, meta.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		s.Shutdown(ctx)
		db.Close()
	})
	return s
}

// start serves a store on 127.0.0.1:0 and returns a raw gRPC connection to
// it.
func start(tb testing.TB, cfg Config) (*Server, *grpc.ClientConn) {
	tb.Helper()
	cfg.Addr, cfg.Logger = "127.0.0.1:0", quiet
	srv, err := New(newStore(tb), cfg)
	require.NoError(tb, err)
	require.NoError(tb, srv.Listen())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(tb, err)
	tb.Cleanup(func() {
		conn.Close()
		cancel()
		require.NoError(tb, <-done)
	})
	return srv, conn
}

var root = &metapb.Cred{}

func TestService_MalformedRequests_InvalidArgument(t *testing.T) {
	_, conn := start(t, Config{})
	c := metapb.NewMetaClient(conn)
	long := make([]byte, wire.MaxName+1)
	longPath := make([]byte, wire.MaxPath+1)
	h := &metapb.Handle{Ino: 1, Id: 1}
	for _, tc := range []struct {
		name, field string
		call        func() error
	}{
		{"lookup-no-cred", "cred", func() error { _, err := c.Lookup(ctx, &metapb.LookupRequest{Parent: 1, Name: []byte("x")}); return err }},
		{"getattr-no-cred", "cred", func() error { _, err := c.GetAttr(ctx, &metapb.InoRequest{Ino: 1}); return err }},
		{"create-long-name", "name", func() error {
			_, err := c.Create(ctx, &metapb.CreateRequest{Cred: root, Parent: 1, Name: long})
			return err
		}},
		{"rename-long-dst", "dst_name", func() error {
			_, err := c.Rename(ctx, &metapb.RenameRequest{Cred: root, SrcParent: 1, SrcName: []byte("a"), DstParent: 1, DstName: long})
			return err
		}},
		{"link-long-name", "new_name", func() error {
			_, err := c.Link(ctx, &metapb.LinkRequest{Cred: root, Ino: 1, NewParent: 1, NewName: long})
			return err
		}},
		{"symlink-long-target", "target", func() error {
			_, err := c.Symlink(ctx, &metapb.SymlinkRequest{Cred: root, Parent: 1, Name: []byte("l"), Target: longPath})
			return err
		}},
		{"stat-long-path", "path", func() error { _, err := c.Stat(ctx, &metapb.PathRequest{Cred: root, Path: longPath}); return err }},
		{"mkdirall-no-cred", "cred", func() error { _, err := c.MkdirAll(ctx, &metapb.MkdirAllRequest{Path: []byte("/a")}); return err }},
		{"readdir-limit", "limit", func() error {
			_, err := c.ReadDir(ctx, &metapb.ReadDirRequest{Cred: root, Ino: 1, Limit: wire.MaxReadDir + 1})
			return err
		}},
		{"readdir-cursor", "cursor", func() error {
			_, err := c.ReadDir(ctx, &metapb.ReadDirRequest{Cred: root, Ino: 1, Cursor: long})
			return err
		}},
		{"too-many-groups", "cred.groups", func() error {
			_, err := c.GetAttr(ctx, &metapb.InoRequest{Cred: &metapb.Cred{Groups: make([]uint32, wire.MaxGroups+1)}, Ino: 1})
			return err
		}},
		{"setxattr-huge-value", "value", func() error {
			_, err := c.SetXattr(ctx, &metapb.SetXattrRequest{Cred: root, Ino: 1, Name: []byte("user.x"), Value: make([]byte, wire.MaxXattrValue+1)})
			return err
		}},
		{"close-no-handle", "handle", func() error { _, err := c.Close(ctx, &metapb.HandleRequest{}); return err }},
		{"flock-unknown-type", "type", func() error {
			_, err := c.Flock(ctx, &metapb.FlockRequest{Handle: h, Type: metapb.LockType(7)})
			return err
		}},
		{"setlk-no-lock", "lock", func() error { _, err := c.SetLk(ctx, &metapb.SetLkRequest{Handle: h}); return err }},
		{"getlk-unknown-type", "lock.type", func() error {
			_, err := c.GetLk(ctx, &metapb.GetLkRequest{Handle: h, Lock: &metapb.Lock{Type: metapb.LockType(-3)}})
			return err
		}},
		{"session-long-description", "description", func() error {
			_, err := c.NewSession(ctx, &metapb.NewSessionRequest{Description: string(long)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
			require.True(t, strings.HasPrefix(status.Convert(err).Message(), tc.field+":"), "message names the field: %v", err)
		})
	}
	// The server is still up and well.
	r, err := c.Mkdir(ctx, &metapb.MkdirRequest{Cred: root, Parent: 1, Name: []byte("ok"), Mode: 0o755})
	require.NoError(t, err)
	require.Nil(t, r.Error)
}

// Unknown sessions are ErrSessionExpired for handle and lock calls.
func TestService_UnknownSession_Expired(t *testing.T) {
	_, conn := start(t, Config{})
	c := metapb.NewMetaClient(conn)
	r, err := c.Open(ctx, &metapb.OpenRequest{Cred: root, Session: 12345, Ino: 1})
	require.NoError(t, err)
	require.True(t, r.Error.SessionExpired)
	err = wire.FromError(r.Error)
	require.ErrorIs(t, err, meta.ErrSessionExpired)
	k, err := c.Keepalive(ctx, &metapb.SessionRequest{Session: 12345})
	require.NoError(t, err)
	require.True(t, k.Error.SessionExpired)
}

// rawCodec sends bytes as they are, to put garbage on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func TestService_GarbageOnTheWire(t *testing.T) {
	_, conn := start(t, Config{})
	garbage := [][]byte{{0xff}, {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, {0x12, 0x05, 'a'}, []byte(strings.Repeat("\x80", 64))}
	for _, m := range metapb.Meta_ServiceDesc.Methods {
		for _, g := range garbage {
			var out []byte
			err := conn.Invoke(ctx, "/"+metapb.Meta_ServiceDesc.ServiceName+"/"+m.MethodName, &g, &out, grpc.ForceCodec(rawCodec{}))
			if err != nil {
				c := status.Code(err)
				require.Contains(t, []codes.Code{codes.Internal, codes.InvalidArgument}, c, "%s: %v", m.MethodName, err)
			}
		}
	}
	h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, h.Status)
}

// newService is a service over a fresh store, for fuzzing the handlers
// without a network.
func newService(tb testing.TB) *service {
	s := newStore(tb)
	return &service{fs: s, se: newSessions(s, time.Minute, quiet, newMetrics())}
}

// FuzzService decodes arbitrary bytes as each request type and runs the
// handler: it must answer (a reply or a status), never panic.
func FuzzService(f *testing.F) {
	seed := []proto.Message{
		&metapb.LookupRequest{Cred: root, Parent: 1, Name: []byte("x")},
		&metapb.CreateRequest{Cred: root, Parent: 1, Name: []byte("f"), Mode: 0o644},
		&metapb.RenameRequest{Cred: root, SrcParent: 1, SrcName: []byte("a"), DstParent: 1, DstName: []byte("b"), Flags: 3},
		&metapb.SetLkRequest{Handle: &metapb.Handle{Ino: 1}, Lock: &metapb.Lock{Type: 2, End: 10}},
		&metapb.SetAttrRequest{Cred: root, Ino: 1, Mode: proto.Uint32(0o7777)},
	}
	for i, m := range seed {
		b, _ := proto.Marshal(m)
		f.Add(uint8(i), b)
	}
	sv := newService(f)
	type handler func(context.Context, []byte) error
	call := func(m proto.Message, fn func(context.Context) (any, error)) func(context.Context, []byte) error {
		return func(ctx context.Context, b []byte) error {
			if proto.Unmarshal(b, m) != nil {
				return nil
			}
			_, err := fn(ctx)
			return err
		}
	}
	handlers := func() []handler {
		var (
			lr  metapb.LookupRequest
			ir  metapb.InoRequest
			cr  metapb.CreateRequest
			mr  metapb.MknodRequest
			sr  metapb.SymlinkRequest
			lnr metapb.LinkRequest
			er  metapb.EntryRequest
			rr  metapb.RenameRequest
			sar metapb.SetAttrRequest
			rdr metapb.ReadDirRequest
			or  metapb.OpenRequest
			hr  metapb.HandleRequest
			fr  metapb.FlockRequest
			slr metapb.SetLkRequest
			glr metapb.GetLkRequest
			sxr metapb.SetXattrRequest
			xr  metapb.XattrRequest
			pr  metapb.PathRequest
			mar metapb.MkdirAllRequest
		)
		return []handler{
			call(&lr, func(ctx context.Context) (any, error) { return sv.Lookup(ctx, &lr) }),
			call(&ir, func(ctx context.Context) (any, error) { return sv.GetAttr(ctx, &ir) }),
			call(&cr, func(ctx context.Context) (any, error) { return sv.Create(ctx, &cr) }),
			call(&mr, func(ctx context.Context) (any, error) { return sv.Mknod(ctx, &mr) }),
			call(&sr, func(ctx context.Context) (any, error) { return sv.Symlink(ctx, &sr) }),
			call(&lnr, func(ctx context.Context) (any, error) { return sv.Link(ctx, &lnr) }),
			call(&er, func(ctx context.Context) (any, error) { return sv.Unlink(ctx, &er) }),
			call(&er, func(ctx context.Context) (any, error) { return sv.Rmdir(ctx, &er) }),
			call(&rr, func(ctx context.Context) (any, error) { return sv.Rename(ctx, &rr) }),
			call(&sar, func(ctx context.Context) (any, error) { return sv.SetAttr(ctx, &sar) }),
			call(&rdr, func(ctx context.Context) (any, error) { return sv.ReadDir(ctx, &rdr) }),
			call(&or, func(ctx context.Context) (any, error) { return sv.Open(ctx, &or) }),
			call(&hr, func(ctx context.Context) (any, error) { return sv.Close(ctx, &hr) }),
			call(&fr, func(ctx context.Context) (any, error) { return sv.Flock(ctx, &fr) }),
			call(&slr, func(ctx context.Context) (any, error) { return sv.SetLk(ctx, &slr) }),
			call(&glr, func(ctx context.Context) (any, error) { return sv.GetLk(ctx, &glr) }),
			call(&sxr, func(ctx context.Context) (any, error) { return sv.SetXattr(ctx, &sxr) }),
			call(&xr, func(ctx context.Context) (any, error) { return sv.GetXattr(ctx, &xr) }),
			call(&xr, func(ctx context.Context) (any, error) { return sv.RemoveXattr(ctx, &xr) }),
			call(&ir, func(ctx context.Context) (any, error) { return sv.ListXattr(ctx, &ir) }),
			call(&ir, func(ctx context.Context) (any, error) { return sv.Readlink(ctx, &ir) }),
			call(&pr, func(ctx context.Context) (any, error) { return sv.Stat(ctx, &pr) }),
			call(&pr, func(ctx context.Context) (any, error) { return sv.Lstat(ctx, &pr) }),
			call(&pr, func(ctx context.Context) (any, error) { return sv.Resolve(ctx, &pr) }),
			call(&pr, func(ctx context.Context) (any, error) { return sv.ResolveParent(ctx, &pr) }),
			call(&pr, func(ctx context.Context) (any, error) { return sv.RemoveAll(ctx, &pr) }),
			call(&mar, func(ctx context.Context) (any, error) { return sv.MkdirAll(ctx, &mar) }),
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		hs := handlers()
		// Lock waits are bounded so that a fuzzed wait cannot hang.
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		err := hs[int(which)%len(hs)](cctx, b)
		if err != nil {
			c := status.Code(err)
			require.NotEqual(t, codes.Internal, c, "%v", err)
			require.NotEqual(t, codes.Unknown, c, "%v", err)
		}
	})
}

// Requests are logged at debug level with their result; "serving" carries
// the address.
func TestServer_Logs(t *testing.T) {
	var buf syncbuf.Buffer
	srv, err := New(newStore(t), Config{Addr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	require.Eventually(t, func() bool { return srv.Addr() != "" }, 10*time.Second, 10*time.Millisecond)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	r, err := metapb.NewMetaClient(conn).Lookup(ctx, &metapb.LookupRequest{Cred: root, Parent: 1, Name: []byte("nope")})
	require.NoError(t, err)
	require.EqualValues(t, 2, r.Error.Errno)
	cancel()
	require.NoError(t, <-done)
	out := buf.String()
	require.Contains(t, out, "msg=serving addr="+srv.Addr())
	require.Contains(t, out, "level=DEBUG msg=request op=Lookup result=ENOENT")
	require.Contains(t, out, "msg=stopped")
}
