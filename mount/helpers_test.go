package mount_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
)

// childEnv carries a child process's command (see runChild) when the test
// binary re-executes itself, as another uid or as one of many processes.
const childEnv = "FSMETA_MOUNT_CHILD"

func TestMain(m *testing.M) {
	if cmd := os.Getenv(childEnv); cmd != "" {
		var args []string
		if err := json.Unmarshal([]byte(cmd), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad", childEnv, err)
			os.Exit(2)
		}
		os.Exit(runChild(args))
	}
	code := m.Run()
	if exeDir != "" {
		os.RemoveAll(exeDir)
	}
	if home != "" {
		os.RemoveAll(home)
	}
	os.Exit(code)
}

// exeDir holds a copy of the test binary that other uids may execute (the
// go build cache is root's alone).
var (
	exeOnce sync.Once
	exeDir  string
	exePath string
	exeErr  error
)

func childExe() (string, error) {
	exeOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			exeErr = err
			return
		}
		if exeDir, exeErr = os.MkdirTemp("", "fsmeta-mount-test"); exeErr != nil {
			return
		}
		if exeErr = os.Chmod(exeDir, 0o755); exeErr != nil {
			return
		}
		b, err := os.ReadFile(self)
		if err != nil {
			exeErr = err
			return
		}
		exePath = filepath.Join(exeDir, "mount.test")
		exeErr = os.WriteFile(exePath, b, 0o755)
	})
	return exePath, exeErr
}

// requireFUSE skips the test unless FUSE can be mounted here.
func requireFUSE(tb testing.TB) {
	tb.Helper()
	if err := mount.Available(); err != nil {
		tb.Skipf("skipping FUSE test: %v", err)
	}
	if os.Geteuid() != 0 {
		// Non-root mounts need user_allow_other for allow_other and
		// cannot switch uids; the suite is written for root (CI is).
		tb.Skip("skipping FUSE test: needs root (mounts with allow_other and switches uids)")
	}
}

// env is a mounted filesystem under test.
type env struct {
	dir   string // the mount point
	data  string // the data directory
	store *meta.Store
	db    kv.Engine
	srv   *mount.Server
}

// mountStore mounts store on a fresh directory with strict (zero) cache
// timeouts. Cleanup unmounts (lazily if a test left something open) and
// runs the consistency checker.
func mountStore(tb testing.TB, store *meta.Store, data string, opts mount.Options) *env {
	tb.Helper()
	requireFUSE(tb)
	dir := tb.TempDir()
	// Other uids (the permission tests' children) must reach the mount.
	require.NoError(tb, os.Chmod(dir, 0o755))
	require.NoError(tb, os.Chmod(filepath.Dir(dir), 0o755))
	mnt := filepath.Join(dir, "mnt")
	require.NoError(tb, os.Mkdir(mnt, 0o755))
	if data == "" {
		data = filepath.Join(dir, "data")
	}
	opts.DataDir = data
	opts.AllowOther = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := mount.Mount(context.Background(), store, mnt, opts)
	require.NoError(tb, err)
	e := &env{dir: mnt, data: data, store: store, db: store.Engine(), srv: srv}
	tb.Cleanup(func() { e.unmount(tb) })
	return e
}

// mountT mounts a fresh memkv store.
func mountT(tb testing.TB) *env {
	tb.Helper()
	return mountOpts(tb, mount.Options{})
}

// mountOpts mounts a fresh memkv store with opts (DataDir, AllowOther and
// a quiet Logger are set).
func mountOpts(tb testing.TB, opts mount.Options) *env {
	tb.Helper()
	requireFUSE(tb)
	store, err := meta.Open(context.Background(), memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(tb, err)
	// Runs after the unmount (cleanups run last-registered first).
	tb.Cleanup(func() {
		checkStore(tb, store)
		checkNoHandles(tb, store)
	})
	return mountStore(tb, store, "", opts)
}

// checkNoHandles fails the test if store has open handle records: once a
// mount is gone, every meta handle it opened must have been closed.
func checkNoHandles(tb testing.TB, store *meta.Store) {
	tb.Helper()
	require.Zero(tb, handleRecords(tb, store), "open handle records left in meta after the unmount")
}

// handleRecords counts the open handle records in store.
func handleRecords(tb testing.TB, store *meta.Store) int {
	tb.Helper()
	begin, end := store.Layout().AllHandleRange()
	var n int
	require.NoError(tb, kv.View(context.Background(), store.Engine(), func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		r, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual(begin), kv.FirstGreaterOrEqual(end), 0)
		n = len(r.KVs)
		return err
	}))
	return n
}

