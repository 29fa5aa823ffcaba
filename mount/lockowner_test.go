package mount_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMount_CloseOtherFdDropsLocks: closing any descriptor of a file drops
// the POSIX locks its process holds on the file, even those taken through
// another descriptor (close(2)); locks of other processes stay.
func TestMount_CloseOtherFdDropsLocks(t *testing.T) {
	e := mountT(t)
	p := e.path("f")
	writeFile(t, p, "0123456789")
	f1, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f1.Close()
	f2, err := os.Open(p)
	require.NoError(t, err)
	require.NoError(t, syscall.FcntlFlock(f1.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 4}))
	got, _ := as(t, 0, 0, nil, "setlk", p, "0", "1")
	require.Equal(t, syscall.EAGAIN, got, "locked through f1")
	require.NoError(t, f2.Close())
	got, _ = as(t, 0, 0, nil, "setlk", p, "0", "1")
	require.Equal(t, syscall.Errno(0), got, "closing f2 dropped the lock taken through f1")

	// Another process's close leaves this one's locks.
	require.NoError(t, syscall.FcntlFlock(f1.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 4}))
	got, _ = as(t, 0, 0, nil, "read", p)
	require.Equal(t, syscall.Errno(0), got)
	got, _ = as(t, 0, 0, nil, "setlk", p, "0", "1")
	require.Equal(t, syscall.EAGAIN, got, "a reader's close does not drop our lock")
}
