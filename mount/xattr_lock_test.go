package mount_test

import (
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMount_Xattr(t *testing.T) {
	e := mountT(t)

	p := e.path("f")
	writeFile(t, p, "x")
	require.NoError(t, syscall.Setxattr(p, "user.color", []byte("blue"), 0))
	require.NoError(t, syscall.Setxattr(p, "user.empty", nil, 0))

	n, err := syscall.Getxattr(p, "user.color", nil)
	require.NoError(t, err, "size probe")
	require.Equal(t, 4, n)
	buf := make([]byte, 2)
	_, err = syscall.Getxattr(p, "user.color", buf)
	requireErrno(t, syscall.ERANGE, err, "buffer too small")
	buf = make([]byte, 64)
	n, err = syscall.Getxattr(p, "user.color", buf)
	require.NoError(t, err)
	require.Equal(t, "blue", string(buf[:n]))
	n, err = syscall.Getxattr(p, "user.empty", buf)
	require.NoError(t, err)
	require.Zero(t, n)

	n, err = syscall.Listxattr(p, nil)
	require.NoError(t, err)
	require.Equal(t, len("user.color\x00user.empty\x00"), n)
	_, err = syscall.Listxattr(p, make([]byte, 3))
	requireErrno(t, syscall.ERANGE, err)
	lb := make([]byte, 256)
	n, err = syscall.Listxattr(p, lb)
	require.NoError(t, err)
	names := strings.Split(strings.TrimSuffix(string(lb[:n]), "\x00"), "\x00")
	sort.Strings(names)
	require.Equal(t, []string{"user.color", "user.empty"}, names)

	requireErrno(t, syscall.EEXIST, syscall.Setxattr(p, "user.color", []byte("red"), 1 /* XATTR_CREATE */))
	requireErrno(t, syscall.ENODATA, syscall.Setxattr(p, "user.none", []byte("red"), 2 /* XATTR_REPLACE */))
	require.NoError(t, syscall.Setxattr(p, "user.color", []byte("red"), 2))
	n, err = syscall.Getxattr(p, "user.color", buf)
	require.NoError(t, err)
	require.Equal(t, "red", string(buf[:n]))
	require.NoError(t, syscall.Removexattr(p, "user.color"))
	_, err = syscall.Getxattr(p, "user.color", buf)
	requireErrno(t, syscall.ENODATA, err)
	requireErrno(t, syscall.ENODATA, syscall.Removexattr(p, "user.color"))

	// On a directory, and as another user without write permission.
	require.NoError(t, syscall.Setxattr(e.dir, "user.top", []byte("1"), 0))
	require.NoError(t, os.Chmod(p, 0o644))
	got, _ := as(t, alice, alice, nil, "setxattr", p, "user.x", "v")
	require.Equal(t, syscall.EACCES, got, "setxattr without write permission")
	require.NoError(t, syscall.Setxattr(p, "user.shared", []byte("hi"), 0))
	got, out := as(t, alice, alice, nil, "getxattr", p, "user.shared")
	require.Equal(t, syscall.Errno(0), got)
	require.Equal(t, "hi", out)
}

func TestMount_Flock(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "x")
	f1, err := os.Open(p)
	require.NoError(t, err)
	defer f1.Close()
	f2, err := os.Open(p)
	require.NoError(t, err)
	defer f2.Close()
	require.NoError(t, syscall.Flock(int(f1.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	requireErrno(t, syscall.EWOULDBLOCK, syscall.Flock(int(f2.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "second open file, same process")
	requireErrno(t, syscall.EWOULDBLOCK, syscall.Flock(int(f2.Fd()), syscall.LOCK_SH|syscall.LOCK_NB), "shared under exclusive")
	got, _ := as(t, 0, 0, nil, "flock", p)
	require.Equal(t, syscall.EWOULDBLOCK, got, "another process")
	require.NoError(t, syscall.Flock(int(f1.Fd()), syscall.LOCK_UN))
	got, _ = as(t, 0, 0, nil, "flock", p)
	require.Equal(t, syscall.Errno(0), got, "after unlock")

	// A blocking flock waits for the holder's close.
	require.NoError(t, syscall.Flock(int(f1.Fd()), syscall.LOCK_EX))
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f2.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		t.Fatalf("LOCK_EX granted while held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, f1.Close()) // closing drops the lock
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("LOCK_EX not granted after the holder closed")
	}
	require.NoError(t, syscall.Flock(int(f2.Fd()), syscall.LOCK_UN))

	// flock on a directory.
	d, err := os.Open(e.dir)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	got, _ = as(t, 0, 0, nil, "flock", e.dir)
	require.Equal(t, syscall.EWOULDBLOCK, got, "directory locked by another process")
}

func TestMount_PosixLocks(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "0123456789")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 2, Len: 4}
	require.NoError(t, syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk))
	got, out := as(t, 0, 0, nil, "setlk", p, "0", "3")
	require.Equal(t, syscall.EAGAIN, got, "overlapping write lock from another process: %s", out)
	got, _ = as(t, 0, 0, nil, "setlk", p, "6", "0")
	require.Equal(t, syscall.Errno(0), got, "lock after the range, to EOF")
	got, out = as(t, 0, 0, nil, "getlk", p, "0", "0")
	require.Equal(t, syscall.Errno(0), got)
	require.Equal(t, "write 2 4 "+strconv.Itoa(os.Getpid()), out, "F_GETLK names the holder")
	// Unlock the middle: [2,3) and [5,6) stay locked.
	lk = syscall.Flock_t{Type: syscall.F_UNLCK, Start: 3, Len: 2}
	require.NoError(t, syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk))
	got, _ = as(t, 0, 0, nil, "setlk", p, "3", "2")
	require.Equal(t, syscall.Errno(0), got, "the unlocked middle")
	got, _ = as(t, 0, 0, nil, "setlk", p, "5", "1")
	require.Equal(t, syscall.EAGAIN, got, "the split-off tail")
	require.NoError(t, f.Close()) // closing drops the process's locks
	got, _ = as(t, 0, 0, nil, "setlk", p, "0", "0")
	require.Equal(t, syscall.Errno(0), got, "after close")
}

// TestMount_FlockAndAttrTools drives the mount with flock(1) and attr's
// setfattr(1)/getfattr(1), the tools people reach for.
func TestMount_FlockAndAttrTools(t *testing.T) {
	flockBin := requireTool(t, "flock")
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "x")

	f, err := os.Open(p)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	out, err := exec.Command(flockBin, "-n", "-E", "75", p, "-c", "true").CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "flock -n while held: %s", out)
	require.Equal(t, 75, ee.ExitCode(), "flock -n reports the conflict: %s", out)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_UN))
	run(t, flockBin, "-n", p, "-c", "true")
	// A shared lock is granted when nothing is held.
	run(t, flockBin, "-s", "-n", p, "-c", "true")

	if _, err := exec.LookPath("setfattr"); err != nil {
		t.Skip("skipping the attr tools: setfattr is not installed (Debian: apt-get install -y attr)")
	}
	run(t, "setfattr", "-n", "user.color", "-v", "blue", p)
	require.Equal(t, "blue", run(t, "getfattr", "--absolute-names", "--only-values", "-n", "user.color", p))
	dump := run(t, "getfattr", "-d", "--absolute-names", p)
	require.Contains(t, dump, `user.color="blue"`)
	run(t, "setfattr", "-x", "user.color", p)
	cmd := exec.Command("getfattr", "-n", "user.color", p)
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "getfattr after setfattr -x: %s", out)
	require.Contains(t, string(out), "No such attribute")
}