// unmount unmounts e, falling back to a lazy unmount so that a failing
// test never leaves a dead mount behind.
func (e *env) unmount(tb testing.TB) {
	tb.Helper()
	if err := e.srv.Unmount(); err != nil {
		tb.Logf("unmount: %v; unmounting lazily", err)
		out, lerr := exec.Command("fusermount3", "-u", "-z", e.dir).CombinedOutput()
		if lerr != nil {
			tb.Errorf("fusermount3 -u -z %s: %v: %s", e.dir, lerr, out)
			return
		}
		done := make(chan struct{})
		go func() { e.srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			tb.Errorf("server of %s still running 30 s after a lazy unmount", e.dir)
		}
	}
}

// checkStore runs fsck on store and fails the test on any problem.
func checkStore(tb testing.TB, store *meta.Store) {
	tb.Helper()
	rep, err := store.Check(context.Background())
	require.NoError(tb, err)
	require.True(tb, rep.OK(), "fsck: %v", rep.Problems)
}

func (e *env) path(parts ...string) string {
	return filepath.Join(append([]string{e.dir}, parts...)...)
}

// errno returns the errno in err, 0 for nil.
func errno(err error) syscall.Errno {
	return meta.Errno(err)
}

func requireErrno(tb testing.TB, want syscall.Errno, err error, msgAndArgs ...any) {
	tb.Helper()
	msg := fmt.Sprintf("err %v", err)
	if len(msgAndArgs) > 0 {
		format, _ := msgAndArgs[0].(string)
		msg = fmt.Sprintf(format, msgAndArgs[1:]...) + ": " + msg
	}
	require.Equal(tb, want, errno(err), msg)
}

func writeFile(tb testing.TB, p, content string) {
	tb.Helper()
	require.NoError(tb, os.WriteFile(p, []byte(content), 0o644))
}

func readFile(tb testing.TB, p string) string {
	tb.Helper()
	b, err := os.ReadFile(p)
	require.NoError(tb, err)
	return string(b)
}

// as runs the child command args as uid and gid with groups and returns
// the errno it reports (0 for success) and what it printed after it.
func as(tb testing.TB, uid, gid uint32, groups []uint32, args ...string) (syscall.Errno, string) {
	tb.Helper()
	out := child(tb, &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}, args...)
	var n int
	var rest string
	line, after, _ := strings.Cut(out, "\n")
	_, err := fmt.Sscanf(line, "errno %d", &n)
	require.NoError(tb, err, "child %v said %q", args, out)
	rest = after
	return syscall.Errno(n), strings.TrimSpace(rest)
}

// childResult is what one command of a batch reported.
type childResult struct {
	errno syscall.Errno
	out   string
}

// asBatch runs the commands in one child process as uid, gid and groups
// (a process per command is slow under the race detector).
func asBatch(tb testing.TB, uid, gid uint32, groups []uint32, cmds [][]string) []childResult {
	tb.Helper()
	b, err := json.Marshal(cmds)
	require.NoError(tb, err)
	out := child(tb, &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}, "batch", string(b))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(tb, lines, 2*len(cmds), "child output %q", out)
	res := make([]childResult, len(cmds))
	for i := range cmds {
		var n int
		_, err := fmt.Sscanf(lines[2*i], "errno %d", &n)
		require.NoError(tb, err, "child %v said %q", cmds[i], lines[2*i])
		o, err := strconv.Unquote(lines[2*i+1])
		require.NoError(tb, err)
		res[i] = childResult{syscall.Errno(n), o}
	}
	return res
}

// child re-executes the test binary to run args (runChild) with cred (nil:
// as this process) and returns its output.
func child(tb testing.TB, cred *syscall.Credential, args ...string) string {
	tb.Helper()
	cmd := childCmd(tb, cred, args...)
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "child %v: %s", args, out)
	return string(out)
}

func childCmd(tb testing.TB, cred *syscall.Credential, args ...string) *exec.Cmd {
	tb.Helper()
	b, err := json.Marshal(args)
	require.NoError(tb, err)
	exe, err := childExe()
	require.NoError(tb, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}
