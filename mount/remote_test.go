package mount_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/metarpc/client"
	"github.com/fsmeta/fsmeta/metarpc/server"
	"github.com/fsmeta/fsmeta/mount"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestMount_Remote mounts a meta server's Go client (an in-process
// metarpc server over memkv, on 127.0.0.1:0) and drives it through the
// kernel: errors, handles and locks cross gRPC.
func TestMount_Remote(t *testing.T) {
	requireFUSE(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := meta.Open(context.Background(), memkv.New(memkv.Options{}), meta.Options{})
	require.NoError(t, err)
	srv, err := server.New(store, server.Config{Addr: "127.0.0.1:0", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, srv.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-served)
		checkStore(t, store)
	})
	c, err := client.Dial(context.Background(), srv.Addr(), client.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Shutdown(context.Background())) })

	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	m, err := mount.Mount(context.Background(), c, mnt, mount.Options{DataDir: filepath.Join(dir, "data"), Logger: quiet})
	require.NoError(t, err)
	e := &env{dir: mnt, data: filepath.Join(dir, "data"), store: store, db: store.Engine(), srv: m}
	// Before the client's session ends: the mount closed what it opened.
	t.Cleanup(func() { checkNoHandles(t, store) })
	t.Cleanup(func() { e.unmount(t) })

	// Files, sizes and holes.
	writeFile(t, e.path("f"), "remote")
	require.Equal(t, "remote", readFile(t, e.path("f")))
	require.NoError(t, os.Truncate(e.path("f"), 10))
	require.Equal(t, "remote\x00\x00\x00\x00", readFile(t, e.path("f")))
	a, err := store.Stat(context.Background(), meta.RootCred(), "/f")
	require.NoError(t, err)
	require.Equal(t, uint64(10), a.Size, "size reached the store")

	// Errnos cross the wire.
	requireErrno(t, syscall.EEXIST, syscall.Mkdir(e.path("f"), 0o755))
	requireErrno(t, syscall.ENOENT, syscall.Unlink(e.path("nope")))
	require.NoError(t, os.Mkdir(e.path("d"), 0o755))
	writeFile(t, e.path("d", "x"), "x")
	requireErrno(t, syscall.ENOTEMPTY, syscall.Rmdir(e.path("d")))
	requireErrno(t, syscall.EEXIST, unix.Renameat2(unix.AT_FDCWD, e.path("f"), unix.AT_FDCWD, e.path("d"), unix.RENAME_NOREPLACE))
	_, err = unix.Getxattr(e.path("f"), "user.none", nil)
	requireErrno(t, syscall.ENODATA, err)

	// A listing over more than one page.
	var want []string
	for i := 0; i < 1100; i++ {
		nm := fmt.Sprintf("e%04d", i)
		touch(t, e.path("d", nm))
		want = append(want, nm)
	}
	want = append(want, "x")
	f, err := os.Open(e.path("d"))
	require.NoError(t, err)
	got, err := f.Readdirnames(-1)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	sort.Strings(got)
	require.Equal(t, want, got)

	// Unlink while open; locks.
	g, err := os.OpenFile(e.path("f"), os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(g.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	require.NoError(t, syscall.FcntlFlock(g.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 4}))
	require.NoError(t, os.Remove(e.path("f")))
	b := make([]byte, 6)
	_, err = g.ReadAt(b, 0)
	require.NoError(t, err)
	require.Equal(t, "remote", string(b))
	require.NoError(t, g.Close())
	require.NoError(t, os.RemoveAll(e.path("d")))
}
