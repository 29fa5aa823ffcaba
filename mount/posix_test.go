package mount_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestMount_CreateReadWrite(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	fd, err := syscall.Open(p, syscall.O_CREAT|syscall.O_EXCL|syscall.O_RDWR, 0o640)
	require.NoError(t, err)
	_, err = syscall.Write(fd, []byte("hello, "))
	require.NoError(t, err)
	_, err = syscall.Pwrite(fd, []byte("world"), 7)
	require.NoError(t, err)
	require.NoError(t, syscall.Close(fd))
	require.Equal(t, "hello, world", readFile(t, p))

	_, err = syscall.Open(p, syscall.O_CREAT|syscall.O_EXCL|syscall.O_RDWR, 0o640)
	requireErrno(t, syscall.EEXIST, err)

	st, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, int64(12), st.Size())
	require.Equal(t, os.FileMode(0o640), st.Mode().Perm())

	// O_CREAT without O_EXCL opens the existing file; O_TRUNC empties it.
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("new")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "new", readFile(t, p))

	// Append.
	f, err = os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString("+more")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "new+more", readFile(t, p))

	// A larger file, written in pieces bigger than one FUSE write.
	big := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB
	writeFile(t, e.path("big"), big)
	require.Equal(t, big, readFile(t, e.path("big")))
}

func TestMount_Errnos(t *testing.T) {
	e := mountT(t)
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	writeFile(t, e.path("d", "f"), "x")

	requireErrno(t, syscall.EEXIST, syscall.Mkdir(e.path("d"), 0o755), "mkdir existing")
	requireErrno(t, syscall.ENOENT, syscall.Mkdir(e.path("nope", "x"), 0o755), "mkdir under missing")
	requireErrno(t, syscall.ENOTDIR, syscall.Mkdir(e.path("d", "f", "x"), 0o755), "mkdir under a file")
	requireErrno(t, syscall.ENOTEMPTY, syscall.Rmdir(e.path("d")), "rmdir non-empty")
	requireErrno(t, syscall.ENOTDIR, syscall.Rmdir(e.path("d", "f")), "rmdir a file")
	requireErrno(t, syscall.EISDIR, syscall.Unlink(e.path("d")), "unlink a directory")
	requireErrno(t, syscall.ENOENT, syscall.Unlink(e.path("d", "nope")), "unlink missing")
	_, err := os.Stat(e.path("nope"))
	requireErrno(t, syscall.ENOENT, err, "stat missing")
	_, err = syscall.Open(e.path("d"), syscall.O_WRONLY, 0)
	requireErrno(t, syscall.EISDIR, err, "open a directory for writing")
	requireErrno(t, syscall.EISDIR, syscall.Truncate(e.path("d"), 0), "truncate a directory")
	requireErrno(t, syscall.ENAMETOOLONG, syscall.Mkdir(e.path(strings.Repeat("n", 256)), 0o755), "name over 255 bytes")
	require.NoError(t, syscall.Mkdir(e.path(strings.Repeat("n", 255)), 0o755), "name of 255 bytes")
	require.NoError(t, syscall.Rmdir(e.path(strings.Repeat("n", 255))))
	requireErrno(t, syscall.ENOTEMPTY, syscall.Rename(e.path("d", "f"), e.path("d")), "rename onto an ancestor")
	requireErrno(t, syscall.EINVAL, syscall.Rename(e.path("d"), e.path("d", "sub")), "rename a directory into itself")
	require.NoError(t, os.Remove(e.path("d", "f")))
	require.NoError(t, os.Remove(e.path("d")))
}

