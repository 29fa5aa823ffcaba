package mount_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// getdents reads one batch of names from the directory fd with a user
// buffer of size bytes, "." and ".." left out; done at the end.
func getdents(tb testing.TB, fd, size int) (names []string, done bool) {
	tb.Helper()
	buf := make([]byte, size)
	n, err := unix.Getdents(fd, buf)
	require.NoError(tb, err)
	if n == 0 {
		return nil, true
	}
	for b := buf[:n]; len(b) > 0; {
		reclen := int(binary.LittleEndian.Uint16(b[16:18]))
		name := b[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if s := string(name); s != "." && s != ".." {
			names = append(names, s)
		}
		b = b[reclen:]
	}
	return names, false
}

func touch(tb testing.TB, p string) {
	tb.Helper()
	fd, err := syscall.Open(p, syscall.O_CREAT|syscall.O_WRONLY, 0o644)
	require.NoError(tb, err)
	require.NoError(tb, syscall.Close(fd))
}

// TestMount_ReadDirConcurrentChanges lists a directory of several meta
// pages with small getdents buffers (so the kernel often resumes in the
// middle of its last reply, which may span two pages) while names that
// sort before the listing's position are created and removed. POSIX lets
// the changed names show or not; every name present throughout must show
// exactly once.
func TestMount_ReadDirConcurrentChanges(t *testing.T) {
	t.Run("readdir", func(t *testing.T) { readDirChurn(t, mountT(t)) })
	// With an entry timeout the kernel asks READDIRPLUS with attributes.
	t.Run("readdirplus", func(t *testing.T) {
		readDirChurn(t, mountOpts(t, mount.Options{EntryTimeout: time.Second, AttrTimeout: time.Second}))
	})
}

func readDirChurn(t *testing.T, e *env) {
	n := 3000
	if raceEnabled {
		n = 1500 // still two pages of meta's listing (1024)
	}
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	for i := 0; i < n; i++ {
		touch(t, e.path("d", fmt.Sprintf("m%05d", i)))
	}
	fd, err := syscall.Open(e.path("d"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	seen := make(map[string]int)
	for i := 0; ; i++ {
		names, done := getdents(t, fd, 512)
		if done {
			break
		}
		for _, nm := range names {
			seen[nm]++
		}
		// Churn before the cursor: one name added, one earlier one removed.
		touch(t, e.path("d", fmt.Sprintf("a%05d", i)))
		if i%2 == 1 {
			require.NoError(t, os.Remove(e.path("d", fmt.Sprintf("a%05d", i-1))))
		}
		require.Less(t, i, 10*n, "listing does not end")
	}
	for i := 0; i < n; i++ {
		nm := fmt.Sprintf("m%05d", i)
		require.Equal(t, 1, seen[nm], "entry %s seen %d times", nm, seen[nm])
	}
	for nm, c := range seen {
		require.Equal(t, 1, c, "entry %s seen %d times", nm, c)
	}
}

// TestMount_RewindDir: after rewinddir the stream refers to the current
// state of the directory, as a new opendir would (POSIX rewinddir).
func TestMount_RewindDir(t *testing.T) {
	e := mountT(t)
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	touch(t, e.path("d", "old"))
	touch(t, e.path("d", "gone"))
	fd, err := syscall.Open(e.path("d"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	readAll := func() []string {
		var all []string
		for {
			names, done := getdents(t, fd, 4096)
			if done {
				return all
			}
			all = append(all, names...)
		}
	}
	require.ElementsMatch(t, []string{"gone", "old"}, readAll())
	touch(t, e.path("d", "new"))
	require.NoError(t, os.Remove(e.path("d", "gone")))
	_, err = unix.Seek(fd, 0, 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"new", "old"}, readAll())
}

// TestMount_SeekDirBack: an lseek back to an offset an earlier read ended
// at (telldir/seekdir) resumes the listing there, whether the handle
// still holds that page or reads it again.
func TestMount_SeekDirBack(t *testing.T) {
	e := mountT(t)
	n := 2500
	if raceEnabled {
		n = 1500 // the mark in a page the handle still holds
	}
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	for i := 0; i < n; i++ {
		touch(t, e.path("d", fmt.Sprintf("m%05d", i)))
	}
	fd, err := syscall.Open(e.path("d"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	var first []string
	var mark int64 = -1
	k := 0
	for {
		names, done := getdents(t, fd, 512)
		if done {
			break
		}
		first = append(first, names...)
		if mark < 0 && len(first) >= 300 {
			mark, err = unix.Seek(fd, 0, 1)
			require.NoError(t, err)
			k = len(first)
		}
	}
	require.Len(t, first, n)
	touch(t, e.path("d", "z-new")) // after the mark, in the last page
	_, err = unix.Seek(fd, mark, 0)
	require.NoError(t, err)
	var again []string
	for {
		names, done := getdents(t, fd, 4096)
		if done {
			break
		}
		again = append(again, names...)
	}
	// A name added since opendir may show or not (POSIX), once at most.
	if len(again) > 0 && again[len(again)-1] == "z-new" {
		again = again[:len(again)-1]
	}
	require.Equal(t, first[k:], again)
}
