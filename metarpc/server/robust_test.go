package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/metapb"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// counter reads a counter of the server's registry.
func counter(tb testing.TB, m *metrics, name string) float64 {
	tb.Helper()
	mfs, err := m.reg.Gather()
	require.NoError(tb, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	tb.Fatalf("no metric %s", name)
	return 0
}

// A remote session that stops renewing is counted once as expired, though
// both the table and the store's expiry pass see it go.
func TestSessions_ExpiryCountedOnce(t *testing.T) {
	s := newStore(t)
	m := newMetrics()
	se := newSessions(s, 50*time.Millisecond, quiet, m)
	id, err := se.open(ctx, "test")
	require.NoError(t, err)
	time.Sleep(120 * time.Millisecond)
	se.sweep(ctx)
	se.sweep(ctx)
	_, ok := se.get(id)
	require.False(t, ok, "dropped from the table")
	infos, err := s.Sessions(ctx)
	require.NoError(t, err)
	require.Empty(t, infos, "reaped in the store")
	require.EqualValues(t, 1, counter(t, m, "fsmeta_meta_sessions_expired_total"))
	require.EqualValues(t, 1, counter(t, m, "fsmeta_meta_sessions_reaped_total"))
}

// Close during Serve stops it; Serve after Close fails rather than
// returning nil having served nothing.
func TestServer_CloseDuringAndBeforeServe(t *testing.T) {
	srv, err := New(newStore(t), Config{Addr: "127.0.0.1:0", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, srv.Listen())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = metapb.NewMetaClient(conn).GetAttr(ctx, &metapb.InoRequest{Cred: root, Ino: 1}, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after Close")
	}

	closed, err := New(newStore(t), Config{Addr: "127.0.0.1:0", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	require.ErrorIs(t, closed.Serve(ctx), ErrClosed)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.ErrorIs(t, closed.ServeListener(ctx, lis), ErrClosed)
	_, err = lis.Accept()
	require.Error(t, err, "ServeListener closes the listener it was given")
}

// A lock wait in flight cannot hold up shutdown past ShutdownTimeout.
func TestServer_ShutdownBoundedWithLockWaitInFlight(t *testing.T) {
	srv, err := New(newStore(t), Config{Addr: "127.0.0.1:0", Logger: quiet, ShutdownTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, srv.Listen())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	c := metapb.NewMetaClient(conn)
	ses, err := c.NewSession(ctx, &metapb.NewSessionRequest{}, grpc.WaitForReady(true))
	require.NoError(t, err)
	f, err := c.Create(ctx, &metapb.CreateRequest{Cred: root, Parent: 1, Name: []byte("f"), Mode: 0o644})
	require.NoError(t, err)
	require.Nil(t, f.Error)
	var hs [2]*metapb.Handle
	for i := range hs {
		o, err := c.Open(ctx, &metapb.OpenRequest{Cred: root, Session: ses.Session, Ino: f.Attr.Ino, Flags: meta.ORdWr})
		require.NoError(t, err)
		require.Nil(t, o.Error)
		hs[i] = o.Handle
	}
	r, err := c.Flock(ctx, &metapb.FlockRequest{Session: ses.Session, Handle: hs[0], Owner: 1, Type: metapb.LockType(meta.LockWrite)})
	require.NoError(t, err)
	require.Nil(t, r.Error)
	waited := make(chan error, 1)
	go func() {
		_, err := c.Flock(ctx, &metapb.FlockRequest{Session: ses.Session, Handle: hs[1], Owner: 2, Type: metapb.LockType(meta.LockWrite), Wait: true})
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond) // the wait is in flight
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return with a lock wait in flight")
	}
	t.Logf("shutdown took %v", time.Since(start))
	err = <-waited
	require.Error(t, err)
	require.Contains(t, []codes.Code{codes.Unavailable, codes.Canceled}, status.Code(err), "%v", err)
	require.False(t, errors.Is(err, context.DeadlineExceeded))
}