func TestMount_Rename(t *testing.T) {
	e := mountT(t)
	writeFile(t, e.path("a"), "A")
	writeFile(t, e.path("b"), "B")
	require.NoError(t, syscall.Rename(e.path("a"), e.path("b")), "file over file")
	require.Equal(t, "A", readFile(t, e.path("b")))
	_, err := os.Stat(e.path("a"))
	requireErrno(t, syscall.ENOENT, err)

	require.NoError(t, os.Mkdir(e.path("d1"), 0o755))
	require.NoError(t, os.Mkdir(e.path("d2"), 0o755))
	writeFile(t, e.path("d1", "in"), "in")
	require.NoError(t, syscall.Rename(e.path("d1"), e.path("d2")), "dir over empty dir")
	require.Equal(t, "in", readFile(t, e.path("d2", "in")))
	require.NoError(t, os.Mkdir(e.path("d3"), 0o755))
	requireErrno(t, syscall.ENOTEMPTY, syscall.Rename(e.path("d3"), e.path("d2")), "dir over non-empty dir")
	requireErrno(t, syscall.EISDIR, syscall.Rename(e.path("b"), e.path("d3")), "file over dir")
	requireErrno(t, syscall.ENOTDIR, syscall.Rename(e.path("d3"), e.path("b")), "dir over file")

	// Across directories, and the parent's nlink follows.
	require.NoError(t, syscall.Rename(e.path("d3"), e.path("d2", "d3")))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("d2"), &st))
	require.Equal(t, uint64(3), uint64(st.Nlink))

	// renameat2.
	writeFile(t, e.path("x"), "X")
	writeFile(t, e.path("y"), "Y")
	requireErrno(t, syscall.EEXIST, unix.Renameat2(unix.AT_FDCWD, e.path("x"), unix.AT_FDCWD, e.path("y"), unix.RENAME_NOREPLACE), "NOREPLACE onto existing")
	require.NoError(t, unix.Renameat2(unix.AT_FDCWD, e.path("x"), unix.AT_FDCWD, e.path("z"), unix.RENAME_NOREPLACE))
	require.NoError(t, unix.Renameat2(unix.AT_FDCWD, e.path("z"), unix.AT_FDCWD, e.path("y"), unix.RENAME_EXCHANGE))
	require.Equal(t, "X", readFile(t, e.path("y")))
	require.Equal(t, "Y", readFile(t, e.path("z")))
	require.NoError(t, unix.Renameat2(unix.AT_FDCWD, e.path("z"), unix.AT_FDCWD, e.path("d2"), unix.RENAME_EXCHANGE), "exchange a file and a directory")
	require.Equal(t, "Y", readFile(t, e.path("d2")))
	require.Equal(t, "in", readFile(t, e.path("z", "in")))
	requireErrno(t, syscall.ENOENT, unix.Renameat2(unix.AT_FDCWD, e.path("y"), unix.AT_FDCWD, e.path("none"), unix.RENAME_EXCHANGE), "exchange with nothing")
	requireErrno(t, syscall.EINVAL, unix.Renameat2(unix.AT_FDCWD, e.path("y"), unix.AT_FDCWD, e.path("d2"), unix.RENAME_EXCHANGE|unix.RENAME_NOREPLACE))
}

func TestMount_LinkSymlink(t *testing.T) {
	e := mountT(t)
	writeFile(t, e.path("f"), "data")
	require.NoError(t, os.Link(e.path("f"), e.path("g")))
	var st, st2 syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("f"), &st))
	require.NoError(t, syscall.Stat(e.path("g"), &st2))
	require.Equal(t, uint64(2), uint64(st.Nlink))
	require.Equal(t, st.Ino, st2.Ino)
	require.NoError(t, os.Remove(e.path("f")))
	require.NoError(t, syscall.Stat(e.path("g"), &st))
	require.Equal(t, uint64(1), uint64(st.Nlink))
	require.Equal(t, "data", readFile(t, e.path("g")))
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	requireErrno(t, syscall.EPERM, os.Link(e.path("d"), e.path("d2")), "link a directory")
	requireErrno(t, syscall.EEXIST, os.Link(e.path("g"), e.path("d")), "link onto existing")

	require.NoError(t, os.Symlink("g", e.path("s")))
	target, err := os.Readlink(e.path("s"))
	require.NoError(t, err)
	require.Equal(t, "g", target)
	require.Equal(t, "data", readFile(t, e.path("s")), "through the link")
	fi, err := os.Lstat(e.path("s"))
	require.NoError(t, err)
	require.Equal(t, os.ModeSymlink, fi.Mode().Type())
	require.Equal(t, int64(1), fi.Size())
	require.NoError(t, os.Symlink("/nowhere/at/all", e.path("dangling")))
	_, err = os.Stat(e.path("dangling"))
	requireErrno(t, syscall.ENOENT, err)
	require.NoError(t, os.Symlink("loop", e.path("loop")))
	_, err = os.Stat(e.path("loop"))
	requireErrno(t, syscall.ELOOP, err)
	_, err = os.Readlink(e.path("g"))
	requireErrno(t, syscall.EINVAL, err, "readlink of a file")
	// mknod of a FIFO and a socket node.
	require.NoError(t, syscall.Mknod(e.path("fifo"), syscall.S_IFIFO|0o600, 0))
	fi, err = os.Lstat(e.path("fifo"))
	require.NoError(t, err)
	require.Equal(t, os.ModeNamedPipe, fi.Mode().Type())
}

