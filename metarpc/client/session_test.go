package client_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A lock wait cut off by its context is the store's error over the wire
// too: a *fs.PathError that is EINTR and wraps the context's error, not
// an RPC failure (EIO).
func TestClient_LockWaitCutOffIsEINTR(t *testing.T) {
	s := newStore(t)
	c := dial(t, serve(t, s, server.Config{}).addr, client.Options{})
	f, err := s.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	for _, fsys := range []meta.FS{s, c} {
		holder, err := fsys.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
		require.NoError(t, err)
		waiter, err := fsys.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
		require.NoError(t, err)
		require.NoError(t, fsys.Flock(ctx, holder, 1, meta.LockWrite, false))
		require.NoError(t, fsys.SetLk(ctx, holder, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1}, false))

		for _, cut := range []struct {
			name  string
			ctx   func() (context.Context, context.CancelFunc)
			cause error
		}{
			{"deadline", func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 100*time.Millisecond) }, context.DeadlineExceeded},
			{"cancel", func() (context.Context, context.CancelFunc) {
				cctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return cctx, cancel
			}, context.Canceled},
		} {
			for _, op := range []struct {
				name string
				call func(context.Context) error
			}{
				{"flock", func(c context.Context) error { return fsys.Flock(c, waiter, 2, meta.LockWrite, true) }},
				{"setlk", func(c context.Context) error {
					return fsys.SetLk(c, waiter, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 2}, true)
				}},
			} {
				what := fmt.Sprintf("%T %s %s", fsys, op.name, cut.name)
				wctx, cancel := cut.ctx()
				err := op.call(wctx)
				cancel()
				require.Error(t, err, what)
				require.Equal(t, syscall.EINTR, meta.Errno(err), "%s: %v", what, err)
				require.ErrorIs(t, err, cut.cause, what)
				require.Equal(t, fmt.Sprintf("%s #%d: interrupted while waiting for a lock: %v", op.name, f.Ino, cut.cause), err.Error(), what)
			}
		}
		require.NoError(t, fsys.Close(ctx, waiter))
		require.NoError(t, fsys.Close(ctx, holder))
		require.NoError(t, fsys.SetLk(ctx, holder, meta.Lock{Type: meta.LockUnlock, End: meta.LockEOF, Owner: 1}, false))
	}
}

// A client whose session expired opens new handles in a fresh session, as
// the store does with its default session; the old handles stay fenced
// (ErrSessionExpired, not EBADF) and still close.
func TestClient_SessionExpired_NewOpensInAFreshSession(t *testing.T) {
	s := newStore(t)
	r := serve(t, s, server.Config{SessionLease: 300 * time.Millisecond})
	c := dial(t, r.addr, client.Options{KeepaliveInterval: time.Hour})
	f, err := c.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	old := c.Session()
	h, err := c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.Equal(t, old, h.Session)
	require.NoError(t, c.Flock(ctx, h, 1, meta.LockWrite, false))

	// Poll: the server sweeps every third of the lease.
	require.Eventually(t, func() bool { return errors.Is(c.Flock(ctx, h, 1, meta.LockWrite, false), meta.ErrSessionExpired) },
		10*time.Second, 50*time.Millisecond, "the session expires without keepalives")

	// Concurrent opens after the expiry share one fresh session.
	var opened [8]meta.Handle
	var errs [8]error
	var wg sync.WaitGroup
	for i := range opened {
		wg.Go(func() { opened[i], errs[i] = c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr) })
	}
	wg.Wait()
	for i := range opened {
		require.NoError(t, errs[i], "a new open runs in a fresh session")
		require.Equal(t, opened[0].Session, opened[i].Session, "one fresh session")
		if i > 0 {
			require.NoError(t, c.Close(ctx, opened[i]))
		}
	}
	h2 := opened[0]
	require.NotEqual(t, old, h2.Session)
	require.Equal(t, h2.Session, c.Session())
	require.Eventually(t, func() bool { return c.Flock(ctx, h2, 2, meta.LockWrite, false) == nil },
		10*time.Second, 50*time.Millisecond, "the expiry releases the old session's lock")

	// The old handle stays fenced in every lock call.
	for name, err := range map[string]error{
		"flock": c.Flock(ctx, h, 1, meta.LockUnlock, false),
		"setlk": c.SetLk(ctx, h, meta.Lock{Type: meta.LockRead, End: 9, Owner: 1}, false),
		"getlk": func() error { _, err := c.GetLk(ctx, h, meta.Lock{Type: meta.LockRead, End: 9, Owner: 1}); return err }(),
	} {
		require.ErrorIs(t, err, meta.ErrSessionExpired, name)
		require.Equal(t, syscall.ESTALE, meta.Errno(err), name)
	}
	require.NoError(t, c.Close(ctx, h), "closing a handle of an expired session is fine")
	require.NoError(t, c.Close(ctx, h2))
	sessions, err := s.Sessions(ctx)
	require.NoError(t, err)
	require.Len(t, sessions, 1, "only the fresh session is left: %v", sessions)
	require.Equal(t, h2.Session, sessions[0].ID)
	require.NoError(t, c.Shutdown(ctx))
	sessions, err = s.Sessions(ctx)
	require.NoError(t, err)
	require.Empty(t, sessions, "Shutdown ended the fresh session")
}

