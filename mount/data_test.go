package mount_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// dataPath is the data file of the inode at p.
func (e *env) dataPath(tb testing.TB, p string) string {
	tb.Helper()
	var st syscall.Stat_t
	require.NoError(tb, syscall.Stat(p, &st))
	return filepath.Join(e.data, strconv.FormatUint(st.Ino, 10))
}

func requireGone(tb testing.TB, data, msg string) {
	tb.Helper()
	require.Eventually(tb, func() bool {
		_, err := os.Stat(data)
		return os.IsNotExist(err)
	}, 5*time.Second, 5*time.Millisecond, msg)
}

// TestMount_UnlinkOpenBeforeWrite: a file removed while open before it had
// any contents, then written through its descriptor, keeps them readable
// until the last close, and its data file goes then.
func TestMount_UnlinkOpenBeforeWrite(t *testing.T) {
	e := mountT(t)
	for _, how := range []string{"unlink", "rename-over"} {
		p := e.path("f-" + how)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
		require.NoError(t, err)
		data := e.dataPath(t, p)
		if how == "unlink" {
			require.NoError(t, os.Remove(p))
		} else {
			writeFile(t, p+".new", "replacement")
			require.NoError(t, os.Rename(p+".new", p))
			require.Equal(t, "replacement", readFile(t, p))
		}
		_, err = f.WriteAt([]byte("late data"), 0)
		require.NoError(t, err)
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		require.Equal(t, "late data", string(b[:n]), how)
		require.NoError(t, f.Close())
		requireGone(t, data, how+": data file removed after the last close")
	}
}

// TestMount_RenameOverOpen: the victim of a rename stays readable through
// its descriptor and its data goes at the last close, not before.
func TestMount_RenameOverOpen(t *testing.T) {
	e := mountT(t)
	p := e.path("victim")
	writeFile(t, p, "victim data")
	data := e.dataPath(t, p)
	f, err := os.Open(p)
	require.NoError(t, err)
	g, err := os.Open(p) // a second descriptor, closed first
	require.NoError(t, err)
	writeFile(t, e.path("src"), "new")
	require.NoError(t, os.Rename(e.path("src"), p))
	require.Equal(t, "new", readFile(t, p))
	require.NoError(t, g.Close())
	time.Sleep(50 * time.Millisecond) // let the RELEASE of g arrive
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	require.Equal(t, "victim data", string(b[:n]))
	_, err = os.Stat(data)
	require.NoError(t, err, "data kept while a descriptor is open")
	require.Equal(t, 1, handleRecords(t, e.store), "f's handle is recorded in meta")
	require.NoError(t, f.Close())
	requireGone(t, data, "data file removed after the last close")
}

// TestMount_SparseAndTruncateOpen: a write past the end leaves a hole that
// reads as zeros; a truncate by path while the file is open is seen by the
// open descriptor's next writes; two O_APPEND descriptors interleave.
func TestMount_SparseAndTruncateOpen(t *testing.T) {
	e := mountT(t)
	p := e.path("sparse")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	defer f.Close()
	const off = 3 << 20
	_, err = f.WriteAt([]byte("end"), off)
	require.NoError(t, err)
	st := statT(t, p)
	require.Equal(t, int64(off+3), st.Size)
	b := make([]byte, 8)
	_, err = f.ReadAt(b, off-5)
	require.NoError(t, err)
	require.Equal(t, "\x00\x00\x00\x00\x00end", string(b))

	require.NoError(t, os.Truncate(p, 2))
	require.Equal(t, int64(2), statT(t, p).Size)
	_, err = f.WriteAt([]byte("xy"), 4)
	require.NoError(t, err)
	require.Equal(t, int64(6), statT(t, p).Size, "write after a truncate by path grows the size again")
	require.Equal(t, "\x00\x00\x00\x00xy", readFile(t, p))

	q := e.path("log")
	a1, err := os.OpenFile(q, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	a2, err := os.OpenFile(q, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err = a1.WriteString("1")
		require.NoError(t, err)
		_, err = a2.WriteString("22")
		require.NoError(t, err)
	}
	require.NoError(t, a1.Close())
	require.NoError(t, a2.Close())
	require.Equal(t, "122122122122122", readFile(t, q))
}

// TestMount_UnsupportedErrnos: what the mount does not implement fails
// with the errno a local filesystem without the feature gives, not ENOSYS
// (which the kernel would also remember for the whole mount).
func TestMount_UnsupportedErrnos(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "0123456789")
	fd, err := syscall.Open(p, syscall.O_RDWR, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	const punch, keep = 0x02, 0x01
	requireErrno(t, syscall.EOPNOTSUPP, syscall.Fallocate(fd, punch|keep, 0, 4), "punch a hole")
	require.NoError(t, syscall.Fallocate(fd, 0, 0, 20), "posix_fallocate still works after")
	require.Equal(t, int64(20), statT(t, p).Size)
	requireErrno(t, syscall.EINVAL, unix.Renameat2(unix.AT_FDCWD, p, unix.AT_FDCWD, e.path("g"), unix.RENAME_WHITEOUT), "RENAME_WHITEOUT")
	_, err = unix.Open(e.dir, unix.O_TMPFILE|unix.O_RDWR, 0o600)
	requireErrno(t, syscall.EOPNOTSUPP, err, "O_TMPFILE")
}

// TestMount_UnmountWithOpenFile: Unmount fails while a file is open and
// the mount keeps serving it; after a lazy unmount the descriptor still
// works, and when it closes the server stops having closed its handles.
func TestMount_UnmountWithOpenFile(t *testing.T) {
	e := mountT(t)
	writeFile(t, e.path("f"), "open")
	f, err := os.Open(e.path("f"))
	require.NoError(t, err)
	require.Error(t, e.srv.Unmount(), "unmount while a file is open")
	require.Equal(t, "open", readFile(t, e.path("f")), "still mounted")
	out, err := exec.Command("fusermount3", "-u", "-z", e.dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	b := make([]byte, 4)
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	require.Equal(t, "open", string(b))
	require.NoError(t, f.Close())
	done := make(chan struct{})
	go func() { e.srv.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10 s after the last close of a lazily unmounted mount")
	}
	require.Zero(t, handleRecords(t, e.store))
}