func TestMount_SetAttr(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "0123456789")
	require.NoError(t, syscall.Chmod(p, 0o4751))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o751)|os.ModeSetuid, fi.Mode()&(os.ModePerm|os.ModeSetuid))

	require.NoError(t, os.Chown(p, 1234, 5678))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(p, &st))
	require.Equal(t, uint32(1234), st.Uid)
	require.Equal(t, uint32(5678), st.Gid)
	require.Zero(t, st.Mode&syscall.S_ISUID, "chown clears setuid")

	require.NoError(t, os.Truncate(p, 4))
	require.Equal(t, "0123", readFile(t, p))
	require.NoError(t, os.Truncate(p, 6))
	require.Equal(t, "0123\x00\x00", readFile(t, p))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2))
	require.NoError(t, f.Close())
	require.Equal(t, "01", readFile(t, p))

	past := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	require.NoError(t, os.Chtimes(p, past, past))
	require.NoError(t, syscall.Stat(p, &st))
	require.Equal(t, past.UnixNano(), st.Mtim.Nano())
	require.Equal(t, past.UnixNano(), st.Atim.Nano())
	before := time.Now().Add(-time.Second)
	require.NoError(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_OMIT}}, 0))
	require.NoError(t, syscall.Stat(p, &st))
	require.True(t, time.Unix(0, st.Atim.Nano()).After(before), "UTIME_NOW atime")
	require.Equal(t, past.UnixNano(), st.Mtim.Nano(), "UTIME_OMIT mtime")

	// A directory's times, set into the past as tar does.
	require.NoError(t, os.Mkdir(e.path("d"), 0o700))
	require.NoError(t, os.Chtimes(e.path("d"), past, past))
	require.NoError(t, syscall.Stat(e.path("d"), &st))
	require.Equal(t, past.UnixNano(), st.Mtim.Nano())

	// A write moves mtime (and the stat shows it before the close).
	require.NoError(t, os.Chtimes(p, past, past))
	f, err = os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("Z"), 0)
	require.NoError(t, err)
	require.NoError(t, syscall.Stat(p, &st))
	require.True(t, time.Unix(0, st.Mtim.Nano()).After(before), "mtime after an in-place write, file open")
	require.NoError(t, f.Close())
	require.NoError(t, syscall.Stat(p, &st))
	require.True(t, time.Unix(0, st.Mtim.Nano()).After(before), "mtime after an in-place write, closed")
	require.Equal(t, "Z1", readFile(t, p))
}

func TestMount_ReadDirLarge(t *testing.T) {
	e := mountT(t)
	n := 5000
	if raceEnabled {
		n = 1500 // still more than one page of meta's listing (1024)
	}
	require.NoError(t, os.Mkdir(e.path("big"), 0o755))
	want := make([]string, 0, n)
	for i := 0; i < n; i++ {
		name := "entry-with-a-longish-name-" + strconv.Itoa(i)
		want = append(want, name)
		fd, err := syscall.Open(e.path("big", name), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
		require.NoError(t, err)
		require.NoError(t, syscall.Close(fd))
	}
	sort.Strings(want)
	f, err := os.Open(e.path("big"))
	require.NoError(t, err)
	defer f.Close()
	var got []string
	for {
		names, err := f.Readdirnames(100) // many getdents calls
		got = append(got, names...)
		if err != nil {
			break
		}
	}
	sort.Strings(got)
	require.Equal(t, want, got)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(e.path("big"), &st))
	require.Equal(t, uint64(2), uint64(st.Nlink))

	// Rewind and read again from the start.
	_, err = f.Seek(0, 0)
	require.NoError(t, err)
	names, err := f.Readdirnames(-1)
	require.NoError(t, err)
	require.Len(t, names, n)
}