// A meta server restart ends the clients' sessions; a client keeps working
// through it: namespace calls once it has reconnected, new opens in a
// fresh session that its keepalives then renew.
func TestClient_ServerRestart_Recovers(t *testing.T) {
	s := newStore(t)
	cfg := server.Config{SessionLease: 300 * time.Millisecond, Logger: quiet}
	first := serve(t, s, cfg)
	c := dial(t, first.addr, client.Options{})
	f, err := c.Create(ctx, meta.RootCred(), root, "f", 0o644, true)
	require.NoError(t, err)
	h, err := c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, first.stop())

	cfg.Addr = first.addr
	srv, err := server.New(s, cfg)
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool {
		_, err := c.Stat(ctx, meta.RootCred(), "/f")
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "the client reconnects")

	h2, err := c.Open(ctx, meta.RootCred(), f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NotEqual(t, h.Session, h2.Session)
	require.ErrorIs(t, c.Flock(ctx, h, 1, meta.LockWrite, false), meta.ErrSessionExpired)
	time.Sleep(time.Second) // three leases: only keepalives keep the new session
	require.NoError(t, c.Flock(ctx, h2, 1, meta.LockWrite, false), "keepalives renew the fresh session")
	require.NoError(t, c.Close(ctx, h2))
}

// Shutdown stops every goroutine the client started, whatever state the
// session is in.
func TestClient_ShutdownLeavesNoGoroutines(t *testing.T) {
	r := serve(t, newStore(t), server.Config{SessionLease: 300 * time.Millisecond})
	// Warm up: the server's goroutines that outlive a connection start.
	w, err := client.Dial(ctx, r.addr, client.Options{Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, w.Shutdown(ctx))
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 5 {
		c, err := client.Dial(ctx, r.addr, client.Options{Logger: quiet})
		require.NoError(t, err)
		_, err = c.MkdirAll(ctx, meta.RootCred(), "/d", 0o755)
		require.NoError(t, err)
		require.NoError(t, c.Shutdown(ctx))
		require.NoError(t, c.Shutdown(ctx), "Shutdown again returns the first result")
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines: %d before, %d after\n%s", before, n, stacks())
	}
}

func stacks() string {
	b := make([]byte, 1<<20)
	return string(b[:runtime.Stack(b, true)])
}

// A call whose context ends is context.Canceled or
// context.DeadlineExceeded to errors.Is, with the matching gRPC code.
func TestClient_ContextErrorsMapBack(t *testing.T) {
	c := dial(t, serve(t, newStore(t), server.Config{}).addr, client.Options{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := c.Stat(cctx, meta.RootCred(), "/")
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, client.ErrUnavailable)
	require.Equal(t, codes.Canceled, status.Code(err))
	dctx, cancel := context.WithTimeout(ctx, -time.Second)
	defer cancel()
	_, err = c.MkdirAll(dctx, meta.RootCred(), "/a", 0o755)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, codes.DeadlineExceeded, status.Code(err))
	_, err = c.Stat(ctx, meta.RootCred(), "/a")
	require.ErrorIs(t, err, syscall.ENOENT, "the call past its deadline was not sent")
}
