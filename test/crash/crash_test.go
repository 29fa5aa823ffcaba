// Package crash_test kills a meta client with SIGKILL while it holds locks
// and an unlinked file open (issue 8), and checks that another client's
// expiry pass cleans up after it: the client is a child process (this test
// binary re-executed with FSMETA_CRASH_CHILD set) with a Store over
// customkv, talking to a real KV server that the parent runs in process on
// 127.0.0.1. The parent advances its own clock past the child's lease
// instead of waiting for it.
package crash_test

import (
	"bufio"
	"context"
	"fmt"
	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv"
	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/keys"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/stretchr/testify/require"
)

const childEnv = "FSMETA_CRASH_CHILD" // "addr root-id" of the parent's server

var root = keys.Sub(keys.Tuple{"fsmeta-crash"})

func openKV(tb testing.TB, addr string) *customkv.Engine {
	tb.Helper()
	db, err := customkv.Open(context.Background(), customkv.Options{
		Endpoints: []string{addr},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(tb, err)
	return db
}

// child is the client that gets killed: it locks /f (POSIX write lock on
// the whole file and flock exclusive), opens /g and unlinks it, sets an
// xattr on /g, prints "ready" and waits to die.
func child(t *testing.T, addr string) {
	ctx := context.Background()
	db := openKV(t, addr)
	s, err := meta.Open(ctx, db, meta.Options{Root: root, NoCreate: true})
	require.NoError(t, err)
	c := meta.RootCred()
	f, err := s.Lookup(ctx, c, inode.RootIno, "f")
	require.NoError(t, err)
	g, err := s.Lookup(ctx, c, inode.RootIno, "g")
	require.NoError(t, err)
	hf, err := s.Open(ctx, c, f.Ino, meta.ORdWr)
	require.NoError(t, err)
	require.NoError(t, s.SetLk(ctx, hf, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1, Pid: uint32(os.Getpid())}, false))
	require.NoError(t, s.Flock(ctx, hf, 1, meta.LockWrite, false))
	hg, err := s.Open(ctx, c, g.Ino, meta.ORdOnly)
	require.NoError(t, err)
	require.NoError(t, s.SetLk(ctx, hg, meta.Lock{Type: meta.LockRead, Start: 10, End: 20, Owner: 1}, false))
	require.NoError(t, s.SetXattr(ctx, c, g.Ino, "user.note", []byte("open and unlinked"), 0))
	require.NoError(t, s.Unlink(ctx, c, inode.RootIno, "g"))
	fmt.Printf("ready %d\n", hf.Session)
	select {} // until SIGKILL
}

func TestCrash_ExpiryCleansUpAfterKilledClient(t *testing.T) {
	if addr := os.Getenv(childEnv); addr != "" {
		child(t, addr)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	srv, err := server.Open(server.Config{InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.NoError(t, <-served)
	})
	addr := lis.Addr().String()

	ctx := context.Background()
	db := openKV(t, addr)
	t.Cleanup(func() { _ = db.Close() })
	clk := &fakeclock.Clock{}
	s, err := meta.Open(ctx, db, meta.Options{Root: root, Clock: clk.Now})
	require.NoError(t, err)
	c := meta.RootCred()
	f, err := s.Create(ctx, c, inode.RootIno, "f", 0o644, true)
	require.NoError(t, err)
	g, err := s.Create(ctx, c, inode.RootIno, "g", 0o644, true)
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash_ExpiryCleansUpAfterKilledClient$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "ready ") {
				ready <- line
			}
		}
		close(ready)
	}()
	var line string
	select {
	case line = <-ready:
		require.NotEmpty(t, line, "the child exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not get ready in 30 s")
	}
	var childSession uint64
	_, err = fmt.Sscanf(line, "ready %d", &childSession)
	require.NoError(t, err)

	// The parent's handle lives in a session of its own with a long lease.
	se, err := s.NewSession(ctx, meta.SessionOptions{Lease: time.Hour, NoRenew: true, Description: "parent"})
	require.NoError(t, err)
	pctx := meta.WithSession(ctx, se)
	h, err := s.Open(pctx, c, f.Ino, meta.ORdWr)
	require.NoError(t, err)
	holder, err := s.GetLk(pctx, h, meta.Lock{Type: meta.LockRead, End: 0, Owner: 1})
	require.NoError(t, err)
	require.Equal(t, childSession, holder.Session, "the child holds the lock")
	require.Equal(t, meta.LockWrite, holder.Type)
	require.Equal(t, syscall.EAGAIN, meta.Errno(s.Flock(pctx, h, 1, meta.LockRead, false)))
	_, err = s.GetAttr(ctx, c, g.Ino)
	require.NoError(t, err, "the unlinked file stays while the child has it open")

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	killed = true

	n, err := s.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the child's lease has not run out yet")
	clk.Advance(meta.DefaultLease + time.Second)
	n, err = s.ExpireSessions(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the child's session")

	ls, err := s.Locks(ctx, f.Ino)
	require.NoError(t, err)
	require.Empty(t, ls, "the child's locks are gone")
	ls, err = s.Locks(ctx, g.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
	_, err = s.GetAttr(ctx, c, g.Ino)
	require.Equal(t, syscall.ENOENT, meta.Errno(err), "the unlinked file went with the child's handle: %v", err)
	_, err = s.GetXattr(ctx, c, g.Ino, "user.note")
	require.Equal(t, syscall.ENOENT, meta.Errno(err))
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
	infos, err := s.Sessions(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, se.ID(), infos[0].ID)

	require.NoError(t, s.Flock(pctx, h, 1, meta.LockWrite, false), "the lock is free now")
	require.NoError(t, s.SetLk(pctx, h, meta.Lock{Type: meta.LockWrite, End: meta.LockEOF, Owner: 1}, false))
	require.NoError(t, se.Close(ctx))
	rep, err = s.Check(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
	ls, err = s.Locks(ctx, f.Ino)
	require.NoError(t, err)
	require.Empty(t, ls)
}