func TestMount_UnlinkWhileOpen(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "still here")
	f, err := os.Open(p)
	require.NoError(t, err)
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(p, &st))
	data := filepath.Join(e.data, strconv.FormatUint(st.Ino, 10))
	_, err = os.Stat(data)
	require.NoError(t, err, "data file exists")

	require.NoError(t, os.Remove(p))
	_, err = os.Stat(p)
	requireErrno(t, syscall.ENOENT, err)
	b := make([]byte, 64)
	n, err := f.ReadAt(b, 0)
	require.Equal(t, "still here", string(b[:n]), "read after unlink: %v", err)
	require.NoError(t, syscall.Fstat(int(f.Fd()), &st))
	require.Equal(t, uint64(0), uint64(st.Nlink))
	_, err = os.Stat(data)
	require.NoError(t, err, "data kept while open")
	require.NoError(t, f.Close())
	// The kernel sends RELEASE asynchronously after close.
	require.Eventually(t, func() bool {
		_, err := os.Stat(data)
		return os.IsNotExist(err)
	}, 5*time.Second, 5*time.Millisecond, "data file removed after the last close")

	// A plain unlink removes the data at once.
	writeFile(t, p, "gone")
	require.NoError(t, syscall.Stat(p, &st))
	data = filepath.Join(e.data, strconv.FormatUint(st.Ino, 10))
	require.Eventually(t, func() bool { _, err := os.Stat(data); return err == nil }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return false
		}
		_, err := os.Stat(data)
		return os.IsNotExist(err)
	}, 5*time.Second, 5*time.Millisecond, "data file removed after unlink")
}

func TestMount_StatFs(t *testing.T) {
	e := mountT(t)
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(e.dir, &st))
	require.NotZero(t, st.Blocks)
	require.NotZero(t, st.Bsize)
	require.LessOrEqual(t, st.Bfree, st.Blocks)
	require.LessOrEqual(t, st.Ffree, st.Files)
	require.Equal(t, int64(255), st.Namelen)
	require.Equal(t, uint32(0x65735546), uint32(st.Type), "FUSE_SUPER_MAGIC")
}

// TestMount_LongPath walks a path of about 4000 bytes by chdir and openat:
// everything goes by inode, so only the kernel's PATH_MAX bounds a path.
func TestMount_LongPath(t *testing.T) {
	e := mountT(t)
	comp := strings.Repeat("p", 200)
	fd, err := syscall.Open(e.dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	require.NoError(t, err)
	full := e.dir
	for i := 0; i < 20; i++ { // 20 * 201 bytes
		require.NoError(t, unix.Mkdirat(fd, comp, 0o755))
		nfd, err := unix.Openat(fd, comp, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		require.NoError(t, err)
		syscall.Close(fd)
		fd = nfd
		full += "/" + comp
	}
	ffd, err := unix.Openat(fd, "leaf", unix.O_CREAT|unix.O_WRONLY, 0o644)
	require.NoError(t, err)
	_, err = syscall.Write(ffd, []byte("deep"))
	require.NoError(t, err)
	syscall.Close(ffd)
	syscall.Close(fd)
	rel := strings.TrimPrefix(full, e.dir+"/") + "/leaf"
	require.Greater(t, len(rel), 4000)
	require.Less(t, len(rel), 4096)

	// The whole relative path in one call, from the mount's root.
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(e.dir))
	defer os.Chdir(wd)
	b, err := os.ReadFile(rel)
	require.NoError(t, err)
	require.Equal(t, "deep", string(b))
	_, err = os.Stat(rel + strings.Repeat("/x", 60))
	requireErrno(t, syscall.ENAMETOOLONG, err, "over PATH_MAX")
	require.NoError(t, os.Chdir(wd))
	require.NoError(t, os.RemoveAll(e.path(comp)))
}
