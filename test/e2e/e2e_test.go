// Package e2e runs fsmeta as people run it: kvserver and "fsmeta serve" as
// real processes on free loopback ports, driven by the built fsmeta CLI.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/fsmeta/fsmeta/internal/syncbuf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// build compiles the module's commands into dir and returns their paths.
func build(t *testing.T, dir string, pkgs ...string) map[string]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := map[string]string{}
	for _, pkg := range pkgs {
		bin := filepath.Join(dir, filepath.Base(pkg))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "./"+pkg)
		cmd.Dir = filepath.Join("..", "..")
		msg, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "go build ./%s:\n%s", pkg, msg)
		out[filepath.Base(pkg)] = bin
	}
	return out
}

// proc is a server process.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan struct{}
	err  error
}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// start runs a server and waits (at most 30 s) for its "msg=serving
// addr=" line; it returns the process and the address. A cleanup kills it
// if the test did not stop it.
func start(t *testing.T, bin string, args ...string) (*proc, string) {
	t.Helper()
	p := &proc{name: filepath.Base(bin), cmd: exec.Command(bin, args...), logs: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.logs
	p.cmd.Stdout = p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
			t.Logf("%s was killed at cleanup; its log:\n%s", p.name, p.logs.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		if m := servingRE.FindStringSubmatch(p.logs.String()); m != nil {
			return p, m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before serving (%v):\n%s", p.name, p.err, p.logs.String())
		case <-deadline:
			t.Fatalf("%s logged no address within 30 s:\n%s", p.name, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and requires a clean exit within 30 s.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of SIGTERM:\n%s", p.name, p.logs.String())
	}
	require.NoError(t, p.err, "%s exit status; log:\n%s", p.name, p.logs.String())
	require.Contains(t, p.logs.String(), "msg=stopped", p.name)
}

// cli runs the fsmeta CLI (at most 2 minutes).
type cli struct {
	bin    string
	prefix []string
}

func (c cli) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(append([]string{}, c.prefix...), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	require.NoError(t, err, "fsmeta %s", strings.Join(args, " "))
	return 0, out.String(), errb.String()
}

func (c cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := c.run(t, args...)
	require.Equal(t, 0, code, "fsmeta %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errs)
	require.Empty(t, errs, "fsmeta %s", strings.Join(args, " "))
	return out
}

const lsTime = `[A-Z][a-z]{2} [ 0-9]\d (\d\d:\d\d| \d{4})`

func TestCLIAgainstRealServers(t *testing.T) {
	tmp := t.TempDir()
	bins := build(t, tmp, "cmd/kvserver", "cmd/fsmeta")

	kv, kvAddr := start(t, bins["kvserver"], "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(tmp, "kvdata"))
	config := filepath.Join(tmp, "custom.toml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `[kv_engine]
kv_engine_type = "custom"
[kv_engine.custom_kv]
cluster_endpoints = [%q]
`, kvAddr), 0o644))
	meta, metaAddr := start(t, bins["fsmeta"], "serve", "--addr", "127.0.0.1:0", "--config", config)
	fs := cli{bin: bins["fsmeta"], prefix: []string{"--server", metaAddr}}

	fs.ok(t, "mkdir", "-p", "a/b/c")
	fs.ok(t, "touch", "/a/b/c/file", "/a/top")
	require.Regexp(t, `^-rw-r--r-- 1 0 0 0 `+lsTime+` file\n$`, fs.ok(t, "ls", "-l", "/a/b/c"))
	fs.ok(t, "mv", "/a/b/c/file", "/a/moved")
	fs.ok(t, "ln", "/a/moved", "/a/hard")
	fs.ok(t, "ln", "-s", "moved", "/a/soft")
	require.Regexp(t, `^drwxr-xr-x 3 0 0 0 `+lsTime+` b\n`+
		`-rw-r--r-- 2 0 0 0 `+lsTime+` hard\n`+
		`-rw-r--r-- 2 0 0 0 `+lsTime+` moved\n`+
		`lrwxrwxrwx 1 0 0 5 `+lsTime+` soft -> moved\n`+
		`-rw-r--r-- 1 0 0 0 `+lsTime+` top\n$`, fs.ok(t, "ls", "-l", "/a"))
	require.Regexp(t, `^  File: /a/soft -> moved\n  Size: 5 .*symbolic link\n`, fs.ok(t, "stat", "/a/soft"))
	require.Regexp(t, `^  File: /a/soft\n  Size: 0 .*Links: 2 +regular empty file\nAccess: \(0644/-rw-r--r--\)`, fs.ok(t, "stat", "-L", "/a/soft"))
	require.Equal(t, "/a\n├── b\n│   └── c\n├── hard\n├── moved\n├── soft -> moved\n└── top\n\n2 directories, 4 files\n", fs.ok(t, "tree", "/a"))

	code, out, errs := fs.run(t, "rm", "/a/missing")
	require.Equal(t, 1, code, out)
	require.Equal(t, "fsmeta: rm: cannot remove '/a/missing': No such file or directory\n", errs)
	code, _, errs = fs.run(t, "rmdir", "/a/b")
	require.Equal(t, 1, code)
	require.Equal(t, "fsmeta: rmdir: failed to remove '/a/b': Directory not empty\n", errs)
	code, _, errs = fs.run(t, "ls", "--bogus")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "unknown flag: --bogus")

	fs.ok(t, "rm", "-r", "/a/b")
	require.Equal(t, "hard\nmoved\nsoft\ntop\n", fs.ok(t, "ls", "/a"))
	require.Equal(t, "fsck: 5 inodes, 2 directories, 5 entries: clean\n", fs.ok(t, "fsck"))

	// The namespace lives in the KV server: the CLI reaches it through the
	// engine config as well, without the meta server.
	direct := cli{bin: bins["fsmeta"], prefix: []string{"--config", config}}
	require.Equal(t, "hard\nmoved\nsoft\ntop\n", direct.ok(t, "ls", "/a"))

	// The benchmark against the meta server: 4 clients are 4 sessions.
	var rep struct {
		Items   int `json:"items_per_client"`
		Clients int `json:"clients"`
		Results []struct {
			Target, Mode, Phase string
			Ops                 int
			OpsPerSec           float64 `json:"ops_per_sec"`
			P50                 float64 `json:"p50_us"`
			P99                 float64 `json:"p99_us"`
		}
		Fsck []struct {
			OK bool
		}
	}
	out = fs.ok(t, "bench", "-n", "200", "-c", "4", "--json", "--quiet")
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, 200, rep.Items)
	require.Equal(t, 4, rep.Clients)
	require.Len(t, rep.Results, 6)
	for i, r := range rep.Results {
		require.Equal(t, []string{"mkdir", "create", "stat", "rename", "unlink", "rmdir"}[i], r.Phase)
		require.Equal(t, "server:"+metaAddr, r.Target)
		require.Equal(t, "unique", r.Mode)
		require.Equal(t, 800, r.Ops)
		require.Greater(t, r.OpsPerSec, 0.0)
		require.Greater(t, r.P99, 0.0)
		require.LessOrEqual(t, r.P50, r.P99)
	}
	require.Len(t, rep.Fsck, 1)
	require.True(t, rep.Fsck[0].OK)
	require.Equal(t, "fsck: 6 inodes, 3 directories, 6 entries: clean\n", fs.ok(t, "fsck"), "the bench removed its items, /fsmeta-bench stays")

	meta.stop(t)
	kv.stop(t)
}
