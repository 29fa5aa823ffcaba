package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/customkv/server"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
)

// mainEnv makes the re-executed test binary run main with the arguments
// it holds (JSON), so the tests drive the real command, signals included.
const mainEnv = "METAFS_TEST_MAIN"

func TestMain(m *testing.M) {
	if a := os.Getenv(mainEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Args = append([]string{"metafs"}, args...)
		main()
	}
	os.Exit(m.Run())
}

func requireFUSE(t *testing.T) {
	t.Helper()
	if err := mount.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (mounts with allow_other)")
	}
}

func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == dir {
			return true
		}
	}
	return false
}

// metafs is a running metafs process.
type metafs struct {
	cmd  *exec.Cmd
	log  *strings.Builder
	done chan error
}

// start runs metafs with args and waits until it logs that it mounted.
func start(t *testing.T, mnt string, args ...string) *metafs {
	t.Helper()
	b, err := json.Marshal(append(args, mnt))
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), mainEnv+"="+string(b))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &metafs{cmd: cmd, log: &strings.Builder{}, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "msg=mounted") {
				ready <- true
			}
		}
		ready <- false
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if mounted(mnt) {
			_ = exec.Command("fusermount3", "-u", "-z", mnt).Run()
		}
	})
	select {
	case ok := <-ready:
		require.True(t, ok, "metafs exited before mounting:\n%s", p.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("metafs did not mount in 30 s:\n%s", p.log)
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *metafs) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.wait(t)
}

func (p *metafs) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		require.NoError(t, err, "metafs exit:\n%s", p.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("metafs still running 30 s after SIGTERM:\n%s", p.log)
	}
}

func dirs(t *testing.T) (mnt, data string) {
	base := t.TempDir()
	mnt, data = filepath.Join(base, "mnt"), filepath.Join(base, "data")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	return mnt, data
}

func TestMetafs_MountAndSIGTERM(t *testing.T) {
	requireFUSE(t)
	mnt, data := dirs(t)
	p := start(t, mnt, "-data", data, "-attr-timeout", "0", "-entry-timeout", "0")
	require.True(t, mounted(mnt))
	require.NoError(t, os.MkdirAll(filepath.Join(mnt, "a", "b"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "a", "b", "f"), []byte("through metafs"), 0o644))
	b, err := os.ReadFile(filepath.Join(mnt, "a", "b", "f"))
	require.NoError(t, err)
	require.Equal(t, "through metafs", string(b))
	ents, err := os.ReadDir(data)
	require.NoError(t, err)
	require.Len(t, ents, 1, "the file's contents in the data directory")

	p.stop(t)
	require.False(t, mounted(mnt), "unmounted after SIGTERM")
	require.Contains(t, p.log.String(), "msg=unmounted")
	_, err = os.Stat(filepath.Join(mnt, "a"))
	require.True(t, os.IsNotExist(err), "the mount point is empty again: %v", err)
}

// TestMetafs_BusyAtSIGTERM keeps a file open in the mount across SIGTERM:
// metafs retries, then unmounts lazily, and exits once the file closes.
func TestMetafs_BusyAtSIGTERM(t *testing.T) {
	requireFUSE(t)
	mnt, data := dirs(t)
	p := start(t, mnt, "-data", data, "-busy-wait", "300ms")
	f, err := os.Create(filepath.Join(mnt, "held"))
	require.NoError(t, err)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Eventually(t, func() bool { return !mounted(mnt) }, 20*time.Second, 50*time.Millisecond, "lazily unmounted:\n%s", p.log)
	_, err = f.WriteString("still writable while detached")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	p.wait(t)
	require.Contains(t, p.log.String(), "unmounting lazily")
}

// TestMetafs_CustomKVRestart runs metafs twice over a KV server named by a
// config file: the second run shows what the first wrote.
func TestMetafs_CustomKVRestart(t *testing.T) {
	requireFUSE(t)
	srv, err := server.Open(server.Config{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	cfg := filepath.Join(t.TempDir(), "kv.toml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`
[kv_engine]
kv_engine_type = "custom"
[kv_engine.custom_kv]
cluster_endpoints = [%q]
`, lis.Addr().String())), 0o644))

	mnt, data := dirs(t)
	p := start(t, mnt, "-config", cfg, "-data", data)
	require.NoError(t, os.Mkdir(filepath.Join(mnt, "kept"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(mnt, "kept", "f"), []byte("across runs"), 0o600))
	p.stop(t)

	p = start(t, mnt, "-config", cfg, "-data", data)
	b, err := os.ReadFile(filepath.Join(mnt, "kept", "f"))
	require.NoError(t, err)
	require.Equal(t, "across runs", string(b))
	fi, err := os.Stat(filepath.Join(mnt, "kept"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	p.stop(t)
}
