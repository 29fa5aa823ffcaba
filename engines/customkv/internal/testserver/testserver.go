// Package testserver starts KV servers for tests: in process on a loopback
// port, or as a real kvserver process built from cmd/kvserver.
package testserver

import (
	"bufio"
	"context"
	"fmt"
	"github.com/fsmeta/fsmeta/internal/fakeclock"
	"github.com/fsmeta/fsmeta/internal/syncbuf"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/stretchr/testify/require"
)

// Clock is a time source tests move forward by hand.
type Clock = fakeclock.Clock

// InProcess opens a server with cfg (in memory when cfg.DataDir is empty)
// on a free loopback port and returns its address. Cleanup shuts it down.
func InProcess(tb testing.TB, cfg server.Config) (*server.Server, string) {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.InMemory = true
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.Open(cfg)
	require.NoError(tb, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(tb, srv.Shutdown(ctx))
		require.NoError(tb, <-done)
	})
	return srv, lis.Addr().String()
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/kvserver once per test binary and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kvserver-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "kvserver")
		out, err := exec.Command("go", "build", "-o", buildPath, "github.com/fsmeta/fsmeta/cmd/kvserver").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/kvserver: %w\n%s", err, out)
		}
	})
	require.NoError(tb, buildErr)
	return buildPath
}

// Process is a running kvserver process.
type Process struct {
	Addr string
	Args []string
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error
}

var addrRE = regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)

// Start runs kvserver with args plus --listen 127.0.0.1:0 (unless args
// name --listen) and waits for it to serve. Cleanup kills it if it still
// runs.
func Start(tb testing.TB, args ...string) *Process {
	tb.Helper()
	p, err := TryStart(tb, args...)
	require.NoError(tb, err)
	return p
}

// TryStart is Start returning the error (with the server's output) when
// the server exits before serving.
func TryStart(tb testing.TB, args ...string) (*Process, error) {
	tb.Helper()
	bin := Binary(tb)
	hasListen := false
	for _, a := range args {
		if strings.HasPrefix(a, "--listen") {
			hasListen = true
		}
	}
	if !hasListen {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	p := &Process{Args: args, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if m := addrRE.FindStringSubmatch(line); m != nil && !sent {
				addrCh <- m[1]
				sent = true
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		if p.cmd.Process != nil {
			p.cmd.Process.Kill()
		}
		<-p.done
	})
	select {
	case p.Addr = <-addrCh:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("kvserver exited before serving: %v\n%s", p.err, p.out.String())
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		return nil, fmt.Errorf("kvserver did not start in 30 s\n%s", p.out.String())
	}
}

// Output is what the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// Stop sends SIGTERM and waits (up to 20 s) for a clean exit.
func (p *Process) Stop(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		tb.Fatalf("kvserver did not stop within 20 s of SIGTERM\n%s", p.Output())
	}
	require.NoError(tb, p.err, "kvserver exit\n%s", p.Output())
}

// Wait waits for the process to exit on its own and returns its error.
func (p *Process) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("still running after %v", timeout)
	}
}
